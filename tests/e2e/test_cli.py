"""The `palace` command line that ops use, run as a real process against a running palace."""
import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import uuid

import psycopg
from kombu import Connection
from psycopg.types.json import Jsonb

from services.common import config
from tests.e2e.conftest import Client, new_member, sign_in
from tests.harness import ROOT

OWN_PALACE = True  # it counts a year's calendar days and a dead-letter queue, which other modules also fill


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


def enrolment_db(stack):
    return psycopg.connect(f"{config.pg_server()}/{stack.tag}_enrolment")


def calendar_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


YEAR_2031 = {"year": 2031, "source": "test", "holidays": [{"from": "2031-01-01", "name": "元旦 New Year's Day"},
                                                          {"from": "2031-10-01", "to": "2031-10-07", "name": "国庆节"}],
             "workdays": [{"date": "2031-09-28", "as_weekday": 5, "name": "调休"}]}


def test_ops_import_a_years_holiday_calendar_and_a_broken_file_is_refused_by_line_or_field(palace, tmp_path):
    good = calendar_file(tmp_path, "2031.json", json.dumps(YEAR_2031, ensure_ascii=False))
    done = palace_command(palace, "holidays", "import", good)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"year": 2031, "days": 9, "loaded": True}
    assert "importing holiday calendars: 1/1" in done.stderr, "a plain progress line, not a bar, in a pipe"
    days = Client(palace.url).get("/v1/calendar/2031").json()
    assert [(d["day"], d["kind"]) for d in days][:2] == [("2031-01-01", "holiday"), ("2031-09-28", "workday")]

    again = palace_command(palace, "holidays", "import", good)
    assert json.loads(again.stdout)["loaded"] is False and "--replace" in again.stderr
    fewer = calendar_file(tmp_path, "2031-fixed.json", json.dumps({**YEAR_2031, "workdays": []}))
    replaced = palace_command(palace, "holidays", "import", fewer, "--replace")
    assert replaced.returncode == 0 and json.loads(replaced.stdout) == {"year": 2031, "days": 8, "loaded": True}
    assert len(Client(palace.url).get("/v1/calendar/2031").json()) == 8

    broken = {"syntax.json": ('{"year": 2032,\n "holidays": [{"from": "2032-01-01", "name": "a"}\n}', "line 3 column 1"),
              "date.json": (json.dumps({"year": 2032, "holidays": [{"from": "2032-01-01", "name": "a"},
                                                                    {"from": "2032-02-30", "name": "b"}]}),
                            "holidays[1].from: '2032-02-30' is not a date"),
              "weekday.json": (json.dumps({"year": 2032, "workdays": [{"date": "2032-01-04", "name": "w"}]}),
                               "workdays[0].as_weekday: missing"),
              "year.json": (json.dumps({"year": 2032, "holidays": [{"from": "2033-01-01", "name": "a"}]}),
                            "outside 2032")}
    for name, (text, said) in broken.items():
        refused = palace_command(palace, "holidays", "import", good, calendar_file(tmp_path, name, text), "--replace")
        assert refused.returncode == 2 and said in refused.stderr and "nothing imported" in refused.stderr, \
            (name, refused.stderr)
    assert len(Client(palace.url).get("/v1/calendar/2031").json()) == 8, "the good file of a refused import waits"
    assert Client(palace.url).get("/v1/calendar/2032").json() == []


def test_on_a_terminal_the_import_shows_a_bar(palace, tmp_path):
    good = calendar_file(tmp_path, "2034.json", json.dumps({**YEAR_2031, "year": 2034, "holidays": [], "workdays": []}))
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a width
    done = subprocess.run([sys.executable, "-m", "ops.cli", "holidays", "import", good], cwd=ROOT, env=palace.env,
                          stdout=subprocess.PIPE, stderr=terminal, timeout=60)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert done.returncode == 0
    assert b"importing holiday calendars: 100%|" in shown and b"1/1" in shown, shown


def test_ops_replay_many_dead_letters_with_progress_lines(palace):
    dead = "evt-enrolment--notify.on_enrolment.dead"
    with Connection(palace.env["AMQP_URI"]) as conn:
        producer = conn.Producer()
        for n in range(30):
            producer.publish(b"{not json " + str(n).encode(), exchange="", routing_key=dead, delivery_mode=2,
                             content_type="application/json", headers={"x-palace-reason": "test"})
    done = palace_command(palace, "dead-letters", "--replay", "--queue", dead)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {dead: 30}
    lines = [line for line in done.stderr.splitlines() if line.startswith("replaying dead letters:")]
    assert lines[0] == "replaying dead letters: 3/30" and lines[-1] == "replaying dead letters: 30/30", done.stderr
    assert "\r" not in done.stderr, "no bar outside a terminal"


def test_ops_rerun_a_lottery_draw_to_audit_it(palace, admin):
    course = admin.post("/v1/courses", {"title": "Paper cutting 剪纸", "capacity": 2, "allocation": "lottery",
                                        "draw_at": "2030-01-01T00:00:00+08:00"}).json()["id"]
    for _ in range(5):
        assert new_member(palace.url).post(f"/v1/courses/{course}/enrolments").status_code == 201
    drawn = admin.post(f"/v1/courses/{course}/lottery")
    assert drawn.status_code == 200 and drawn.json()["reproduced"], drawn.text

    audit = palace_command(palace, "lottery", "rerun", course)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "5 entries for 2 seats" in audit.stdout and "match: the re-run gives the recorded result (2 confirmed," \
        " 3 waitlisted)" in audit.stdout

    with enrolment_db(palace) as conn:  # someone edits the recorded result by hand
        result = conn.execute("SELECT result FROM lotteries WHERE course_id = %s", (course,)).fetchone()[0]
        swapped = [{**result[0], "enrolment_id": result[3]["enrolment_id"]}, *result[1:3],
                   {**result[3], "enrolment_id": result[0]["enrolment_id"]}, result[4]]
        conn.execute("UPDATE lotteries SET result = %s WHERE course_id = %s", (Jsonb(swapped), course))
    tampered = palace_command(palace, "lottery", "rerun", course)
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert "MISMATCH" in tampered.stdout and "rank 1: recorded" in tampered.stdout and "rank 4" in tampered.stdout
    assert "rank 2" not in tampered.stdout

    with enrolment_db(palace) as conn:  # or the seed
        conn.execute("UPDATE lotteries SET result = %s, seed = %s WHERE course_id = %s",
                     (Jsonb(result), "0" * 64, course))
    reseeded = palace_command(palace, "lottery", "rerun", course)
    assert reseeded.returncode == 1 and "the seed is not the one" in reseeded.stdout, reseeded.stdout

    assert palace_command(palace, "lottery", "rerun", str(uuid.uuid4())).returncode == 2
    assert "not a course id" in palace_command(palace, "lottery", "rerun", "nope").stderr
