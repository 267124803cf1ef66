"""The per-member enrolment limit over HTTP counts requests, not tries: a phone retrying one
enrolment through an outage, or replaying its stored answer, stays within it; many different
requests do not."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.conftest import new_member
from tests.e2e.test_bad_input import assert_problem

LIMIT = 3


@pytest.fixture(scope="module", autouse=True)
def low_limit(stack):
    """Three enrolment requests per member, counted per day so no window ends during a test; a
    stopped service answers 503 after 2 s, and 1 s after its breaker trips."""
    stack.env.update(PALACE_ENROL_LIMIT=f"{LIMIT}/86400", PALACE_RPC_TIMEOUT="2", PALACE_BREAKER_SECONDS="1")


def course(admin, title, **extra):
    answer = admin.post("/v1/courses", {"title": title, "capacity": 10, **extra})
    assert answer.status_code == 201, answer.text
    return f"/v1/courses/{answer.json()['id']}/enrolments"


def enrol(member, path, key=None):
    return member.post(path, headers={"Idempotency-Key": key} if key else {})


def retried(member, path, key):
    """Enrol as the app does: a 503 is tried again with the same key (the gateway's breaker may
    still answer 503 for a moment after the service is back)."""
    deadline = time.monotonic() + 30
    while (answer := enrol(member, path, key)).status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.5)
    return answer


def test_retries_of_one_enrolment_through_an_outage_count_once(palace, admin):
    member = new_member(palace.url)
    path, other, more = course(admin, "Erhu 二胡"), course(admin, "Go 围棋"), course(admin, "Tai chi 太极")
    last, refused = course(admin, "Opera 京剧"), course(admin, "Paper cutting")
    palace.stop("enrolment")
    try:
        for _ in range(2 * LIMIT):  # the app retries every few seconds while the service is away
            assert_problem(enrol(member, path, "tap-outage"), 503, "service-unavailable")
        assert_problem(enrol(member, other, "tap-outage"), 422, "idempotency-key-reused")
    finally:
        palace.start("enrolment")
    answer = retried(member, path, "tap-outage")
    assert answer.status_code == 201 and answer.json()["status"] == "confirmed", answer.text

    # the whole outage was one request: two more fit in the window, the fourth is refused
    assert retried(member, more, "tap-2").status_code == 201
    assert retried(member, last, "tap-3").status_code == 201
    assert_problem(retried(member, refused, "tap-4"), 429, "rate-limited")


def test_replays_of_a_stored_answer_do_not_count(palace, admin):
    member = new_member(palace.url)
    path = course(admin, "Ballroom")
    first = enrol(member, path, "tap-1")
    assert first.status_code == 201
    for _ in range(2 * LIMIT):
        again = enrol(member, path, "tap-1")
        assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == first.json()
    assert enrol(member, course(admin, "Choir"), "tap-2").status_code == 201
    assert enrol(member, course(admin, "Photography"), "tap-3").status_code == 201
    assert_problem(enrol(member, course(admin, "Pottery"), "tap-4"), 429, "rate-limited")


def test_different_keys_and_requests_without_a_key_each_count(palace, admin):
    keyed, keyless = new_member(palace.url), new_member(palace.url)
    paths = [course(admin, f"Evening class {n}") for n in range(LIMIT + 1)]
    for n, path in enumerate(paths[:LIMIT]):
        assert enrol(keyed, path, f"tap-{n}").status_code == 201
        assert enrol(keyless, path).status_code == 201
    refused = enrol(keyed, paths[LIMIT], "tap-last")
    assert_problem(refused, 429, "rate-limited")
    assert int(refused.headers["Retry-After"]) > 0
    assert_problem(enrol(keyless, paths[LIMIT]), 429, "rate-limited")
    # the refused request left no claim behind: its key is not answered, not running
    assert enrol(keyed, paths[LIMIT], "tap-last").status_code == 429


def test_a_refused_enrolment_tried_again_with_its_key_counts_again(palace, admin):
    """A refusal (closed, full, not open yet) decided the request: trying it again is a new try,
    or one key could hammer a class that is not open yet for free."""
    member = new_member(palace.url)
    now = datetime.now(timezone.utc)
    closed = course(admin, "Closed", opens_at=(now - timedelta(days=3)).isoformat(),
                    closes_at=(now - timedelta(days=1)).isoformat())
    for _ in range(LIMIT):
        assert_problem(enrol(member, closed, "tap-closed"), 422, "enrolment-closed")
    assert_problem(enrol(member, closed, "tap-closed"), 429, "rate-limited")


def test_a_key_whose_first_request_is_still_running_is_a_409_until_it_is_released(palace, admin):
    member = new_member(palace.url)
    path = course(admin, "Knitting")
    with palace.db("gateway") as conn:  # the first request is running on another gateway thread
        conn.execute("INSERT INTO idempotency_keys (account_id, key, request_hash) VALUES (%s, 'tap-busy', %s)",
                     (member.id, palace.request_fingerprint("POST", path, {})))
    assert_problem(enrol(member, path, "tap-busy"), 409, "request-in-progress")
    with palace.db("gateway") as conn:  # it failed with a 503 and released its claim
        conn.execute("UPDATE idempotency_keys SET released = true WHERE account_id = %s AND key = 'tap-busy'",
                     (member.id,))
    answer = enrol(member, path, "tap-busy")
    assert answer.status_code == 201 and answer.json()["status"] == "confirmed", answer.text
