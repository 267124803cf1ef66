"""The `palace` command line that ops use, run as a real process against a running palace."""
import subprocess
import sys

from tests.e2e.conftest import sign_in
from tests.harness import ROOT


def palace_command(stack, *args, env=None):
    done = subprocess.run([sys.executable, "-m", "ops.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**stack.env, **(env or {})}, timeout=60)
    return done


def test_ops_create_an_admin_who_can_then_sign_in(palace):
    done = palace_command(palace, "create-admin", "--phone", "13811112222", "--name", "Ops Admin",
                          env={"PALACE_NEW_ADMIN_PASSWORD": "ops-admin-pass"})
    assert done.returncode == 0, done.stderr
    admin = sign_in(palace.url, "13811112222", "ops-admin-pass")
    assert "admin" in admin.get("/v1/me").json()["roles"]
    assert admin.get("/v1/accounts").status_code == 200
    short = palace_command(palace, "create-admin", "--phone", "13811113333", env={"PALACE_NEW_ADMIN_PASSWORD": "x"})
    assert short.returncode == 2 and "8 characters" in short.stderr


def test_ops_see_the_outbox_of_every_part_and_the_dead_letters(palace):
    outbox = palace_command(palace, "outbox")
    assert outbox.returncode == 0, outbox.stderr
    for part in ("enrolment", "venues", "welfare", "notify", "gateway"):
        assert part in outbox.stdout
    dead = palace_command(palace, "dead-letters")
    assert dead.returncode == 0, dead.stderr
    assert ".dead" in dead.stdout
