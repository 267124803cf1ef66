"""The welfare service on real PostgreSQL and RabbitMQ: payouts happen once under a real race,
the fund ledger balances and cannot go below zero, overdue cases are escalated."""
import base64
import threading
import uuid
from datetime import date, timedelta

import psycopg
import pytest

from services.common.context import Caller
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from tests.broker import Watch
from tests.harness import at_once, eventually

MEMBER, OFFICER_A, OFFICER_B = (str(uuid.uuid4()) for _ in range(3))


def context(caller_id, *roles, unit=None):
    return Caller(caller_id, frozenset(roles), unit, None, None).to_context()


@pytest.fixture(scope="module")
def welfare(stack):
    stack.start("welfare", extra_env={"PALACE_WELFARE_SLA_CHECK": "0.3"})
    return stack


def rpc_as(stack, caller_id, *roles):
    return stack.rpc(context=context(caller_id, *roles))


PDF = base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()


def applied(rpc, body, document, applicant=None):
    """A draft with the programme's document attached, submitted."""
    draft = rpc.welfare.create_application({**body, "draft": True}, applicant)
    rpc.welfare.attach_document(draft["id"], document, f"{document}.pdf", PDF)
    return rpc.welfare.submit(draft["id"], {})


def approved_application(stack, amount="800.00", member=MEMBER):
    with rpc_as(stack, member, "member") as rpc:
        application = applied(rpc, {
            "programme": "hardship_relief", "amount_requested": amount, "reason": "flooded home",
            "national_id": "11010519491231002X",
            "private": {"income": "1,200 a month", "family": "two children", "household_income": "1200.00",
                        "household_size": 3}}, "income_statement")
    with rpc_as(stack, OFFICER_A, "welfare_officer") as rpc:
        decided = rpc.welfare.decide(application["id"], {"decision": "approve", "amount": amount, "note": "ok"})
    assert decided["state"] == "approved", decided
    return application


def balances(stack, fund="hardship_relief"):
    with stack.db("welfare") as conn:
        return {r["kind"]: r["balance"] for r in conn.execute(
            "SELECT kind, balance FROM ledger_accounts WHERE fund_id = %s", (fund,)).fetchall()}


def test_fifty_concurrent_payouts_of_one_application_pay_exactly_once(welfare):
    application = approved_application(welfare)
    before = balances(welfare)

    def pay(go):
        with rpc_as(welfare, OFFICER_B, "welfare_officer") as rpc:
            go()
            try:
                return rpc.welfare.pay(application["id"])
            except Conflict as exc:
                return exc.problem

    results = at_once([pay] * 50)
    payouts = [r for r in results if isinstance(r, dict)]
    assert len(payouts) == 1 and payouts[0]["amount"] == "800.00" and payouts[0]["reference"].startswith("PO-")
    assert sorted(set(r for r in results if not isinstance(r, dict))) == ["already-paid"]
    assert len(results) == 50
    with welfare.db("welfare") as conn:
        assert conn.execute("SELECT count(*) AS n FROM payouts WHERE application_id = %s",
                            (application["id"],)).fetchone()["n"] == 1
        [txn] = conn.execute("SELECT id FROM ledger_transactions WHERE application_id = %s AND kind = 'payout'",
                             (application["id"],)).fetchall()
        entries = conn.execute("SELECT account, amount FROM ledger_entries WHERE transaction_id = %s ORDER BY amount",
                               (txn["id"],)).fetchall()
        assert [(e["account"], e["amount"]) for e in entries] == [("committed", -80000), ("paid_out", 80000)]
        assert conn.execute("SELECT sum(balance) AS s FROM ledger_accounts").fetchone()["s"] == 0
    after = balances(welfare)
    assert after["paid_out"] - before["paid_out"] == 80000 and after["committed"] - before["committed"] == -80000


def test_the_ledger_is_insert_only_and_every_transaction_balances(welfare):
    with welfare.db("welfare") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE ledger_entries SET amount = amount + 1")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM decisions")
        with pytest.raises(psycopg.errors.CheckViolation, match="does not balance"):
            with conn.transaction():
                txn = conn.execute("INSERT INTO ledger_transactions (fund_id, kind, year, memo)"
                                   " VALUES ('hardship_relief', 'reversal', 2026, 'lopsided') RETURNING id").fetchone()
                conn.execute("INSERT INTO ledger_entries (transaction_id, fund_id, account, amount)"
                             " VALUES (%s, 'hardship_relief', 'available', 100)", (txn["id"],))


def test_a_fund_cannot_go_below_zero(welfare):
    with rpc_as(welfare, MEMBER, "member") as rpc:
        application = applied(rpc, {
            "programme": "merit_scholarship", "amount_requested": "5000.00", "reason": "model worker's daughter"},
            "award_certificate", applicant={"member_since": "2015-03-01"})
    available = balances(welfare, "merit_scholarship")["available"]
    with welfare.db("welfare") as conn, conn.transaction():  # someone else's commitments drain the fund
        txn = conn.execute("INSERT INTO ledger_transactions (fund_id, kind, year, memo)"
                           " VALUES ('merit_scholarship', 'commitment', 2026, 'drain') RETURNING id").fetchone()["id"]
        conn.execute("INSERT INTO ledger_entries (transaction_id, fund_id, account, amount) VALUES"
                     " (%s, 'merit_scholarship', 'available', %s), (%s, 'merit_scholarship', 'committed', %s)",
                     (txn, -(available - 100), txn, available - 100))
    with rpc_as(welfare, OFFICER_A, "welfare_officer") as rpc:
        with pytest.raises(Conflict) as refused:
            rpc.welfare.decide(application["id"], {"decision": "approve", "amount": "5000.00"})
        assert refused.value.problem == "fund-exhausted"
        assert rpc.welfare.get_application(application["id"])["state"] == "submitted", "nothing written"
    assert balances(welfare, "merit_scholarship")["available"] == 100


def test_an_overdue_case_alerts_its_officer_every_time_and_tells_the_applicant_once(welfare):
    watch = Watch("welfare")
    with rpc_as(welfare, MEMBER, "member") as rpc:
        application = rpc.welfare.create_application({"programme": "legal_aid", "reason": "unpaid wages"})
    with rpc_as(welfare, OFFICER_A, "welfare_officer") as rpc:
        rpc.welfare.assign(application["id"], {"officer_id": OFFICER_B, "priority": "urgent"})

    def escalations(count):
        seen = []

        def arrived():
            seen.extend(e for e in watch.drain(0.3) if e["payload"]["application_id"] == application["id"]
                        and e["event_type"] in ("welfare.case_escalated", "welfare.case_overdue"))
            return len([e for e in seen if e["event_type"] == "welfare.case_overdue"]) >= count and seen
        return eventually(arrived, timeout=15)

    with welfare.db("welfare") as conn:
        conn.execute("UPDATE programmes SET sla = interval '1 second' WHERE code = 'legal_aid'")
    try:
        first = escalations(1)
        with rpc_as(welfare, OFFICER_A, "welfare_officer") as rpc:  # back to the member, then overdue again
            rpc.welfare.decide(application["id"], {"decision": "return", "note": "the contract, please"})
        with rpc_as(welfare, MEMBER, "member") as rpc:
            rpc.welfare.submit(application["id"], {"note": "contract attached"})
        second = escalations(1)
        later = watch.drain(1.0)
    finally:
        with welfare.db("welfare") as conn:
            conn.execute("UPDATE programmes SET sla = interval '2 days' WHERE code = 'legal_aid'")
    told = [e for e in first + second + later if e["event_type"] == "welfare.case_escalated"
            and e["payload"]["application_id"] == application["id"]]
    alerts = [e for e in first + second + later if e["event_type"] == "welfare.case_overdue"
              and e["payload"]["application_id"] == application["id"]]
    assert len(told) == 1, "the applicant hears once that the case is still in progress"
    assert told[0]["payload"]["member_id"] == MEMBER and told[0]["payload"]["reference"].startswith("WA-")
    assert len(alerts) == 2, "each wait past the limit alerts the staff"
    assert all(a["payload"]["member_ids"] == [OFFICER_B] and a["payload"]["roles"] == ["admin"] for a in alerts)
    with welfare.db("welfare") as conn:
        assert conn.execute("SELECT count(*) AS n FROM decisions WHERE application_id = %s AND action = 'escalate'",
                            (application["id"],)).fetchone()["n"] == 2


def test_a_case_is_overdue_once_past_its_limit_and_escalated_once_per_wait(welfare):
    """The rule as the escalation timer runs it (store.overdue_cases), each case shape tried inside a
    transaction that is rolled back, so the timer never sees them."""
    from services.welfare import store

    with rpc_as(welfare, MEMBER, "member") as rpc:
        application = rpc.welfare.create_application({"programme": "legal_aid", "reason": "unfair dismissal"})

    def overdue(state, waited, escalated_after=None):
        with welfare.db("welfare") as conn, conn.transaction(force_rollback=True):
            conn.execute("UPDATE applications SET state = %s, state_since = now() - %s::interval,"
                         " escalated_at = now() - %s::interval + %s::interval WHERE id = %s",
                         (state, waited, waited, escalated_after, application["id"]))
            return application["id"] in {str(r["id"]) for r in store.overdue_cases(conn, limit=1000)}

    # legal aid allows two days
    assert not overdue("submitted", "1 day")
    assert overdue("submitted", "3 days")
    assert overdue("under_review", "3 days")
    assert not overdue("submitted", "3 days", escalated_after="2 days 1 hour"), "escalated in this wait"
    assert overdue("submitted", "3 days", escalated_after="-1 hour"), "escalated before this wait began"
    assert not overdue("returned", "3 days"), "waiting for the member, not the officers"


def test_staff_reads_are_logged_and_private_data_is_for_the_case_officers_only(welfare):
    application = approved_application(welfare, "300.00")
    with rpc_as(welfare, MEMBER, "member") as rpc:
        mine = rpc.welfare.get_application(application["id"])
        assert mine["private"]["income"] == "1,200 a month" and mine["national_id"] == "**************002X"
    outsider = str(uuid.uuid4())
    with rpc_as(welfare, outsider, "welfare_officer") as rpc:
        seen = rpc.welfare.get_application(application["id"])
        assert seen["private"] is None and "private" not in seen["decisions"][0]["facts"]
        listed = rpc.welfare.list_applications(limit=200)
        assert all(a["private"] is None and (a["national_id"] or "*").count("*") for a in listed)
    with rpc_as(welfare, OFFICER_A, "welfare_officer") as rpc:
        assert rpc.welfare.get_application(application["id"])["private"]["family"] == "two children", "reviewer"
    with welfare.db("welfare") as conn:
        reads = conn.execute("SELECT reader_id::text, saw_private FROM case_reads WHERE application_id = %s"
                             " ORDER BY id", (application["id"],)).fetchall()
        sealed = conn.execute("SELECT national_id_cipher FROM applications WHERE id = %s",
                              (application["id"],)).fetchone()["national_id_cipher"]
    assert (outsider, False) in [(r["reader_id"], r["saw_private"]) for r in reads]
    assert (OFFICER_A, True) in [(r["reader_id"], r["saw_private"]) for r in reads]
    assert MEMBER not in [r["reader_id"] for r in reads], "the applicant's own reads are not staff reads"
    assert b"11010519491231002X" not in bytes(sealed)


def test_stats_count_cases_payouts_and_time_to_decision(welfare):
    with welfare.rpc() as rpc:
        figures = rpc.welfare.stats()
    assert figures["payouts"] >= 1 and figures["cases_total"] >= 3
    assert figures["cases_hardship_relief_paid"] >= 1 and figures["time_to_decision_avg_s"] is not None


def test_claims_approved_at_once_never_pass_the_members_yearly_cap_together(welfare):
    unit, worker = str(uuid.uuid4()), str(uuid.uuid4())
    with rpc_as(welfare, OFFICER_A, "welfare_officer") as rpc:
        plan = rpc.welfare.create_plan({"year": 2026, "name": "Cap race", "contribution": "60.00", "rules": {
            "hospital_daily": "50.00", "hospital_deductible_days": 3, "hospital_max_days": 90, "waiting_days": 90,
            "critical_illness": "10000.00", "yearly_cap": "15000.00",
            "accident": {"minor": "500.00", "moderate": "2000.00", "severe": "5000.00", "disability": "10000.00"}}})
    with welfare.rpc(context=context(str(uuid.uuid4()), "unit_admin", unit=unit)) as rpc:
        job = rpc.welfare.start_import(plan["id"],
                                       f"name,national_id,member_id\nQian Wei,11010519491231002X,{worker}\n",
                                       member_units={worker: unit})
        eventually(lambda: rpc.welfare.get_import(job["id"])["status"] == "done")
    with rpc_as(welfare, OFFICER_A, "welfare_officer") as rpc:
        rpc.welfare.record_contribution(plan["id"], {"unit_id": unit, "amount": "60.00"})
    with welfare.db("welfare") as conn:  # the unit enrolled and paid a month ago
        conn.execute("UPDATE unit_contributions SET recorded_at = now() - interval '30 days' WHERE unit_id = %s",
                     (unit,))
        conn.execute("UPDATE plan_enrolments SET enrolled_at = now() - interval '30 days' WHERE unit_id = %s", (unit,))
    days = [(date.today() - timedelta(days=n)).isoformat() for n in range(1, 7)]
    with rpc_as(welfare, worker, "member") as rpc:
        claims = [rpc.welfare.create_claim({"plan_id": plan["id"], "kind": "accident", "event_date": day,
                                            "details": {"severity": "disability"}}) for day in days]
        with pytest.raises(Conflict) as twice:
            rpc.welfare.create_claim({"plan_id": plan["id"], "kind": "accident", "event_date": days[0],
                                      "details": {"severity": "minor"}})
        assert twice.value.problem == "duplicate-claim"
    assert {c["amount"] for c in claims} == {"10000.00"}, "each alone is within the cap"

    with rpc_as(welfare, OFFICER_A, "welfare_officer") as rpc:  # 10,000 needs two officers: A signs first
        firsts = [rpc.welfare.decide_claim(c["id"], {"decision": "approve"}) for c in claims]
    assert {(c["state"], c["approvals"], c["approvals_needed"]) for c in firsts} == {("under_review", 1, 2)}

    def approver(claim):
        def approve(go):
            with rpc_as(welfare, OFFICER_B, "welfare_officer") as rpc:
                go()
                return rpc.welfare.decide_claim(claim["id"], {"decision": "approve"})
        return approve

    results = at_once([approver(c) for c in claims])  # the second signatures race
    assert sorted(r["amount"] for r in results) == sorted(["0.00"] * 4 + ["10000.00", "5000.00"])
    capped = [r for r in results if r["amount"] == "5000.00"][0]
    assert sum(domain_fen(line["amount"]) for line in capped["explanation"]) == 500000
    assert "yearly cap" in capped["explanation"][-1]["text"]


def test_one_application_a_year_holds_when_two_submissions_race(welfare):
    """Two submissions by one member to one programme, each in its own transaction: the second's
    count waits for the first to commit, then sees it (without the lock both would count 0)."""
    from services.welfare import store

    member = str(uuid.uuid4())
    with rpc_as(welfare, member, "member") as rpc:
        drafts = [rpc.welfare.create_application({"programme": "education_subsidy", "reason": f"degree {n}",
                                                  "draft": True}) for n in range(2)]
    first, second = welfare.db("welfare"), welfare.db("welfare")
    counts = {}

    def submit(conn, draft, name):
        conn.execute("UPDATE applications SET state = 'submitted' WHERE id = %s", (draft["id"],))
        counts[name] = store.earlier_this_year(conn, store.get_application(conn, draft["id"]))

    with first.transaction():
        submit(first, drafts[0], "first")
        racing = threading.Thread(target=lambda: _in_transaction(second, submit, drafts[1], "second"), daemon=True)
        racing.start()
        racing.join(1.0)
        assert racing.is_alive(), "the second submission waits for the first"
    racing.join(10)
    assert not racing.is_alive(), "the second submission still waits after the first committed"
    assert counts == {"first": 0, "second": 1}
    first.close()
    second.close()


def _in_transaction(conn, work, *args):
    with conn.transaction():
        work(conn, *args)


def enrolled_worker(stack, plan_name):
    """A plan, a worker its unit enrolled a month ago (cover started then), and the worker's id."""
    unit, worker = str(uuid.uuid4()), str(uuid.uuid4())
    with rpc_as(stack, OFFICER_A, "welfare_officer") as rpc:
        plan = rpc.welfare.create_plan({"year": 2026, "name": plan_name, "contribution": "60.00", "rules": {
            "hospital_daily": "50.00", "hospital_deductible_days": 3, "hospital_max_days": 90, "waiting_days": 0,
            "critical_illness": "10000.00", "yearly_cap": "15000.00",
            "accident": {"minor": "500.00", "moderate": "2000.00", "severe": "5000.00", "disability": "10000.00"}}})
    with stack.rpc(context=context(str(uuid.uuid4()), "unit_admin", unit=unit)) as rpc:
        job = rpc.welfare.start_import(plan["id"], f"name,national_id,member_id\nSun Li,11010519491231002X,{worker}\n",
                                       member_units={worker: unit})
        eventually(lambda: rpc.welfare.get_import(job["id"])["status"] == "done")
    with rpc_as(stack, OFFICER_A, "welfare_officer") as rpc:
        rpc.welfare.record_contribution(plan["id"], {"unit_id": unit, "amount": "60.00"})
    with stack.db("welfare") as conn:
        conn.execute("UPDATE unit_contributions SET recorded_at = now() - interval '30 days' WHERE unit_id = %s",
                     (unit,))
        conn.execute("UPDATE plan_enrolments SET enrolled_at = now() - interval '30 days' WHERE unit_id = %s", (unit,))
    return plan, worker


def test_a_claims_health_details_are_for_the_member_the_assigned_and_the_deciding_officer(welfare):
    plan, worker = enrolled_worker(welfare, "Claim privacy")
    triager, assigned, outsider = OFFICER_A, OFFICER_B, str(uuid.uuid4())
    with rpc_as(welfare, worker, "member") as rpc:
        claim = rpc.welfare.create_claim({"plan_id": plan["id"], "kind": "critical_illness",
                                          "event_date": (date.today() - timedelta(days=2)).isoformat(),
                                          "details": {"diagnosis": "acute leukaemia"}})
        assert rpc.welfare.get_claim(claim["id"])["details"] == {"diagnosis": "acute leukaemia"}
    with rpc_as(welfare, triager, "welfare_officer") as rpc:
        before = rpc.welfare.get_claim(claim["id"])
        assert before["details"] is None and before["explanation"], "an officer not on the claim sees no diagnosis"
        with pytest.raises(Invalid) as own:
            rpc.welfare.assign_claim(claim["id"], {"officer_id": worker})
        assert "officer_id" in own.value.errors
        given = rpc.welfare.assign_claim(claim["id"], {"officer_id": assigned})
        assert given["assigned_officer"] == assigned and given["details"] is None, "triage opens nothing"
        assert [c["id"] for c in rpc.welfare.list_claims(assigned=True)] == [], "not the triager's list"
    with rpc_as(welfare, assigned, "welfare_officer") as rpc:
        assert rpc.welfare.get_claim(claim["id"])["details"] == {"diagnosis": "acute leukaemia"}
        mine = rpc.welfare.list_claims(assigned=True)
        assert [c["id"] for c in mine] == [claim["id"]] and mine[0]["details"] is None, "lists never show it"
    with rpc_as(welfare, outsider, "welfare_officer") as rpc:
        assert rpc.welfare.get_claim(claim["id"])["details"] is None
        decided = rpc.welfare.decide_claim(claim["id"], {"decision": "approve", "note": "diagnosis certified"})
        assert decided["details"] == {"diagnosis": "acute leukaemia"}, "the deciding officer reviewed it"
        assert decided["state"] == "under_review", "10,000 yuan: a second officer signs"
    with rpc_as(welfare, assigned, "welfare_officer") as rpc:
        assert rpc.welfare.decide_claim(claim["id"], {"decision": "approve"})["state"] == "approved"
    with rpc_as(welfare, outsider, "welfare_officer") as rpc:
        with pytest.raises(Conflict) as late:
            rpc.welfare.assign_claim(claim["id"], {"officer_id": triager})
        assert late.value.problem == "claim-decided"
    with rpc_as(welfare, str(uuid.uuid4()), "member") as rpc:
        with pytest.raises(NotFound):
            rpc.welfare.get_claim(claim["id"])
    with welfare.db("welfare") as conn:
        reads = [(r["reader_id"], r["saw_private"]) for r in conn.execute(
            "SELECT reader_id::text, saw_private FROM case_reads WHERE claim_id = %s ORDER BY id",
            (claim["id"],)).fetchall()]
    assert (triager, False) in reads and (assigned, True) in reads and (outsider, False) in reads
    assert worker not in [r for r, _ in reads]


def domain_fen(text):
    from services.welfare.domain import parse_money
    return -parse_money(text[1:]) if text.startswith("-") else parse_money(text)


def test_every_step_of_a_case_leaves_through_the_outbox_with_the_member_and_the_facts(welfare):
    watch = Watch("welfare")
    application = approved_application(welfare, "250.00")
    with rpc_as(welfare, OFFICER_B, "welfare_officer") as rpc:
        payout = rpc.welfare.pay(application["id"])
    events = eventually(lambda: (lambda got: got if {"welfare.payout_made"} <= {e["event_type"] for e in got}
                                 else None)([e for e in watch.drain(0.3)
                                             if e["payload"].get("application_id") == application["id"]]))
    by_type = {e["event_type"]: e["payload"] for e in events}
    assert set(by_type) == {"welfare.application_submitted", "welfare.application_decided", "welfare.payout_made"}
    assert all(p["member_id"] == MEMBER for p in by_type.values())
    assert by_type["welfare.application_submitted"]["programme_title"] == "Hardship relief"
    assert by_type["welfare.application_decided"]["amount"] == "250.00"
    assert by_type["welfare.payout_made"]["reference"] == payout["reference"]
    assert "private" not in str(by_type) and "1,200" not in str(by_type), "no private data in events"


def test_the_database_refuses_an_approval_short_of_signatures_and_a_payout_by_an_approver(welfare):
    """What the service checks first, PostgreSQL holds on its own: a claim needing two officers is
    not approved on one, and whoever approved a claim cannot be the one who pays it."""
    plan, worker = enrolled_worker(welfare, "Database holds")
    with rpc_as(welfare, worker, "member") as rpc:
        claim = rpc.welfare.create_claim({"plan_id": plan["id"], "kind": "accident",
                                          "event_date": (date.today() - timedelta(days=1)).isoformat(),
                                          "details": {"severity": "disability"}})
    with rpc_as(welfare, OFFICER_A, "welfare_officer") as rpc:
        assert rpc.welfare.decide_claim(claim["id"], {"decision": "approve"})["state"] == "under_review"
    with welfare.db("welfare") as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE claims SET state = 'approved' WHERE id = %s", (claim["id"],))
    with rpc_as(welfare, OFFICER_B, "welfare_officer") as rpc:
        assert rpc.welfare.decide_claim(claim["id"], {"decision": "approve"})["state"] == "approved"
    with welfare.db("welfare") as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO payouts (reference, claim_id, member_id, amount, paid_by)"
                         " VALUES ('PO-TEST-1', %s, %s, 1000000, %s)", (claim["id"], worker, OFFICER_B))
    with rpc_as(welfare, OFFICER_A, "welfare_officer") as rpc:
        with pytest.raises(Forbidden) as approver:
            rpc.welfare.pay_claim(claim["id"])
    assert approver.value.problem == "approver-pays"
    with rpc_as(welfare, MEMBER, "welfare_officer") as rpc:
        assert rpc.welfare.pay_claim(claim["id"])["amount"] == "10000.00"
