"""Welfare over HTTP: applying, N-of-M sign-off, the refusals officers rely on, payouts once,
education support from two funds, and the mutual-aid plan from CSV enrolment to a paid claim."""
import hashlib
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import new_member, new_staff, own_connection
from tests.harness import eventually

OWN_PALACE = True  # it expects the programmes' rules as they come and counts every case (the stats route)


@pytest.fixture(scope="module")
def officers(palace, admin):
    return [new_staff(palace.url, admin, ["welfare_officer", "member"], name=f"Officer {n}") for n in "AB"]


def pdf(text="income statement"):
    return b"%PDF-1.4\n% " + text.encode() + b"\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


def attach(client, application, kind, content=None, content_type="application/pdf", status=201, **params):
    answer = client.post(f"/v1/welfare/applications/{application['id']}/documents", data=content or pdf(kind),
                         params={"kind": kind, **params}, headers={"Content-Type": content_type})
    assert answer.status_code == status, answer.text
    return answer.json()


def apply(member, documents=("income_statement",), draft=False, **extra):
    """Apply as a member does: a draft, its documents uploaded, then submitted (unless kept a draft)."""
    household = {"household_income": "2400.00", "household_size": 3}  # 800 a person: under relief's line
    body = {"programme": "hardship_relief", "amount_requested": "5000.00", "reason": "hospital bills after a fall",
            **extra, "private": {**household, **extra.get("private", {})}, "draft": True}
    answer = member.post("/v1/welfare/applications", body)
    assert answer.status_code == 201, answer.text
    for kind in documents:
        attach(member, answer.json(), kind)
    if draft:
        return member.get(f"/v1/welfare/applications/{answer.json()['id']}").json()
    sent = member.post(f"/v1/welfare/applications/{answer.json()['id']}/submission", {})
    assert sent.status_code == 200, sent.text
    return sent.json()


def decide(officer, application, decision, amount=None, note="", status=201):
    body = {"decision": decision, "note": note, **({"amount": amount} if amount else {})}
    answer = officer.post(f"/v1/welfare/applications/{application['id']}/decisions", body)
    assert answer.status_code == status, answer.text
    return answer.json()


def test_relief_above_the_threshold_needs_two_officers_then_is_paid_exactly_once(palace, officers):
    a, b = officers
    member = new_member(palace.url, "Zhao Min")
    application = apply(member, national_id="11010519491231002X", private={"health": "fractured hip"})
    assert application["state"] == "submitted" and application["amount_requested"] == "5000.00"
    assert application["national_id"] == "**************002X" and application["private"]["health"] == "fractured hip"

    first = decide(a, application, "approve", "4500.00", "two months of rent")
    assert (first["state"], first["approvals"]) == ("under_review", 1)
    twice = decide(a, application, "approve", "4500.00", status=409)
    assert twice["type"].endswith("/problems/already-approved") and "already" in twice["detail"]
    second = decide(b, application, "approve", note="agreed")
    assert (second["state"], second["amount_approved"]) == ("approved", "4500.00")
    assert [d["action"] for d in second["decisions"]] == ["submit", "approve", "approve"]
    assert second["decisions"][1]["facts"]["amount_requested"] == 500000

    paid = b.post(f"/v1/welfare/applications/{application['id']}/payouts", headers={"Idempotency-Key": "pay-1"})
    assert paid.status_code == 201, paid.text
    assert paid.json()["amount"] == "4500.00" and paid.json()["reference"].startswith("PO-")
    replay = b.post(f"/v1/welfare/applications/{application['id']}/payouts", headers={"Idempotency-Key": "pay-1"})
    assert replay.status_code == 201 and replay.json() == paid.json()
    again = a.post(f"/v1/welfare/applications/{application['id']}/payouts")
    assert again.status_code == 409 and again.json()["type"].endswith("/problems/already-paid")

    ledger = a.get("/v1/welfare/funds/hardship_relief/ledger").json()
    assert ledger["total"] == "0.00"
    mine = [e for e in ledger["entries"] if e["application_id"] == application["id"]]
    assert sorted((e["kind"], e["account"], e["amount"]) for e in mine) == [
        ("commitment", "available", "-4500.00"), ("commitment", "committed", "4500.00"),
        ("payout", "committed", "-4500.00"), ("payout", "paid_out", "4500.00")]
    assert member.get(f"/v1/welfare/applications/{application['id']}").json()["state"] == "paid"
    told = eventually(lambda: {n["event_type"]: n for n in member.get("/v1/me/notifications").json()}
                      if len(member.get("/v1/me/notifications").json()) >= 3 else None)
    assert {"welfare.application_submitted", "welfare.application_decided", "welfare.payout_made"} <= set(told)
    assert "4,500.00" in told["welfare.payout_made"]["title"] + told["welfare.payout_made"]["body"]


def test_nobody_approves_their_own_application_or_one_they_submitted(palace, officers):
    a, b = officers
    own = apply(a, amount_requested="100.00")
    refused = decide(a, own, "approve", "100.00", status=403)
    assert refused["type"].endswith("/problems/own-application") and "own application" in refused["detail"]
    member = new_member(palace.url)
    on_behalf = apply(a, amount_requested="100.00", member_id=member.id)
    assert on_behalf["member_id"] == member.id and on_behalf["submitted_by"] == a.id
    refused = decide(a, on_behalf, "approve", "100.00", status=403)
    assert "submitted" in refused["detail"]
    assert decide(b, on_behalf, "approve", "100.00")["state"] == "approved"


def test_a_closed_case_cannot_be_approved_and_a_rejected_one_is_never_paid(palace, officers):
    a, b = officers
    member = new_member(palace.url)
    application = apply(member)
    assert decide(a, application, "reject", note="income above the line")["state"] == "rejected"
    pay = b.post(f"/v1/welfare/applications/{application['id']}/payouts")
    assert pay.status_code == 409 and pay.json()["type"].endswith("/problems/not-approved")
    assert "rejected" in pay.json()["detail"]
    assert decide(a, application, "close")["state"] == "closed"
    late = decide(b, application, "approve", "100.00", status=409)
    assert late["type"].endswith("/problems/case-closed") and "closed" in late["detail"]


def test_a_returned_case_comes_back_with_more_information_for_a_new_round(palace, officers):
    a, _ = officers
    member = new_member(palace.url)
    application = apply(member)
    assert decide(a, application, "return", note="send last month's payslip")["state"] == "returned"
    attach(member, application, "payslip", PNG, filename="payslip.png")
    back = member.post(f"/v1/welfare/applications/{application['id']}/submission", {"note": "payslip attached"})
    assert back.status_code == 200, back.text
    assert (back.json()["state"], back.json()["round"]) == ("submitted", 2)
    assert [(d["kind"], d["content_type"]) for d in back.json()["documents"]] == [
        ("income_statement", "application/pdf"), ("payslip", "image/png")]
    assert back.json()["decisions"][-1]["facts"]["documents"][1]["sha256"] == hashlib.sha256(PNG).hexdigest()


def test_documents_are_files_kept_with_the_case_and_opened_only_by_those_on_it(palace, admin, officers):
    a, b = officers[0], new_staff(palace.url, admin, ["welfare_officer"], name="Officer C")
    member, stranger = new_member(palace.url, "Qian Yu"), new_member(palace.url)
    draft = apply(member, documents=(), draft=True)
    refused = member.post(f"/v1/welfare/applications/{draft['id']}/submission", {})
    assert refused.status_code == 422 and "income_statement" in refused.json()["errors"]["documents"][0]
    fake = attach(member, draft, "income_statement", b"GIF89a not a pdf", "application/pdf", status=415)
    assert fake["type"].endswith("/problems/unsupported-media-type") and "file" in fake["errors"]
    big = attach(own_connection(member), draft, "income_statement", b"%PDF-" + bytes(10 * 1024 * 1024), status=413)
    assert big["type"].endswith("/problems/payload-too-large")
    assert attach(member, draft, "Income Statement", status=422)["errors"]["kind"]
    photo = attach(member, draft, "id_card_photo", PNG, "application/pdf", filename="../../etc/id card.png")
    assert (photo["content_type"], photo["filename"], photo["size"]) == ("image/png", "id card.png", len(PNG))
    statement = attach(member, draft, "income_statement", pdf("March"), filename="收入证明.pdf")
    assert attach(member, draft, "income_statement", pdf("March"))["id"] == statement["id"], "a retry is one file"
    assert statement["sha256"] == hashlib.sha256(pdf("March")).hexdigest()
    sent = member.post(f"/v1/welfare/applications/{draft['id']}/submission", {})
    assert sent.status_code == 200 and [d["id"] for d in sent.json()["documents"]] == [photo["id"], statement["id"]]
    assert sent.json()["decisions"][-1]["facts"]["documents"][1]["sha256"] == statement["sha256"]

    url = f"/v1/welfare/applications/{draft['id']}/documents/{statement['id']}"
    own = member.get(url)
    assert own.status_code == 200 and own.content == pdf("March") and own.headers["Content-Type"] == "application/pdf"
    assert own.headers["X-Content-Type-Options"] == "nosniff" and "attachment" in own.headers["Content-Disposition"]
    assert stranger.get(url).status_code == 404
    assert a.get(url).status_code == 403, "an officer not on the case does not open its files"
    assert attach(a, draft, "other", status=403)["type"].endswith("/problems/not-on-the-case")
    assert len(a.get(f"/v1/welfare/applications/{draft['id']}").json()["documents"]) == 2, "listed, not opened"
    assert a.post(f"/v1/welfare/applications/{draft['id']}/assignment", {"officer_id": b.id}).status_code == 200
    assert b.get(url).content == pdf("March")
    reads = member.get(f"/v1/welfare/applications/{draft['id']}/reads").json()["reads"]
    assert [(r["reader_id"], r["document_id"], r["saw_private"]) for r in reads if r["document_id"]] == [
        (b.id, statement["id"], True)], "the officer's download is logged, the member's own is not"
    decide(b, sent.json(), "reject", note="income above the line")
    late = attach(member, draft, "payslip", status=409)
    assert late["type"].endswith("/problems/case-decided")


def test_a_programmes_eligibility_rules_are_checked_on_submission_naming_each_rule(palace, officers):
    member = new_member(palace.url, "Feng Jie")
    rules = {p["code"]: p["eligibility_rules"] for p in member.get("/v1/welfare/programmes").json()}
    assert rules["hardship_relief"] == [{"rule": "income_per_person_below", "amount": "1500.00"}]
    well_off = apply(member, draft=True, private={"household_income": "6000.00", "household_size": 2})
    refused = member.post(f"/v1/welfare/applications/{well_off['id']}/submission", {})
    assert refused.status_code == 422 and refused.json()["type"].endswith("/problems/not-eligible"), refused.text
    assert refused.json()["errors"]["eligibility"] == [
        "income_per_person_below: 3000.00 a month per person; the programme is for households below 1500.00"]
    assert member.get(f"/v1/welfare/applications/{well_off['id']}").json()["state"] == "draft", "nothing written"
    fixed = member.post(f"/v1/welfare/applications/{well_off['id']}/submission",
                        {"private": {"household_size": 5}, "note": "five of us live on it"})
    assert fixed.status_code == 200, fixed.text
    frozen = fixed.json()["decisions"][-1]["facts"]
    assert frozen["eligibility"]["unmet"] == [] and frozen["private"]["household_size"] == 5
    hidden = officers[0].get(f"/v1/welfare/applications/{well_off['id']}").json()["decisions"][-1]["facts"]
    assert "private" not in hidden and hidden["eligibility"]["rules"], "the rules, not the household's income"

    scholar = apply(member, programme="merit_scholarship", amount_requested="500.00", documents=["award_certificate"],
                    draft=True)
    newcomer = member.post(f"/v1/welfare/applications/{scholar['id']}/submission", {})
    assert newcomer.status_code == 422 and newcomer.json()["errors"]["eligibility"] == [
        "min_membership_months: a member for 0 month(s); the programme asks at least 12"], newcomer.text
    outside = member.post("/v1/welfare/applications", {"programme": "mutual_aid", "amount_requested": "500.00",
                                                       "reason": "x"})
    assert outside.status_code == 422 and outside.json()["errors"]["eligibility"][0].startswith("unit_in_plan:")
    apply(member, programme="education_subsidy", amount_requested="0", documents=["enrolment_certificate"])
    again = member.post("/v1/welfare/applications", {"programme": "education_subsidy", "reason": "second degree",
                                                     "draft": True}).json()
    attach(member, again, "enrolment_certificate")
    twice = member.post(f"/v1/welfare/applications/{again['id']}/submission", {})
    assert twice.status_code == 422 and twice.json()["errors"]["eligibility"] == [
        "one_per_year: the member already applied to this programme this year"]


def test_a_draft_is_kept_until_the_member_submits_it(palace, officers):
    member = new_member(palace.url)
    draft = apply(member, draft=True)
    assert draft["state"] == "draft"
    refused = decide(officers[0], draft, "approve", "10.00", status=409)
    assert refused["type"].endswith("/problems/case-not-open")
    sent = member.post(f"/v1/welfare/applications/{draft['id']}/submission", {})
    assert sent.status_code == 200 and (sent.json()["state"], sent.json()["round"]) == ("submitted", 1), sent.text
    again = member.post(f"/v1/welfare/applications/{draft['id']}/submission", {})
    assert again.status_code == 409 and again.json()["type"].endswith("/problems/illegal-transition")


def test_members_see_only_their_own_cases_and_cannot_decide(palace, officers):
    owner, other = new_member(palace.url), new_member(palace.url)
    application = apply(owner)
    assert other.get(f"/v1/welfare/applications/{application['id']}").status_code == 404
    assert [x["id"] for x in other.get("/v1/welfare/applications").json()] == []
    assert owner.post(f"/v1/welfare/applications/{application['id']}/decisions",
                      {"decision": "approve", "amount": "1.00"}).status_code == 403
    assert other.post("/v1/welfare/applications", {"programme": "hardship_relief", "amount_requested": "1.00",
                                                   "reason": "x", "member_id": owner.id}).status_code == 403
    reads = officers[0].get(f"/v1/welfare/applications/{application['id']}/reads").json()
    assert reads["reads"] == []
    officers[0].get(f"/v1/welfare/applications/{application['id']}")
    assert officers[0].get(f"/v1/welfare/applications/{application['id']}/reads").json()["reads"][0]["reader_id"] \
        == officers[0].id


@pytest.mark.parametrize("body, field", [
    ({"programme": "hardship_relief", "amount_requested": 5000, "reason": "x"}, "amount_requested"),
    ({"programme": "lottery", "amount_requested": "1.00", "reason": "x"}, "programme"),
    ({"programme": "hardship_relief", "amount_requested": "1.00", "reason": "x"}, "documents"),
    ({"programme": "legal_aid", "amount_requested": "1.00", "reason": "x"}, "amount_requested"),
    ({"programme": "legal_aid", "reason": "x", "national_id": "110105194912310021"}, "national_id"),
])
def test_bad_applications_are_refused_naming_the_field(palace, body, field):
    answer = new_member(palace.url).post("/v1/welfare/applications", body)
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["errors"]


def test_education_support_pays_1000_from_the_province_and_500_from_the_city(palace, officers):
    a, b = officers
    member = new_member(palace.url)
    application = apply(member, programme="education_subsidy", amount_requested="0",
                        documents=["enrolment_certificate"])
    assert application["amount_requested"] == "1500.00"
    assert decide(a, application, "approve")["amount_approved"] == "1500.00"
    assert b.post(f"/v1/welfare/applications/{application['id']}/payouts").json()["amount"] == "1500.00"
    for fund, amount in (("education_province", "1000.00"), ("education_city", "500.00")):
        ledger = a.get(f"/v1/welfare/funds/{fund}/ledger").json()
        assert {"kind": "payout", "account": "paid_out", "amount": amount} in [
            {k: e[k] for k in ("kind", "account", "amount")} for e in ledger["entries"]
            if e["application_id"] == application["id"]]


def test_legal_aid_is_triaged_to_an_officer_who_finds_it_in_their_list(palace, officers):
    a, b = officers
    member = new_member(palace.url)
    request = member.post("/v1/welfare/applications", {"programme": "legal_aid", "reason": "three months unpaid wages",
                                                       "private": {"family": "sole earner"}}).json()
    assigned = a.post(f"/v1/welfare/applications/{request['id']}/assignment", {"officer_id": b.id,
                                                                               "priority": "urgent"})
    assert assigned.status_code == 200, assigned.text
    assert (assigned.json()["assigned_officer"], assigned.json()["priority"]) == (b.id, "urgent")
    assert assigned.json()["private"] is None, "triage alone does not open the private file to the triager"
    mine = b.get("/v1/welfare/applications", params={"assigned": "true"}).json()
    assert [x["id"] for x in mine] == [request["id"]]
    assert b.get(f"/v1/welfare/applications/{request['id']}").json()["private"]["family"] == "sole earner"
    assert decide(b, request, "approve")["state"] == "approved"
    pay = b.post(f"/v1/welfare/applications/{request['id']}/payouts")
    assert pay.status_code == 409 and pay.json()["type"].endswith("/problems/nothing-to-pay")
    assert decide(b, request, "close", note="settled at arbitration")["state"] == "closed"


def test_an_admin_puts_next_years_budget_into_a_fund(palace, admin, officers):
    answer = admin.post("/v1/welfare/funds/merit_scholarship/budgets", {"year": 2027, "amount": "250000.00"})
    assert answer.status_code == 201, answer.text
    assert {"year": 2027, "amount": "250000.00"} in answer.json()["budgets"] and answer.json()["total"] == "0.00"
    assert officers[0].post("/v1/welfare/funds/merit_scholarship/budgets",
                            {"year": 2027, "amount": "1.00"}).status_code == 403
    assert admin.post("/v1/welfare/funds/nowhere/budgets", {"year": 2027, "amount": "1.00"}).status_code == 404


PLAN = {"year": 2026, "contribution": "60.00", "rules": {
    "hospital_daily": "50.00", "hospital_deductible_days": 3, "hospital_max_days": 90, "waiting_days": 90,
    "critical_illness": "10000.00", "yearly_cap": "15000.00",
    "accident": {"minor": "500.00", "moderate": "2000.00", "severe": "5000.00", "disability": "10000.00"}}}


def test_a_unit_enrols_by_csv_and_a_member_claims_and_is_paid(palace, admin, officers):
    a, b = officers
    unit = admin.post("/v1/units", {"name": f"Huaibei Mining Co. {uuid.uuid4().hex[:6]}"})
    assert unit.status_code == 201, unit.text
    unit_admin = new_staff(palace.url, admin, ["unit_admin"], unit_id=unit.json()["id"])
    plan = a.post("/v1/mutual-aid/plans", {**PLAN, "name": f"Plan {uuid.uuid4().hex[:6]}"})
    assert plan.status_code == 201, plan.text
    plan = plan.json()
    worker = new_member(palace.url, "Sun Li")
    joined = admin.post(f"/v1/units/{unit.json()['id']}/members", {"phone": worker.get("/v1/me").json()["phone"]})
    assert joined.status_code == 200, joined.text  # a roster names only the unit's workers
    csv_text = ("name,national_id,phone,member_id\n"
                f"Sun Li,11010519491231002X,13912345678,{worker.id}\n"
                "Bad Id,110105194912310021,,\n"
                "Zhou Qiang,440524188001010014,,\n"
                "Twice,11010519491231002X,,\n")
    upload = unit_admin.post(f"/v1/mutual-aid/plans/{plan['id']}/enrolments", data=csv_text.encode(),
                             headers={"Content-Type": "text/csv"})
    assert upload.status_code == 202, upload.text
    job = eventually(lambda: (lambda j: j if j["status"] in ("done", "failed") else None)(
        unit_admin.get(f"/v1/mutual-aid/imports/{upload.json()['id']}").json()), timeout=20)
    assert (job["status"], job["enrolled_rows"], job["bad_rows"]) == ("done", 2, 2), job
    assert [e["line"] for e in job["errors"]] == [3, 5]
    assert "check digit" in job["errors"][0]["errors"][0] and "line 2" in job["errors"][1]["errors"][0]
    assert member_cannot_upload(palace, plan) == 403
    listed = unit_admin.get(f"/v1/mutual-aid/plans/{plan['id']}/enrolments").json()
    assert [(e["name"], e["national_id"], e["cover_from"]) for e in listed] == [
        ("Sun Li", "**************002X", None), ("Zhou Qiang", "**************0014", None)]

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()  # the plan's calendar
    early = worker.post("/v1/mutual-aid/claims", {"plan_id": plan["id"], "kind": "accident", "event_date": today,
                                                   "details": {"severity": "moderate"}})
    assert early.status_code == 201 and early.json()["amount"] == "0.00", early.text
    assert "contribution" in early.json()["explanation"][0]["text"]
    twice = worker.post("/v1/mutual-aid/claims", {"plan_id": plan["id"], "kind": "accident", "event_date": today,
                                                   "details": {"severity": "moderate"}})
    assert twice.status_code == 409 and twice.json()["type"].endswith("/problems/duplicate-claim")
    rejected = a.post(f"/v1/mutual-aid/claims/{early.json()['id']}/decisions",
                      {"decision": "reject", "note": "no cover yet: the unit's contribution has not arrived"})
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert a.post(f"/v1/mutual-aid/plans/{plan['id']}/contributions",
                  {"unit_id": unit.json()["id"], "amount": "120.00"}).status_code == 201
    claim = worker.post("/v1/mutual-aid/claims", {"plan_id": plan["id"], "kind": "accident", "event_date": today,
                                                   "details": {"severity": "moderate"}})
    assert claim.status_code == 201, claim.text
    claim = claim.json()
    assert claim["amount"] == "2000.00" and claim["explanation"] == [
        {"text": "accident benefit, moderate injury", "amount": "2000.00"}]
    illness = worker.post("/v1/mutual-aid/claims", {"plan_id": plan["id"], "kind": "hospital", "event_date": today,
                                                     "details": {"days": 5}}).json()
    assert illness["amount"] == "0.00" and "waiting period" in illness["explanation"][0]["text"]

    assert a.get(f"/v1/mutual-aid/claims/{claim['id']}").json()["details"] is None, "a is not on the claim yet"
    given = a.post(f"/v1/mutual-aid/claims/{claim['id']}/assignment", {"officer_id": b.id})
    assert given.status_code == 200 and given.json()["assigned_officer"] == b.id, given.text
    assert b.get(f"/v1/mutual-aid/claims/{claim['id']}").json()["details"] == {"severity": "moderate"}
    assert [c["id"] for c in b.get("/v1/mutual-aid/claims", params={"assigned": "true"}).json()] == [claim["id"]]
    decided = a.post(f"/v1/mutual-aid/claims/{claim['id']}/decisions", {"decision": "approve", "note": "ok"})
    assert decided.status_code == 200 and decided.json()["state"] == "approved", decided.text
    paid = b.post(f"/v1/mutual-aid/claims/{claim['id']}/payouts")
    assert paid.status_code == 201 and paid.json()["amount"] == "2000.00", paid.text
    assert b.post(f"/v1/mutual-aid/claims/{claim['id']}/payouts").status_code == 409
    assert [c["id"] for c in worker.get("/v1/mutual-aid/claims").json()][:1] in ([illness["id"]], [claim["id"]])
    assert new_member(palace.url).get(f"/v1/mutual-aid/claims/{claim['id']}").status_code == 404
    listed = {c["id"]: c for c in a.get("/v1/mutual-aid/claims").json()}
    assert listed[claim["id"]]["details"] is None, "health details are not in staff lists"
    assert a.get(f"/v1/mutual-aid/claims/{claim['id']}").json()["details"] == {"severity": "moderate"}, "decided it"


def member_cannot_upload(palace, plan):
    return new_member(palace.url).post(f"/v1/mutual-aid/plans/{plan['id']}/enrolments", data=b"name,national_id\n",
                                       headers={"Content-Type": "text/csv"}).status_code


def test_welfare_figures_for_the_stats_route(palace):
    with palace.rpc() as rpc:
        figures = rpc.welfare.stats()
    assert figures["payouts"] >= 3 and figures["claims_paid"] == 1 and figures["mutual_aid_enrolments"] == 2
    assert figures["cases_hardship_relief_paid"] == 1 and figures["amount_paid"] == "8000.00"


def test_a_unit_file_larger_than_the_gateways_default_body_limit_is_imported(palace, admin, officers):
    import random

    from bench.csv_import import make_csv
    unit = admin.post("/v1/units", {"name": f"Yantai Port Group {uuid.uuid4().hex[:6]}"}).json()["id"]
    unit_admin = new_staff(palace.url, admin, ["unit_admin"], unit_id=unit)
    plan = officers[0].post("/v1/mutual-aid/plans", {**PLAN, "name": f"Plan {uuid.uuid4().hex[:6]}"}).json()
    text, bad = make_csv(25_000, random.Random(3))
    assert len(text.encode()) > 1024 * 1024
    upload = unit_admin.post(f"/v1/mutual-aid/plans/{plan['id']}/enrolments", data=text.encode(),
                             headers={"Content-Type": "text/csv"})
    assert upload.status_code == 202, upload.text
    job = eventually(lambda: (lambda j: j if j["status"] == "done" else None)(
        unit_admin.get(f"/v1/mutual-aid/imports/{upload.json()['id']}").json()), timeout=30)
    assert job["enrolled_rows"] == 25_000 - len(bad) and [e["line"] for e in job["errors"]] == bad


def test_an_idempotent_replay_keeps_no_private_facts_in_the_gateway(palace, officers):
    """A backup-style read of the gateway's idempotency table after a welfare create with a key
    finds none of the private facts sent; a replay still answers the same status and the same case."""
    member = new_member(palace.url)
    secret = f"chemotherapy {uuid.uuid4().hex[:8]}"
    body = {"programme": "hardship_relief", "amount_requested": "5000.00", "reason": "hospital bills",
            "national_id": "11010519491231002X", "draft": True,
            "private": {"household_income": "2417.35", "household_size": 3, "health": secret}}
    key = {"Idempotency-Key": f"apply-{uuid.uuid4().hex}"}
    first = member.post("/v1/welfare/applications", body, headers=key)
    assert first.status_code == 201, first.text
    statement = pdf(f"statement {secret}")
    upload = {"data": statement, "params": {"kind": "income_statement", "filename": "病历-化疗.pdf"},
              "headers": {"Content-Type": "application/pdf", "Idempotency-Key": f"doc-{uuid.uuid4().hex}"}}
    path = f"/v1/welfare/applications/{first.json()['id']}/documents"
    attached = member.http.post(palace.url + path, timeout=15, **upload)
    assert attached.status_code == 201, attached.text

    with palace.db("gateway") as conn:
        kept = " ".join(r["row"] for r in conn.execute(
            "SELECT row_to_json(k)::text AS row FROM idempotency_keys k WHERE key = ANY(%s)",
            ([key["Idempotency-Key"], upload["headers"]["Idempotency-Key"]],)))
    assert first.json()["id"] in kept and attached.json()["id"] in kept
    for private in (secret, "2417.35", "hospital bills", "91231002X", "化疗"):
        assert private not in kept, f"the idempotency table keeps {private!r}"

    again = member.post("/v1/welfare/applications", body, headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["private"]["health"] == secret
    assert again.headers["Location"] == first.headers["Location"]
    twice = member.http.post(palace.url + path, timeout=15, **upload)
    assert twice.status_code == 201 and twice.json() == attached.json()

    # an officer's decision on the case, with a key, keeps no private facts either
    sent = member.post(f"/v1/welfare/applications/{first.json()['id']}/submission", {})
    assert sent.status_code == 200, sent.text
    returned = {"decision": "return", "note": "please add the March payslip"}
    decision_key = {"Idempotency-Key": f"decide-{uuid.uuid4().hex}"}
    decided = officers[0].post(f"/v1/welfare/applications/{first.json()['id']}/decisions", returned, headers=decision_key)
    assert decided.status_code == 201, decided.text
    with palace.db("gateway") as conn:
        [row] = conn.execute("SELECT body::text AS body FROM idempotency_keys WHERE key = %s",
                             (decision_key["Idempotency-Key"],))
    assert secret not in row["body"] and "2417.35" not in row["body"] and first.json()["id"] in row["body"]
    replayed = officers[0].post(f"/v1/welfare/applications/{first.json()['id']}/decisions", returned,
                                headers=decision_key)
    assert (replayed.status_code, replayed.json()["id"]) == (201, first.json()["id"])
