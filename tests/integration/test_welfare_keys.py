"""Welfare's private data at rest, on real PostgreSQL and RabbitMQ: a backup-style read of its
database finds no health text, income, reason or full national ID; after a new key is put first in
the ring, `palace welfare rotate-key` (and welfare's own rounds) reseal every row under it, rows
from before sealing included, and everything still reads; a row under a key the ring does not hold
fails naming that key; welfare does not start without a ring."""
import base64
import subprocess
import sys
import uuid
from datetime import date, timedelta

import pytest
from cryptography.fernet import Fernet

from services.common.errors import Unavailable
from services.welfare import crypto, store
from tests.harness import ROOT, eventually
from tests.integration.test_welfare_payouts import MEMBER, approved_application, enrolled_worker, rpc_as

NATIONAL_ID = "11010519491231002X"
DIAGNOSIS = "stage-three pancreatic carcinoma"
FILE = b"%PDF-1.4\n% bank statement of Zhou Xiuying\n%%EOF\n"


@pytest.fixture(scope="module")
def welfare(stack):
    stack.start("welfare")
    return stack


def restart(stack, keys, **more):
    stack.stop("welfare")
    stack.env["PALACE_WELFARE_KEYS"] = keys
    stack.start("welfare", extra_env=more)


def palace(stack, *args):
    return subprocess.run([sys.executable, "-m", "ops.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env=stack.env, timeout=120)


def key_ids(stack):
    with stack.db("welfare") as conn:
        return {(r["table"], r["key_id"]) for r in store.sealed_counts(conn)}


def private_case_and_claim(stack):
    """A hardship case with a reason, private facts, a national ID and a file; a claim with a diagnosis
    and a file, on a plan a unit enrolled its worker in by national ID."""
    application = approved_application(stack, "200.00")
    with rpc_as(stack, MEMBER, "member") as rpc:
        draft = rpc.welfare.create_application({
            "programme": "hardship_relief", "amount_requested": "100.00", "reason": "husband's dialysis bills",
            "national_id": NATIONAL_ID, "draft": True,
            "private": {"income": "980 a month", "health": "type 1 diabetes"}})
        rpc.welfare.attach_document(draft["id"], "income_statement", "bank.pdf", base64.b64encode(FILE).decode())
    plan, worker = enrolled_worker(stack, f"Keys {uuid.uuid4().hex[:6]}")
    with rpc_as(stack, worker, "member") as rpc:
        claim = rpc.welfare.create_claim({"plan_id": plan["id"], "kind": "critical_illness",
                                          "event_date": (date.today() - timedelta(days=2)).isoformat(),
                                          "details": {"diagnosis": DIAGNOSIS}})
        rpc.welfare.attach_claim_document(claim["id"], "diagnosis", "d.pdf", base64.b64encode(FILE).decode())
    return application, draft, claim, worker


def reads_back(stack, draft, claim, worker):
    with rpc_as(stack, MEMBER, "member") as rpc:
        case = rpc.welfare.get_application(draft["id"])
        assert case["reason"] == "husband's dialysis bills" and case["private"]["health"] == "type 1 diabetes"
        assert case["national_id"] == "**************002X"
        document = case["documents"][0]
        assert base64.b64decode(rpc.welfare.get_document(draft["id"], document["id"])["content"]) == FILE
    with rpc_as(stack, worker, "member") as rpc:
        assert rpc.welfare.get_claim(claim["id"])["details"] == {"diagnosis": DIAGNOSIS}


def test_a_backup_of_the_welfare_database_holds_no_private_fact_in_clear(welfare):
    application, draft, claim, worker = private_case_and_claim(welfare)
    with welfare.db("welfare") as conn:  # every row of every table, as text: what a dump would show
        tables = [r["tablename"] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        dump = "\n".join(str(conn.execute(f"SELECT array_agg(to_jsonb(t)::text) AS rows FROM {name} t"
                                          ).fetchone()["rows"]) for name in tables)
    for secret in ("dialysis", "diabetes", "980 a month", "1,200 a month", "two children", "flooded home",
                   "household_income", DIAGNOSIS, NATIONAL_ID, "49123100", FILE.hex()[:40], "Zhou Xiuying"):
        assert secret not in dump, secret
    assert "**************002X" in dump, "the masked number is kept, for the desk"
    reads_back(welfare, draft, claim, worker)


def test_after_a_new_key_the_rotation_reseals_every_row_and_everything_still_reads(welfare):
    application, draft, claim, worker = private_case_and_claim(welfare)
    old = welfare.env["PALACE_WELFARE_KEYS"]
    with welfare.db("welfare") as conn:  # a case from before sealing: its facts still plain
        conn.execute("UPDATE applications SET reason = 'legacy reason', private = '{\"income\": \"700\"}',"
                     " sealed = NULL WHERE id = %s", (application["id"],))
        # an enrolment matched by the unkeyed-by-its-own-key hash of before: given the keyed fingerprint
        conn.execute("UPDATE plan_enrolments SET national_id_hash = md5(national_id_hash) || md5(national_id_hash)"
                     " WHERE member_id = %s", (worker,))
    assert ("applications", "plain") in key_ids(welfare)
    restart(welfare, f"t2:{Fernet.generate_key().decode()},{old}")
    reads_back(welfare, draft, claim, worker)  # the old key still opens what it sealed
    done = palace(welfare, "welfare", "rotate-key")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {key for _, key in key_ids(welfare)} == {"t2"}, key_ids(welfare)
    restart(welfare, welfare.env["PALACE_WELFARE_KEYS"].split(",")[0])  # the old key gone for good
    reads_back(welfare, draft, claim, worker)
    with rpc_as(welfare, MEMBER, "member") as rpc:
        legacy = rpc.welfare.get_application(application["id"])
        assert legacy["reason"] == "legacy reason" and legacy["private"] == {"income": "700"}
    with welfare.db("welfare") as conn:
        row = conn.execute("SELECT reason, private FROM applications WHERE id = %s", (application["id"],)).fetchone()
        assert row == {"reason": "", "private": {}}, "the plain columns were emptied"
        fingerprint = conn.execute("SELECT national_id_hash FROM plan_enrolments WHERE member_id = %s",
                                   (worker,)).fetchone()["national_id_hash"]
    assert fingerprint == crypto.ring().fingerprint(NATIONAL_ID), "HMAC under the fingerprint key"


def test_welfare_reseals_by_itself_in_the_background(welfare):
    application, draft, claim, worker = private_case_and_claim(welfare)
    current = welfare.env["PALACE_WELFARE_KEYS"]
    restart(welfare, f"t3:{Fernet.generate_key().decode()},{current}", PALACE_WELFARE_RESEAL_SECONDS="0.3",
            PALACE_WELFARE_RESEAL_BATCH="3")
    eventually(lambda: {key for _, key in key_ids(welfare)} == {"t3"}, timeout=60)
    reads_back(welfare, draft, claim, worker)


def test_a_row_under_a_key_the_ring_does_not_hold_fails_naming_the_key(welfare):
    application, draft, claim, worker = private_case_and_claim(welfare)
    current = welfare.env["PALACE_WELFARE_KEYS"].split(",")[0].split(":")[0]
    with welfare.db("welfare") as conn:  # as if sealed under a key since dropped from the ring
        conn.execute("UPDATE applications SET sealed = '\\x0105'::bytea || convert_to('ghost', 'SQL_ASCII')"
                     " || substring(sealed FROM %s) WHERE id = %s", (3 + len(current), draft["id"]))
    with rpc_as(welfare, MEMBER, "member") as rpc:
        with pytest.raises(Unavailable) as refused:
            rpc.welfare.get_application(draft["id"])
    assert "'ghost'" in refused.value.detail and refused.value.problem == "welfare-key-missing"
    done = palace(welfare, "welfare", "rotate-key")
    assert done.returncode == 1 and '"ghost"' in done.stdout, done.stdout + done.stderr
    reads_back_claim = rpc_as(welfare, worker, "member")
    with reads_back_claim as rpc:
        assert rpc.welfare.get_claim(claim["id"])["details"] == {"diagnosis": DIAGNOSIS}, "other rows still read"


def test_welfare_without_its_key_ring_does_not_start_and_says_why(welfare):
    welfare.stop("welfare")
    proc = welfare.start("welfare#nokeys", extra_env={"PALACE_WELFARE_KEYS": ""}, wait=False)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert "PALACE_WELFARE_KEYS is not set" in welfare.log("welfare#nokeys"), welfare.log("welfare#nokeys")
