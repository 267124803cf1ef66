"""Closing an account erases the person everywhere, through the real broker: the gateway forgets
their name, phone, birth date and ID digits and publishes a signed `account_closed`; welfare erases
their private facts, national ID and files with the names they were sent under (the case, its
payout and the fund's ledger stay, balanced); notify drops their contacts and inbox; enrolment and
venues end their places and bookings still to come (the seat and the room go to others) and erase
their birth date and their words, but a club they led keeps the rooms they booked for it."""
import uuid
from datetime import timedelta

import pytest

from tests.e2e.conftest import new_member, new_staff
from tests.e2e.test_venues_http import booking, evening, make_room
from tests.e2e.test_welfare_cases import apply, attach, decide, pdf
from tests.harness import eventually


@pytest.fixture(scope="module")
def officers(palace, admin):
    return [new_staff(palace.url, admin, ["welfare_officer", "member"], name=f"Officer {n}") for n in "AB"]


def test_closing_an_account_erases_the_person_in_every_service_and_keeps_the_ledger_balanced(palace, admin,
                                                                                            officers):
    a, b = officers
    member = new_member(palace.url, "Qian Hong")
    application = apply(member, national_id="11010519491231002X", private={"health": "kidney failure"})
    attach(member, application, "medical_report", content=pdf("nephrology letter"),
           filename="diagnosis_kidney_failure.pdf")
    decide(a, application, "approve", "4500.00")
    decide(b, application, "approve")
    paid = b.post(f"/v1/welfare/applications/{application['id']}/payouts", headers={"Idempotency-Key": "erase-1"})
    assert paid.status_code == 201, paid.text
    with palace.db("notify") as conn:
        eventually(lambda: conn.execute("SELECT 1 FROM contacts WHERE member_id = %s", (member.id,)).fetchone())

    closed = admin.delete(f"/v1/accounts/{member.id}")
    assert closed.status_code == 204, closed.text

    def erased_in_welfare():
        with palace.db("welfare") as conn:
            case = conn.execute("SELECT sealed, national_id_cipher, national_id_mask, reason FROM applications"
                                " WHERE id = %s", (application["id"],)).fetchone()
            files = conn.execute("SELECT octet_length(content) AS n, filename FROM application_documents"
                                 " WHERE application_id = %s", (application["id"],)).fetchall()
            return case["sealed"] is None and case["national_id_cipher"] is None and len(files) == 2 and \
                all(f["n"] == 0 and f["filename"] == "erased" for f in files)
    eventually(erased_in_welfare, timeout=30)
    with palace.db("welfare") as conn:
        decisions = conn.execute("SELECT sealed, facts FROM decisions WHERE application_id = %s",
                                 (application["id"],)).fetchall()
        assert all(d["sealed"] is None and "private" not in d["facts"] for d in decisions)
        payout = conn.execute("SELECT amount FROM payouts WHERE application_id = %s", (application["id"],)).fetchone()
        assert payout["amount"] == 450000, "the money paid stays paid"
        assert conn.execute("SELECT sum(balance)::bigint AS s FROM ledger_accounts").fetchone()["s"] == 0
    with palace.db("notify") as conn:
        eventually(lambda: conn.execute("SELECT count(*)::int AS n FROM contacts WHERE member_id = %s",
                                        (member.id,)).fetchone()["n"] == 0, timeout=30)
        assert conn.execute("SELECT count(*)::int AS n FROM inbox WHERE member_id = %s",
                            (member.id,)).fetchone()["n"] == 0
    with palace.db("gateway") as conn:
        account = conn.execute("SELECT name, phone, birth_date, id_last4 FROM accounts WHERE id = %s",
                               (member.id,)).fetchone()
    assert account["name"] == "Closed account" and account["phone"].startswith("closed:")
    assert account["birth_date"] is None and account["id_last4"] is None
    seen = a.get(f"/v1/welfare/applications/{application['id']}")
    assert seen.status_code == 200 and seen.json()["private"] in (None, {}) and seen.json()["national_id"] is None
    assert "kidney" not in seen.text and {d["filename"] for d in seen.json()["documents"]} == {"erased"}


def test_closing_an_account_gives_its_seat_and_room_to_others_and_erases_its_words(palace, admin):
    member, next_in_line = new_member(palace.url, "Sun Li", birth_date="1961-03-08"), new_member(palace.url)
    course = admin.post("/v1/courses", {"title": "Erhu for beginners", "capacity": 1}).json()
    seat = member.post(f"/v1/courses/{course['id']}/enrolments")
    assert seat.status_code == 201 and seat.json()["status"] == "confirmed", seat.text
    waiting = next_in_line.post(f"/v1/courses/{course['id']}/enrolments").json()
    manager = new_staff(palace.url, admin, ["venue_manager"], name="Erasure Manager")
    site = manager.post("/v1/sites", {"name": "Erasure Workers' Home", "kind": "shared"}).json()
    start, end = evening(2)
    booked = member.post("/v1/bookings", booking(make_room(manager, site), start, end,
                                                 title="Talk with my divorce lawyer"))
    assert booked.status_code == 201, booked.text
    assert member.post("/v1/me/calendar-feed").status_code == 201
    unit = admin.post("/v1/units", json={"name": f"Erasure Textiles {uuid.uuid4().hex[:6]}"}).json()
    invited = admin.post(f"/v1/units/{unit['id']}/invitations", json={"phone": member.get("/v1/me").json()["phone"]})
    assert invited.status_code == 200, invited.text

    assert admin.delete(f"/v1/accounts/{member.id}").status_code == 204
    with palace.db("gateway") as conn:
        assert conn.execute("SELECT status FROM unit_invitations WHERE id = %s",
                            (invited.json()["id"],)).fetchone()["status"] == "declined", "nobody is left to accept"

    def ended_in_venues():
        with palace.db("venues") as conn:
            return conn.execute("SELECT status, title FROM bookings WHERE id = %s AND status = 'cancelled'",
                                (booked.json()["id"],)).fetchone()
    assert "divorce" not in eventually(ended_in_venues, timeout=30)["title"]
    with palace.db("venues") as conn:
        assert not conn.execute("SELECT 1 FROM calendar_feeds WHERE holder_reference = %s", (member.id,)).fetchall()
    eventually(lambda: next_in_line.get(f"/v1/enrolments/{waiting['id']}").json()["status"] == "confirmed",
               timeout=30)
    with palace.db("enrolment") as conn:
        entry = conn.execute("SELECT status, birth_date FROM enrolments WHERE id = %s", (seat.json()["id"],)).fetchone()
    assert entry == {"status": "cancelled", "birth_date": None}


def test_a_club_keeps_the_rooms_its_closed_leader_booked_for_it_until_a_new_leader_takes_them(palace, admin):
    leader, next_leader = new_member(palace.url, "Zhou Qin"), new_member(palace.url, "Wu Fang")
    manager = new_staff(palace.url, admin, ["venue_manager"], name="Club Manager")
    site = manager.post("/v1/sites", {"name": "Club Workers' Home", "kind": "shared"}).json()
    room = make_room(manager, site)
    choir = manager.post("/v1/clubs", {"name": f"Workers' Choir {uuid.uuid4().hex[:6]}", "leader_id": leader.id})
    assert choir.status_code == 201, choir.text
    start, end = evening(3)
    own = leader.post("/v1/bookings", booking(room, start, end, title="Meeting my bankruptcy lawyer"))
    rehearsals = leader.post("/v1/bookings", booking(room, start + timedelta(days=1), end + timedelta(days=1),
                                                     club_id=choir.json()["id"], recurrence={"count": 3}))
    assert own.status_code == 201 and rehearsals.status_code == 201, rehearsals.text
    club_ids = {b["id"] for b in rehearsals.json()["bookings"]}

    assert admin.delete(f"/v1/accounts/{leader.id}").status_code == 204

    def own_ended():
        with palace.db("venues") as conn:
            return conn.execute("SELECT status, title FROM bookings WHERE id = %s AND status = 'cancelled'",
                                (own.json()["id"],)).fetchone()
    assert "bankruptcy" not in eventually(own_ended, timeout=30)["title"]
    with palace.db("venues") as conn:
        kept = conn.execute("SELECT status, title FROM bookings WHERE id = ANY(%s::uuid[])",
                            (list(club_ids),)).fetchall()
    assert kept == [{"status": "confirmed", "title": "Choir rehearsal 合唱"}] * 3, "the choir still rehearses"

    assert manager.patch(f"/v1/clubs/{choir.json()['id']}", {"leader_id": next_leader.id}).status_code == 200
    assert club_ids <= {b["id"] for b in next_leader.get("/v1/bookings").json()}
    cancelled = next_leader.post(f"/v1/bookings/{sorted(club_ids)[0]}/cancel", {"reason": "choir on tour"})
    assert cancelled.status_code == 200, cancelled.text
