"""Mutual aid that pays, over HTTP: a unit's roster as its clerks save it (GB18030 CSV, .xlsx) with
no account ids, workers linked to their accounts at import and when they register later, claims by
the worker and by an officer for a worker with no account, two officers for a large claim and never
the approver paying, contributions checked against the headcount and posted to the fund's ledger,
and renewal of last year's roster."""
import io
import itertools
import random
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from services.welfare.domain import national_id_check_digit
from tests.e2e.conftest import Client, new_member, new_staff
from tests.e2e.test_welfare_cases import PLAN, pdf
from tests.harness import eventually

_phones = itertools.count(13_700_000_000 + random.Random().randrange(0, 90_000_000, 1000))
_people = itertools.count(1)


def national_id(n):
    first17 = f"110105{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + national_id_check_digit(first17)


def register(base, phone, name):
    """Register with this phone, as the worker on the roster does, and sign in."""
    answer = requests.post(f"{base}/v1/auth/register",
                           json={"phone": phone, "name": name, "password": "member-password"}, timeout=15)
    assert answer.status_code == 201, answer.text
    token = requests.post(f"{base}/v1/auth/token", json={"phone": phone, "password": "member-password"}, timeout=15)
    assert token.status_code == 200, token.text
    member = Client(base, token.json()["access_token"])
    member.id = answer.json()["id"]
    return member


def roster(count):
    """`count` workers as (name, national id, phone): Chinese names, no account ids."""
    start = next(_people) * 1000
    return [(f"工人{chr(0x4E00 + start % 500 + n)}{n}", national_id(start + n), str(next(_phones)))
            for n in range(count)]


def csv_of(rows, member_ids=None):
    member_ids = member_ids or {}
    lines = ["name,national_id,phone,member_id"] + [
        f"{name},{nid},{phone},{member_ids.get(nid, '')}" for name, nid, phone in rows]
    return "\n".join(lines) + "\n"


def upload(client, plan, body, content_type="text/csv", status=202, **params):
    answer = client.post(f"/v1/mutual-aid/plans/{plan['id']}/enrolments", data=body, params=params,
                         headers={"Content-Type": content_type})
    assert answer.status_code == status, answer.text
    if status != 202:
        return answer.json()
    return eventually(lambda: (lambda j: j if j["status"] in ("done", "failed") else None)(
        client.get(f"/v1/mutual-aid/imports/{answer.json()['id']}").json()), timeout=30)


def enrolments(client, plan):
    return client.get(f"/v1/mutual-aid/plans/{plan['id']}/enrolments", params={"limit": 200}).json()


def ledger(officer):
    answer = officer.get("/v1/welfare/funds/mutual_aid/ledger", params={"limit": 200})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def officers(palace, admin):
    return [new_staff(palace.url, admin, ["welfare_officer", "member"], name=f"Officer {n}") for n in "ABCD"]


@pytest.fixture(scope="module")
def unit(palace, admin):
    made = admin.post("/v1/units", {"name": f"Huaibei Mining Co. {uuid.uuid4().hex[:6]}"})
    assert made.status_code == 201, made.text
    made = made.json()
    made["admin"] = new_staff(palace.url, admin, ["unit_admin"], unit_id=made["id"])
    return made


@pytest.fixture(scope="module")
def plan(officers):
    made = officers[0].post("/v1/mutual-aid/plans", {**PLAN, "name": f"Plan {uuid.uuid4().hex[:6]}"})
    assert made.status_code == 201, made.text
    return made.json()


@pytest.fixture(scope="module")
def workers():
    return roster(100)


def test_a_gb18030_roster_of_100_workers_pays_claims_by_the_worker_and_by_an_officer(
        palace, admin, officers, unit, plan, workers):
    a, b, c, d = officers
    unit_admin = unit["admin"]
    early = register(palace.url, workers[0][2], workers[0][0])  # had an account before the upload
    body = csv_of(workers).encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    job = upload(unit_admin, plan, body, "text/csv; charset=gb18030")
    assert (job["status"], job["enrolled_rows"], job["bad_rows"]) == ("done", 100, 0), job
    listed = enrolments(unit_admin, plan)
    assert len(listed) == 100 and [e["name"] for e in listed] == [w[0] for w in workers], "the names arrived whole"
    # linked by phone at import: the gateway says which phones of the file have accounts
    assert [e["member_id"] for e in listed if e["member_id"]] == [early.id]

    later = register(palace.url, workers[1][2], workers[1][0])  # registers after the upload
    eventually(lambda: enrolments(unit_admin, plan)[1]["member_id"] == later.id, timeout=15)
    assert [e["member_id"] for e in enrolments(unit_admin, plan)][2:] == [None] * 98

    before = ledger(a)
    short = a.post(f"/v1/mutual-aid/plans/{plan['id']}/contributions", {"unit_id": unit["id"], "amount": "5000.00"})
    assert short.status_code == 422 and short.json()["type"].endswith("/problems/contribution-mismatch"), short.text
    assert "5000.00" in short.json()["detail"] and "100 worker(s) x 60.00 = 6000.00" in short.json()["detail"]
    assert ledger(a)["entries"] == before["entries"], "nothing written"
    assert all(e["cover_from"] is None for e in enrolments(unit_admin, plan))
    paid_in = a.post(f"/v1/mutual-aid/plans/{plan['id']}/contributions", {"unit_id": unit["id"], "amount": "6000.00"})
    assert paid_in.status_code == 201 and paid_in.json()["headcount"] == 100, paid_in.text
    after = ledger(a)
    assert after["balances"]["available"] == money(yuan(before["balances"]["available"]) + 6000)
    assert {(e["kind"], e["account"], e["amount"]) for e in after["entries"][:2]} == {
        ("contribution", "allocation", "-6000.00"), ("contribution", "available", "6000.00")}

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    no_account = next(e for e in enrolments(a, plan) if e["name"] == workers[2][0])
    by_officer = a.post("/v1/mutual-aid/claims", {"plan_id": plan["id"], "enrolment_id": no_account["id"],
                                                  "kind": "accident", "event_date": today,
                                                  "details": {"severity": "disability"}})
    assert by_officer.status_code == 201, by_officer.text
    by_officer = by_officer.json()
    assert (by_officer["member_id"], by_officer["amount"], by_officer["approvals_needed"]) == (None, "10000.00", 1)
    report = a.post(f"/v1/mutual-aid/claims/{by_officer['id']}/documents", data=pdf("accident report"),
                    params={"kind": "accident_report"}, headers={"Content-Type": "application/pdf"})
    assert report.status_code == 201, report.text
    not_a_file = a.post(f"/v1/mutual-aid/claims/{by_officer['id']}/documents", data=b"MZ\x90\x00",
                        params={"kind": "accident_report"}, headers={"Content-Type": "application/pdf"})
    assert not_a_file.status_code == 415, not_a_file.text
    assert later.post("/v1/mutual-aid/claims", {"plan_id": plan["id"], "enrolment_id": no_account["id"],
                                                "kind": "accident", "event_date": today,
                                                "details": {"severity": "minor"}}).status_code == 403
    own = a.post(f"/v1/mutual-aid/claims/{by_officer['id']}/decisions", {"decision": "approve"})
    assert own.status_code == 403, "the officer who filed it does not approve it"

    first = b.post(f"/v1/mutual-aid/claims/{by_officer['id']}/decisions", {"decision": "approve", "note": "seen"})
    assert first.status_code == 200, first.text
    assert (first.json()["state"], first.json()["approvals"], first.json()["approvals_needed"]) == (
        "under_review", 1, 2), "10,000 yuan is above the threshold: a second officer must approve"
    assert [d["kind"] for d in first.json()["documents"]] == ["accident_report"]
    opened = b.get(f"/v1/mutual-aid/claims/{by_officer['id']}/documents/{report.json()['id']}")
    assert opened.status_code == 200 and opened.content == pdf("accident report"), opened.text[:200]
    with palace.db("welfare") as conn:  # an officer's download is a read of the claim, logged
        assert conn.execute("SELECT reader_id::text AS r FROM case_reads WHERE claim_document_id = %s",
                            (report.json()["id"],)).fetchall() == [{"r": b.id}]
    assert b.post(f"/v1/mutual-aid/claims/{by_officer['id']}/decisions",
                  {"decision": "approve"}).json()["type"].endswith("/problems/already-approved")
    assert d.post(f"/v1/mutual-aid/claims/{by_officer['id']}/payouts").status_code == 409, "not approved yet"
    second = c.post(f"/v1/mutual-aid/claims/{by_officer['id']}/decisions", {"decision": "approve", "note": "ok"})
    assert second.status_code == 200 and second.json()["state"] == "approved", second.text
    for approver in (b, c):
        refused = approver.post(f"/v1/mutual-aid/claims/{by_officer['id']}/payouts")
        assert refused.status_code == 403 and refused.json()["type"].endswith("/problems/approver-pays"), refused.text
    assert a.post(f"/v1/mutual-aid/claims/{by_officer['id']}/payouts").status_code == 403, "filed it"
    payout = d.post(f"/v1/mutual-aid/claims/{by_officer['id']}/payouts")
    assert payout.status_code == 201 and payout.json()["amount"] == "10000.00", payout.text
    assert d.post(f"/v1/mutual-aid/claims/{by_officer['id']}/payouts").status_code == 409, "paid once"

    own_claim = later.post("/v1/mutual-aid/claims", {"plan_id": plan["id"], "kind": "accident", "event_date": today,
                                                      "details": {"severity": "moderate"}})
    assert own_claim.status_code == 201 and own_claim.json()["amount"] == "2000.00", own_claim.text
    approved = a.post(f"/v1/mutual-aid/claims/{own_claim.json()['id']}/decisions", {"decision": "approve"})
    assert approved.status_code == 200 and approved.json()["state"] == "approved", "one officer below the threshold"
    assert a.post(f"/v1/mutual-aid/claims/{own_claim.json()['id']}/payouts").status_code == 403
    assert b.post(f"/v1/mutual-aid/claims/{own_claim.json()['id']}/payouts").status_code == 201

    end = ledger(a)
    assert end["total"] == "0.00", "the ledger balances"
    assert yuan(end["balances"]["paid_out"]) - yuan(before["balances"]["paid_out"]) == 12000
    assert yuan(end["balances"]["available"]) == yuan(before["balances"]["available"]) + 6000 - 12000
    assert yuan(end["balances"]["committed"]) == yuan(before["balances"]["committed"])

    # the worker the officer claimed for registers: the claim and its payout are theirs to see
    third = register(palace.url, workers[2][2], workers[2][0])
    eventually(lambda: [c["id"] for c in third.get("/v1/mutual-aid/claims").json()] == [by_officer["id"]], timeout=15)
    assert third.get(f"/v1/mutual-aid/claims/{by_officer['id']}").json()["state"] == "paid"


def yuan(text):
    return round(float(text))


def money(amount):
    return f"{amount:.2f}"


def test_a_roster_row_naming_an_account_that_is_not_the_units_worker_is_an_error_row(palace, admin, officers, unit):
    """Issue 18: a unit's file cannot link an account of another unit, one in no unit or no account at
    all; those rows are error rows, the others are imported."""
    plan = officers[0].post("/v1/mutual-aid/plans", {**PLAN, "name": f"Plan {uuid.uuid4().hex[:6]}"}).json()
    other = admin.post("/v1/units", {"name": f"Yantai Port Group {uuid.uuid4().hex[:6]}"}).json()
    elsewhere = new_staff(palace.url, admin, ["member"], name="Qian Jun", unit_id=other["id"])
    free = new_member(palace.url, "Zhao Free")
    ours = new_staff(palace.url, admin, ["member"], name="Sun Ours", unit_id=unit["id"])
    ghost = str(uuid.uuid4())
    rows = roster(4)
    job = upload(unit["admin"], plan, csv_of(rows, {rows[0][1]: ghost, rows[1][1]: elsewhere.id,
                                                    rows[2][1]: free.id, rows[3][1]: ours.id}).encode())
    assert (job["status"], job["enrolled_rows"], job["bad_rows"]) == ("done", 1, 3), job
    assert job["errors"] == [
        {"line": 2, "errors": [f"member_id: {ghost} is not a palace account (unknown member)"]},
        {"line": 3, "errors": [f"member_id: {elsewhere.id} is not a worker of this unit"]},
        {"line": 4, "errors": [f"member_id: {free.id} is not a worker of this unit"]}]
    after = enrolments(unit["admin"], plan)
    assert [(e["name"], e["member_id"]) for e in after] == [(rows[3][0], ours.id)]


def test_an_xlsx_roster_is_imported_with_errors_by_row_and_column(palace, officers, unit):
    from openpyxl import Workbook
    plan = officers[0].post("/v1/mutual-aid/plans", {**PLAN, "name": f"Plan {uuid.uuid4().hex[:6]}"}).json()
    rows = roster(3)
    book = Workbook()
    sheet = book.active
    sheet.append(["name", "national_id", "phone", "member_id"])
    sheet.append([rows[0][0], rows[0][1], int(rows[0][2]), None])  # a phone typed as a number
    sheet.append([rows[1][0], rows[1][1][:-1] + ("0" if rows[1][1][-1] != "0" else "1"), None, None])
    sheet.append([rows[2][0], rows[2][1], "12345", None])
    out = io.BytesIO()
    book.save(out)
    job = upload(unit["admin"], plan, out.getvalue(),
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert (job["status"], job["enrolled_rows"], job["bad_rows"]) == ("done", 1, 2), job
    assert [(e["line"], e["errors"][0].split(":")[0]) for e in job["errors"]] == [(3, "national_id"), (4, "phone")]
    assert enrolments(unit["admin"], plan)[0]["phone"] == rows[0][2]
    garbage = upload(unit["admin"], plan, b"\x81\x30\x81", status=422)  # neither UTF-8 nor GB18030
    assert "file" in garbage["errors"]


def test_renewal_copies_last_years_roster_for_the_unit_to_confirm_or_edit(palace, officers, unit, plan):
    a = officers[0]
    unit_admin = unit["admin"]
    next_year = a.post("/v1/mutual-aid/plans", {**PLAN, "year": PLAN["year"] + 1, "name": plan["name"]})
    assert next_year.status_code == 201, next_year.text
    next_year = next_year.json()
    renewed = unit_admin.post(f"/v1/mutual-aid/plans/{next_year['id']}/renewal", {"from_plan_id": plan["id"]})
    assert renewed.status_code == 200, renewed.text
    assert (renewed.json()["copied"], renewed.json()["waiting"], renewed.json()["confirmed"]) == (100, 100, 0)
    again = unit_admin.post(f"/v1/mutual-aid/plans/{next_year['id']}/renewal", {"from_plan_id": plan["id"]})
    assert (again.json()["copied"], again.json()["waiting"]) == (0, 100), "asked again, nothing more is copied"
    backwards = unit_admin.post(f"/v1/mutual-aid/plans/{plan['id']}/renewal", {"from_plan_id": next_year["id"]})
    assert backwards.status_code == 422 and "from_plan_id" in backwards.json()["errors"]
    early = a.post(f"/v1/mutual-aid/plans/{next_year['id']}/contributions",
                   {"unit_id": unit["id"], "amount": "6000.00"})
    assert early.status_code == 409 and early.json()["type"].endswith("/problems/roster-unconfirmed"), early.text

    rows = enrolments(unit_admin, next_year)
    assert rows[1]["member_id"] is not None and rows[0]["confirmed_at"] is None, "linked workers stay linked"
    moved = unit_admin.patch(f"/v1/mutual-aid/plans/{next_year['id']}/enrolments/{rows[-2]['id']}",
                             {"phone": "13800000000", "name": "改名 Renamed"})
    assert moved.status_code == 200 and (moved.json()["phone"], moved.json()["name"]) == (
        "13800000000", "改名 Renamed"), moved.text
    bad = unit_admin.patch(f"/v1/mutual-aid/plans/{next_year['id']}/enrolments/{rows[-2]['id']}", {"phone": "12"})
    assert bad.status_code == 422 and "phone" in bad.json()["errors"]
    left = unit_admin.delete(f"/v1/mutual-aid/plans/{next_year['id']}/enrolments/{rows[-1]['id']}")
    assert left.status_code == 200 and left.json()["waiting"] == 99, left.text
    confirmed = unit_admin.post(f"/v1/mutual-aid/plans/{next_year['id']}/renewal/confirmation", {})
    assert confirmed.status_code == 200 and (confirmed.json()["confirmed"], confirmed.json()["waiting"]) == (99, 0)
    wrong = a.post(f"/v1/mutual-aid/plans/{next_year['id']}/contributions",
                   {"unit_id": unit["id"], "amount": "6000.00"})
    assert wrong.status_code == 422 and "99 worker(s) x 60.00 = 5940.00" in wrong.json()["detail"]
    right = a.post(f"/v1/mutual-aid/plans/{next_year['id']}/contributions",
                   {"unit_id": unit["id"], "amount": "5940.00"})
    assert right.status_code == 201, right.text
    settled = unit_admin.delete(f"/v1/mutual-aid/plans/{next_year['id']}/enrolments/{rows[0]['id']}")
    assert settled.status_code == 409, "a paid roster is settled"
    assert unit_admin.patch(f"/v1/mutual-aid/plans/{next_year['id']}/enrolments/{rows[0]['id']}",
                            {"name": "Late"}).status_code == 409


def test_a_worker_known_from_another_roster_is_linked_by_national_id_without_a_phone(palace, officers, unit, plan,
                                                                                     workers):
    linked = {e["name"]: e["member_id"] for e in enrolments(unit["admin"], plan) if e["member_id"]}
    assert len(linked) == 3, "the three workers who registered in the first test"
    another = officers[0].post("/v1/mutual-aid/plans", {**PLAN, "name": f"Plan {uuid.uuid4().hex[:6]}"}).json()
    text = "name,national_id\n" + "".join(f"{name},{nid}\n" for name, nid, _ in workers[:5])
    job = upload(unit["admin"], another, text.encode("utf-8-sig"))
    assert (job["status"], job["enrolled_rows"]) == ("done", 5), job
    assert {e["name"]: e["member_id"] for e in enrolments(unit["admin"], another) if e["member_id"]} == linked
