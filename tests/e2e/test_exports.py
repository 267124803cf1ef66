"""Staff lists as spreadsheets (gateway/exports.py): the .xlsx opened with openpyxl, the CSV read with
csv; headers in Chinese, every row of every page (not the first 50), a cell that would run as a
formula neutralised, and the list's own scoping kept (a member exports only their own bookings)."""
import csv
import io
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from tests.e2e.conftest import NO_LIMITS, new_member, new_staff

SH = ZoneInfo("Asia/Shanghai")
CSV_TYPE, XLSX_TYPE = "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOOKINGS = 450  # more than two pages of 200
FORMULA = "=cmd|' /C calc'!A0"


def as_csv(answer):
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith(CSV_TYPE)
    assert answer.content.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    assert "attachment" in answer.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


def as_xlsx(answer):
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == XLSX_TYPE
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture(scope="module")
def manager(palace, admin):
    return new_staff(palace.url, admin, ["venue_manager"], name="Zhao Lei")


@pytest.fixture(scope="module")
def booked(palace, manager):
    """A site, a room and BOOKINGS bookings written straight into venues; one member holds three,
    one of them titled as a formula."""
    member = new_member(palace.url)
    site = manager.post("/v1/sites", {"name": "莱山职工之家", "kind": "shared", "district": "莱山区"}).json()
    room = manager.post("/v1/rooms", {"site_id": site["id"], "name": "排练厅", **NO_LIMITS, "capacity": 40}).json()
    first = datetime(2026, 3, 2, 19, tzinfo=SH)
    rows = [{"start": first + timedelta(days=n), "title": f"合唱排练 {n}", "member": None} for n in range(BOOKINGS)]
    for n, title in ((7, FORMULA), (8, "@SUM(A1:A9)"), (9, "-120.00")):
        rows[n].update(title=title, member=member.id)
    with palace.db("venues") as conn:
        conn.cursor().executemany(
            "INSERT INTO bookings (room_id, site_id, title, status, starts_at, ends_at, blocked, holder_service,"
            " holder_reference, member_id) VALUES (%(room)s, %(site)s, %(title)s, 'confirmed', %(start)s,"
            " %(start)s + interval '2 hours', tstzrange(%(start)s, %(start)s + interval '2 hours'), 'members',"
            " coalesce(%(member)s::text, 'club'), %(member)s::uuid)",
            [{**r, "room": room["id"], "site": site["id"]} for r in rows])
    return {"member": member, "room": room}


def test_the_bookings_as_csv_are_every_row_of_every_page_with_chinese_headers(manager, booked):
    query = {"room_id": booked["room"]["id"]}
    table = as_csv(manager.get("/v1/bookings", params=query, headers={"Accept": CSV_TYPE}))
    assert table[0][:4] == ["编号", "名称", "状态", "场地编号"]
    assert len(table) == BOOKINGS + 1
    assert len({row[0] for row in table[1:]}) == BOOKINGS  # no row twice across the pages
    titles = {row[1] for row in table[1:]}
    assert "'" + FORMULA in titles and FORMULA not in titles
    assert "'@SUM(A1:A9)" in titles
    assert "-120.00" in titles  # a plain number is no formula: left as it is
    # the JSON list is as it was: a page of 50
    assert len(manager.get("/v1/bookings", params=query).json()) == 50


def test_the_bookings_as_xlsx_open_in_openpyxl_with_the_same_rows(manager, booked):
    cells = as_xlsx(manager.get("/v1/bookings", params={"room_id": booked["room"]["id"]},
                                headers={"Accept": XLSX_TYPE}))
    assert cells[0][:4] == ["编号", "名称", "状态", "场地编号"]
    assert len(cells) == BOOKINGS + 1
    titles = {row[1] for row in cells[1:]}
    assert "'" + FORMULA in titles and FORMULA not in titles


def test_an_export_keeps_the_lists_own_scoping(booked):
    """A member's export of /v1/bookings holds their own bookings only, as their JSON list does."""
    table = as_csv(booked["member"].get("/v1/bookings", headers={"Accept": CSV_TYPE}))
    assert len(table) == 1 + 3


def test_a_list_that_answers_json_still_does_without_asking(manager, booked):
    answer = manager.get("/v1/bookings", headers={"Accept": "*/*"})
    assert answer.headers["Content-Type"].startswith("application/json")
    answer = manager.get("/v1/sites", headers={"Accept": CSV_TYPE})  # a list with no export: its JSON
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")


def test_a_refused_export_is_a_problem_not_a_spreadsheet(palace, booked):
    member = new_member(palace.url)
    answer = member.get(f"/v1/courses/{uuid.uuid4()}/enrolments", headers={"Accept": CSV_TYPE})
    assert answer.status_code == 403
    assert answer.headers["Content-Type"].startswith("application/problem+json")


@pytest.fixture(scope="module")
def officer(palace, admin):
    return new_staff(palace.url, admin, ["welfare_officer"], name="Qian Hong")


def test_cases_and_the_fund_ledger_export_as_their_lists(palace, officer):
    member = new_member(palace.url)
    for n in range(3):
        answer = member.post("/v1/welfare/applications", {"programme": "legal_aid", "amount_requested": "0.00",
                                                          "reason": FORMULA if n == 0 else f"劳动争议 {n}"})
        assert answer.status_code == 201, answer.text
    listed = officer.get("/v1/welfare/applications", params={"limit": 200}).json()
    table = as_csv(officer.get("/v1/welfare/applications", headers={"Accept": CSV_TYPE}))
    assert table[0][:3] == ["业务编号", "项目", "状态"] and len(table) == len(listed) + 1
    assert "'" + FORMULA in {row[6] for row in table[1:]}
    ledger = officer.get("/v1/welfare/funds/hardship_relief/ledger").json()
    cells = as_xlsx(officer.get("/v1/welfare/funds/hardship_relief/ledger", headers={"Accept": XLSX_TYPE}))
    assert cells[0][:3] == ["交易号", "创建时间", "类别"]
    assert len(cells) == len(ledger["entries"]) + 1 and len(ledger["entries"]) >= 2
    amounts = sorted(row[5] for row in cells[1:])
    assert amounts == sorted(float(e["amount"]) for e in ledger["entries"])  # yuan as numbers Excel can add


def test_payouts_plan_enrolments_and_claims_export_every_row(palace, officer):
    """Written straight into welfare: 230 payouts and plan enrolments (two pages each), 3 claims."""
    with palace.db("welfare") as conn:
        plan = conn.execute("INSERT INTO plans (year, name, contribution, rules) VALUES (2026, %s, 3000, '{}')"
                            " RETURNING id", (f"plan {uuid.uuid4().hex[:6]}",)).fetchone()["id"]
        unit = uuid.uuid4()
        conn.execute(
            "INSERT INTO plan_enrolments (plan_id, unit_id, name, phone, national_id_hash, national_id_cipher,"
            " national_id_mask) SELECT %s, %s, CASE WHEN n = 1 THEN %s ELSE '工人 ' || n END, '1390000' || lpad(n::text, 4, '0'),"
            " 'h' || n, '\\x00', '3706**********' || lpad(n::text, 4, '0') FROM generate_series(1, 230) n",
            (plan, unit, FORMULA))
        conn.execute(
            "INSERT INTO claims (plan_id, enrolment_id, member_id, submitted_by, kind, event_date, details, state,"
            " amount, explanation) SELECT plan_id, id, gen_random_uuid(), gen_random_uuid(), 'hospital', '2026-03-01',"
            " '{}', 'paid', 50000, '[]' FROM plan_enrolments WHERE plan_id = %s ORDER BY id LIMIT 3", (plan,))
        conn.execute(
            "INSERT INTO payouts (reference, claim_id, member_id, amount) SELECT 'C-' || id, id, member_id, amount"
            " FROM claims WHERE plan_id = %s", (plan,))
        conn.execute("INSERT INTO payouts (reference, claim_id, member_id, amount) SELECT 'X-' || n, gen_random_uuid(),"
                     " gen_random_uuid(), 100 * n FROM generate_series(1, 227) n")
    payouts = officer.get("/v1/welfare/payouts")
    assert payouts.status_code == 200, payouts.text
    table = as_csv(officer.get("/v1/welfare/payouts", headers={"Accept": CSV_TYPE}))
    assert table[0][:3] == ["业务编号", "项目", "金额（元）"]
    assert len(table) - 1 == int(payouts.headers["X-Total-Count"]) >= 230
    enrolled = as_xlsx(officer.get(f"/v1/mutual-aid/plans/{plan}/enrolments", headers={"Accept": XLSX_TYPE}))
    assert enrolled[0][:5] == ["编号", "单位编号", "姓名", "手机号", "身份证号（遮蔽）"] and len(enrolled) == 231
    assert "'" + FORMULA in {row[2] for row in enrolled} and all("*" in row[4] for row in enrolled[1:])
    claims = officer.get("/v1/mutual-aid/claims", params={"limit": 200}).json()
    table = as_csv(officer.get("/v1/mutual-aid/claims", headers={"Accept": CSV_TYPE}))
    assert table[0][:3] == ["编号", "会员编号", "类别"] and len(table) == len(claims) + 1 >= 4
