"""The backbone's slice over HTTP: a course, members, seats, a waitlist and the inbox."""
import json
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import Client, new_member
from tests.harness import at_once, eventually


def notifications(member):
    answer = member.get("/v1/me/notifications")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_palace_is_ready(palace):
    answer = Client(palace.url, palace.metrics_token).get("/readyz")
    assert answer.status_code == 200, answer.text
    assert set(answer.json()["checks"].values()) == {"ok"}


def test_a_member_gets_a_seat_and_hears_about_it_and_the_next_one_waits_in_line(palace, admin):
    course = admin.post("/v1/courses", {"title": "Tea art 茶艺", "capacity": 1})
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    first, second = new_member(palace.url, "Ruan Xiaoqing"), new_member(palace.url)

    seat = first.post(f"/v1/courses/{course_id}/enrolments")
    assert seat.status_code == 201, seat.text
    assert seat.json()["status"] == "confirmed" and seat.json()["member_id"] == first.id

    wait = second.post(f"/v1/courses/{course_id}/enrolments")
    assert wait.status_code == 201, wait.text
    assert (wait.json()["status"], wait.json()["position"]) == ("waitlisted", 1)

    [told] = eventually(lambda: notifications(first))
    assert told["event_type"] == "enrolment.enrolment_confirmed" and "Tea art 茶艺" in told["title"]
    [told] = eventually(lambda: notifications(second))
    assert told["event_type"] == "enrolment.enrolment_waitlisted" and "候补第 1 位" in told["body"]

    def counts():  # the course page comes from the event-fed read model, right within moments
        detail = admin.get(f"/v1/courses/{course_id}").json()
        return (detail["seats_left"], detail["waitlist_length"]) == (0, 1)

    eventually(counts)
    assert first.get(f"/v1/enrolments/{seat.json()['id']}").status_code == 200
    assert second.get(f"/v1/enrolments/{seat.json()['id']}").status_code == 404, "not someone else's"


def test_members_racing_for_seats_never_overbook(palace, admin):
    course_id = admin.post("/v1/courses", {"title": "Yoga", "capacity": 5}).json()["id"]
    members = [new_member(palace.url) for _ in range(24)]

    def enrolling(member):
        def enrol(go):
            go()
            return member.post(f"/v1/courses/{course_id}/enrolments")
        return enrol

    answers = at_once([enrolling(m) for m in members])
    assert [a.status_code for a in answers] == [201] * len(members), [a.text for a in answers if a.status_code != 201]
    statuses = [a.json()["status"] for a in answers]
    assert statuses.count("confirmed") == 5
    assert sorted(a.json()["position"] for a in answers if a.json()["status"] == "waitlisted") == list(range(1, 20))
    for member in members:
        eventually(lambda m=member: len(notifications(m)) == 1)


def test_a_retried_enrolment_with_the_same_key_replays_and_another_key_is_refused(palace, admin):
    course_id = admin.post("/v1/courses", {"title": "Calligraphy", "capacity": 10}).json()["id"]
    member = new_member(palace.url)
    first = member.post(f"/v1/courses/{course_id}/enrolments", headers={"Idempotency-Key": "tap-1"})
    again = member.post(f"/v1/courses/{course_id}/enrolments", headers={"Idempotency-Key": "tap-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    other = member.post(f"/v1/courses/{course_id}/enrolments", headers={"Idempotency-Key": "tap-2"})
    assert other.status_code == 409 and other.json()["type"].endswith("/problems/already-enrolled")
    eventually(lambda: len(notifications(member)) == 1)


def test_the_same_key_with_another_body_is_refused(palace, admin):
    created = admin.post("/v1/courses", {"title": "Choir", "capacity": 40}, headers={"Idempotency-Key": "c-1"})
    assert created.status_code == 201
    replay = admin.post("/v1/courses", {"title": "Choir", "capacity": 40}, headers={"Idempotency-Key": "c-1"})
    assert replay.json()["id"] == created.json()["id"]
    changed = admin.post("/v1/courses", {"title": "Choir", "capacity": 41}, headers={"Idempotency-Key": "c-1"})
    assert changed.status_code == 422 and changed.json()["type"].endswith("/problems/idempotency-key-reused")


def test_the_api_document_lists_the_slice(palace):
    document = Client(palace.url).get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/v1/courses", "/v1/courses/{course_id}/enrolments", "/v1/me/notifications",
            "/v1/auth/token"} <= set(document["paths"])
    assert "CourseCreate" in document["components"]["schemas"]


def test_a_retry_racing_its_first_attempt_gets_the_same_seat(palace, admin):
    """Straight at the service, as when the gateway timed out and the member tapped again."""
    course_id = admin.post("/v1/courses", {"title": "Flower arranging", "capacity": 3}).json()["id"]
    member = new_member(palace.url)
    context = {"caller_id": member.id, "caller_roles": "member", "idempotency_key": "tap-race"}

    def enrol(_):
        with palace.rpc(context=context) as rpc:
            return rpc.enrolment.enrol(course_id)

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(enrol, range(6)))
    assert len({a["id"] for a in answers}) == 1 and answers[0]["status"] == "confirmed"


def test_a_claim_abandoned_by_a_dead_gateway_does_not_block_the_key_forever(palace, admin):
    course_id = admin.post("/v1/courses", {"title": "Home organising", "capacity": 3}).json()["id"]
    member = new_member(palace.url)
    path = f"/v1/courses/{course_id}/enrolments"
    with palace.db("gateway") as conn:  # a gateway claimed the key two minutes ago and died
        conn.execute("INSERT INTO idempotency_keys (account_id, key, request_hash, created_at)"
                     " VALUES (%s, 'tap-lost', %s, now() - interval '2 minutes')",
                     (member.id, palace.request_fingerprint("POST", path, {})))
    answer = member.post(path, headers={"Idempotency-Key": "tap-lost"})
    assert answer.status_code == 201 and answer.json()["status"] == "confirmed"


def test_the_request_id_reaches_the_service_logs(palace, admin):
    course = admin.post("/v1/courses", {"title": "Paper cutting", "capacity": 3}).json()
    member = new_member(palace.url)
    member.post(f"/v1/courses/{course['id']}/enrolments")
    twice = member.post(f"/v1/courses/{course['id']}/enrolments", headers={"X-Request-Id": "trace-7f3a9c"})
    assert twice.status_code == 409 and twice.headers["X-Request-Id"] == "trace-7f3a9c"
    assert twice.json()["request_id"] == "trace-7f3a9c"
    def records(name):
        lines = palace.log(name).splitlines()[1:]  # the first may be cut by log() taking the tail
        return [json.loads(line) for line in lines if line.startswith("{")]

    [logged, *_] = eventually(lambda: [r for r in records("enrolment") if r.get("request_id") == "trace-7f3a9c"])
    assert logged["level"] and logged["logger"] and logged["message"], "structured JSON log lines"
