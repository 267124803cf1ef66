"""`make demo` loads a palace a new staff member can try: sites, rooms, a term of classes, clubs,
units and members, a mutual-aid plan and welfare cases, all through the public API. Then that
palace is backed up, lost and restored with `palace backup` and `palace restore`."""
import hashlib
import json
import shutil
import subprocess
import time
from datetime import datetime, timedelta

import psycopg
import pytest
import requests
from psycopg import sql

from ops import demo, processes
from ops.run import argv_here
from services.common import config
from services.welfare import crypto
from tests.e2e.conftest import Client, sign_in
from tests.faults import outages
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, ROOT, drop_databases, eventually

OWN_PALACE = True  # the demo is a city's palace loaded into an empty one, then lost and restored whole


@pytest.fixture(scope="module")
def loaded(palace):
    return demo.load(palace.url, (ADMIN_PHONE, ADMIN_PASSWORD))


def test_the_demo_palace_loads_and_its_accounts_work(palace, loaded):
    assert loaded == {"sites": 13, "rooms": 21, "classes": 14, "members": 10}
    assert len(eventually(lambda: [c for c in Client(palace.url).get("/v1/courses", params={"limit": 50}).json()
                                   if "茶艺" in c["title"] or "Choir" in c["title"]])) == 2
    member = sign_in(palace.url, *demo.MEMBER[:2])
    assert member.get("/v1/me/enrolments").json(), "the demo member holds a class"
    assert member.get("/v1/bookings").json(), "and their club's rehearsals"
    officer = sign_in(palace.url, *demo.STAFF["welfare_officer"][:2])
    assert len(officer.get("/v1/welfare/applications").json()) >= 3
    unit_admin = sign_in(palace.url, *demo.UNIT_ADMIN[:2])
    assert len(unit_admin.get("/v1/units").json()) == 1
    desk = sign_in(palace.url, *demo.STAFF["desk"][:2])
    assert [m["phone"] for m in desk.get("/v1/desk/members", params={"q": "阮小青"}).json()] == [demo.MEMBER[0]]


def palace_cli(stack, *args):
    started = time.monotonic()
    done = subprocess.run(argv_here(["palace", *args]), cwd=ROOT, env=stack.env, capture_output=True, text=True,
                          timeout=300)
    return done, time.monotonic() - started


def rows(stack):
    """{part.table: rows} of every table of every part."""
    counts = {}
    for part in config.DATABASES:
        with stack.db(part) as conn:
            tables = [r["table_name"] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                " AND table_type = 'BASE TABLE'")]
            for table in tables:
                counts[f"{part}.{table}"] = conn.execute(
                    sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))).fetchone()["n"]
    return counts


def fund_ledger(stack):
    """Transactions that do not sum to zero, account balances that are not the sum of their
    entries, funds whose accounts do not sum to zero: all three must be empty; and the entries."""
    with stack.db("welfare") as conn:
        return {
            "unbalanced_transactions": conn.execute(
                "SELECT count(*) AS n FROM (SELECT transaction_id FROM ledger_entries GROUP BY 1"
                " HAVING sum(amount) <> 0) t").fetchone()["n"],
            "accounts_off_their_entries": conn.execute(
                "SELECT count(*) AS n FROM ledger_accounts a WHERE balance <> coalesce((SELECT sum(amount)"
                " FROM ledger_entries e WHERE e.fund_id = a.fund_id AND e.account = a.kind), 0)").fetchone()["n"],
            "funds_not_zero": conn.execute(
                "SELECT count(*) AS n FROM (SELECT fund_id FROM ledger_accounts GROUP BY 1"
                " HAVING sum(balance) <> 0) f").fetchone()["n"],
            "entries": conn.execute("SELECT count(*) AS n FROM ledger_entries").fetchone()["n"]}


def imports_finished(stack):
    """No unit file still waiting or being read: its plan enrolments are written by then."""
    with stack.db("welfare") as conn:
        return not conn.execute("SELECT 1 FROM import_jobs WHERE status IN ('queued', 'running')").fetchone()


def documents(stack):
    """{document id: sha256 of the bytes kept}: each file, opened with welfare's key ring (it is kept
    sealed), is the file whose hash was recorded at upload."""
    ring = crypto.KeyRing(crypto.parse_ring(stack.env["PALACE_WELFARE_KEYS"]), b"")
    with stack.db("welfare") as conn:
        found = conn.execute("SELECT id, sha256, content, encode(sha256(content), 'hex') AS kept"
                             " FROM application_documents").fetchall()
    assert all(hashlib.sha256(ring.open(d["content"])).hexdigest() == d["sha256"] for d in found)
    return {str(d["id"]): d["kept"] for d in found}


def test_the_demo_palace_is_backed_up_lost_and_restored(palace, loaded, tmp_path):
    eventually(lambda: outages.outbox_backlog(palace) == 0, timeout=30)  # the demo's events all told
    eventually(lambda: imports_finished(palace), timeout=60)  # the unit's CSV is read in the background
    before = rows(palace)
    ledger, files = fund_ledger(palace), documents(palace)
    assert ledger["entries"] and files, "the demo paid relief from a fund and attached documents"
    held = {"gateway.accounts", "enrolment.enrolments", "venues.bookings", "welfare.applications", "notify.inbox"}
    assert all(before[table] for table in held), {table: before[table] for table in held}

    done, backup_seconds = palace_cli(palace, "backup", "--to", str(tmp_path / "backups"))
    assert done.returncode == 0, done.stderr
    target = json.loads(done.stdout)["backup"]
    manifest = json.loads((tmp_path / "backups" / target.rsplit("/", 1)[-1] / "manifest.json").read_text())
    for name in list(palace.procs):
        palace.stop(name)
    assert rows(palace) == before, "nothing wrote while the backup ran"

    drop_databases([f"{palace.tag}_{part}" for part in config.DATABASES])
    assert databases_left(palace) == [], "everything is gone"

    tampered = tmp_path / "tampered"
    shutil.copytree(target, tampered)
    edited = json.loads((tampered / "manifest.json").read_text())
    edited["parts"]["welfare"]["migration_head"] = "0108.welfare-eligibility-rules"
    (tampered / "manifest.json").write_text(json.dumps(edited))
    refused, _ = palace_cli(palace, "restore", str(tampered), "--yes")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "welfare" in refused.stderr and "0108.welfare-eligibility-rules" in refused.stderr, refused.stderr
    assert databases_left(palace) == [], "a refused restore touches nothing"

    done, restore_seconds = palace_cli(palace, "restore", target, "--yes")
    assert done.returncode == 0, done.stderr
    assert rows(palace) == before
    assert fund_ledger(palace) == {**ledger, "unbalanced_transactions": 0, "accounts_off_their_entries": 0,
                                   "funds_not_zero": 0}
    assert documents(palace) == files

    for name in processes.commands():
        palace.start(name)
    ready = eventually(lambda: requests.get(f"{palace.url}/readyz", timeout=10).status_code == 200, timeout=60)
    figures = {"backup_s": round(backup_seconds, 1), "restore_s": round(restore_seconds, 1),
               "bytes": {p: e["bytes"] for p, e in manifest["parts"].items()}, "rows": sum(before.values()),
               "ledger_entries": ledger["entries"], "documents": len(files)}
    print("\nBACKUP " + json.dumps(figures))
    assert ready
    member = sign_in(palace.url, *demo.MEMBER[:2])
    assert member.get("/v1/me/enrolments").json(), "the restored palace answers its members"

    # a broker that lost its queues too: what was sent before the backup goes out again, and is
    # handled once (each consumer records what it handled)
    since = datetime.fromisoformat(manifest["started_at"]) - timedelta(hours=1)
    done, _ = palace_cli(palace, "outbox", "--resend-since", since.isoformat())
    assert done.returncode == 0, done.stderr
    assert sum(json.loads(done.stdout)["marked_unsent"].values()) > 0, done.stdout
    eventually(lambda: outages.outbox_backlog(palace) == 0, timeout=30)
    time.sleep(2)  # the consumers' turn
    assert rows(palace)["notify.inbox"] == before["notify.inbox"], "no member told twice"


def databases_left(stack):
    with psycopg.connect(f"{config.pg_server()}/postgres", connect_timeout=10) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                           (f"{stack.tag}%",))]
