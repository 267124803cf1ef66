"""The bars of enrolment, raced for real: many RPC clients, each on its own connection, against the
enrolment service on real PostgreSQL and RabbitMQ."""
import uuid
from collections import Counter

import pytest
from nameko.exceptions import RemoteError

from services.common.errors import Conflict
from tests.harness import at_once

ADMIN = {"caller_id": str(uuid.uuid4()), "caller_roles": "admin"}


@pytest.fixture(scope="module")
def enrolment(stack):
    stack.start("enrolment")
    return stack


def member(member_id, key=None):
    return {"caller_id": member_id, "caller_roles": "member", "idempotency_key": key or ""}


def rpc_call(stack, context, method, *args):
    with stack.rpc(context=context, timeout=60) as rpc:
        return getattr(rpc.enrolment, method)(*args)


def fire(stack, requests, threads=50):
    """Send every (context, method, args) at once: `threads` clients, each with its own started
    proxy, each putting its share on the wire before waiting for any answer."""

    def client(share):
        def send(go):
            standalone = stack.rpc(timeout=120)
            proxy = standalone.start()
            try:
                go()
                replies = []
                for context, method, args in share:
                    standalone._worker_ctx.data = stack.signed(context)
                    replies.append(getattr(proxy.enrolment, method).call_async(*args))
                out = []
                for reply in replies:
                    try:
                        out.append(reply.result())
                    except (Conflict, RemoteError) as exc:
                        out.append(exc)
                return out
            finally:
                standalone.stop()
        return send

    answers = at_once([client(requests[i::threads]) for i in range(threads)], timeout=150)
    return [a for share in answers for a in share]


def course(stack, **fields):
    return rpc_call(stack, ADMIN, "create_course", {"title": "Phone photography 手机摄影", "capacity": 50, **fields})


def test_500_concurrent_enrolments_for_50_seats(enrolment):
    course_id = course(enrolment)["id"]
    members = [str(uuid.uuid4()) for _ in range(450)]
    requests = [(member(m, f"k-{m}"), "enrol", (course_id,)) for m in members]
    # 50 members tap twice with different keys: their second request must not give a second entry
    requests += [(member(m, f"again-{m}"), "enrol", (course_id,)) for m in members[:50]]
    answers = fire(enrolment, requests)

    refused = [a for a in answers if isinstance(a, Exception)]
    entries = [a for a in answers if not isinstance(a, Exception)]
    assert all(isinstance(a, Conflict) and a.problem == "already-enrolled" for a in refused), refused[:3]
    assert len(refused) == 50 and len(entries) == 450
    assert Counter(e["member_id"] for e in entries).most_common(1)[0][1] == 1
    assert Counter(e["status"] for e in entries) == {"confirmed": 50, "waitlisted": 400}

    with enrolment.db("enrolment") as conn:
        rows = conn.execute("SELECT member_id, status, waitlist_seq FROM enrolments WHERE course_id = %s",
                            (course_id,)).fetchall()
        taken = conn.execute("SELECT confirmed_count FROM courses WHERE id = %s", (course_id,)).fetchone()
    assert len(rows) == 450 and len({r["member_id"] for r in rows}) == 450, "one entry per member"
    assert sum(r["status"] == "confirmed" for r in rows) == 50 == taken["confirmed_count"]

    # the line as members see it: 1..400, no gaps, in the order the database queued them
    line = rpc_call(enrolment, ADMIN, "course_enrolments", course_id, "waitlisted", 200, 0)
    line += rpc_call(enrolment, ADMIN, "course_enrolments", course_id, "waitlisted", 200, 200)
    assert [e["position"] for e in line] == list(range(1, 401))
    seqs = {str(r["member_id"]): r["waitlist_seq"] for r in rows if r["status"] == "waitlisted"}
    assert [seqs[e["member_id"]] for e in line] == sorted(seqs.values())
    detail = rpc_call(enrolment, ADMIN, "get_course", course_id)
    assert (detail["seats_left"], detail["waitlist_length"]) == (0, 400)


def test_concurrent_cancellations_never_promote_anyone_twice(enrolment):
    course_id = course(enrolment, capacity=10)["id"]
    members = [str(uuid.uuid4()) for _ in range(30)]
    entries = [rpc_call(enrolment, member(m), "enrol", course_id) for m in members]
    seated, waiting = entries[:10], entries[10:]
    assert {e["status"] for e in seated} == {"confirmed"} and [e["position"] for e in waiting] == list(range(1, 21))

    # every seated member gives up at once, and staff cancel the same seats at the same moment
    requests = [(member(e["member_id"]), "cancel_enrolment", (e["id"],)) for e in seated]
    requests += [(ADMIN, "cancel_enrolment", (e["id"],)) for e in seated]
    answers = fire(enrolment, requests, threads=20)
    done = [a for a in answers if not isinstance(a, Exception)]
    refused = [a for a in answers if isinstance(a, Exception)]
    assert len(done) == 10 and all(a.problem == "cannot-cancel" for a in refused), refused[:3]

    with enrolment.db("enrolment") as conn:
        promoted = conn.execute(
            "SELECT body->'payload'->>'member_id' AS member_id FROM outbox"
            " WHERE event_type = 'enrolment_promoted' AND body->'payload'->>'course_id' = %s",
            (course_id,)).fetchall()
    promoted = [p["member_id"] for p in promoted]
    assert sorted(promoted) == sorted(e["member_id"] for e in waiting[:10]), "the first ten, each once"
    detail = rpc_call(enrolment, ADMIN, "get_course", course_id)
    assert (detail["seats_left"], detail["waitlist_length"]) == (0, 10)
    line = rpc_call(enrolment, ADMIN, "course_enrolments", course_id, "waitlisted", 50, 0)
    assert [e["member_id"] for e in line] == [e["member_id"] for e in waiting[10:]]
    assert [e["position"] for e in line] == list(range(1, 11))


def test_leaving_the_waitlist_closes_the_gap_and_counts_follow(enrolment):
    course_id = course(enrolment, capacity=1)["id"]
    entries = [rpc_call(enrolment, member(str(uuid.uuid4())), "enrol", course_id) for _ in range(4)]
    second = entries[2]
    assert second["position"] == 2
    left = rpc_call(enrolment, member(second["member_id"]), "cancel_enrolment", second["id"])
    assert left["status"] == "cancelled" and left["position"] is None
    last = rpc_call(enrolment, member(entries[3]["member_id"]), "get_enrolment", entries[3]["id"])
    assert last["position"] == 2
    with enrolment.db("enrolment") as conn:
        event = conn.execute(
            "SELECT body->'payload' AS p FROM outbox WHERE event_type = 'enrolment_cancelled'"
            " AND body->'payload'->>'enrolment_id' = %s", (second["id"],)).fetchone()["p"]
    assert (event["seats_left"], event["waitlist_length"], event["member_id"]) == (0, 2, second["member_id"])
    assert event["course_version"] == rpc_call(enrolment, ADMIN, "get_course", course_id)["version"]


def test_racing_enrolments_of_one_member_respect_the_term_cap_and_the_timetable(enrolment):
    term = rpc_call(enrolment, ADMIN, "create_term", {"name": f"race {uuid.uuid4().hex[:6]}", "starts_on": "2031-03-01",
                                                      "ends_on": "2031-06-30", "class_cap": 2})
    apart = [course(enrolment, capacity=5, term_id=term["id"], schedule={"dates": [
        {"starts_at": f"2031-03-0{d}T19:00:00+08:00", "ends_at": f"2031-03-0{d}T21:00:00+08:00"}]})["id"]
        for d in range(1, 7)]
    me = str(uuid.uuid4())
    answers = fire(enrolment, [(member(me, f"k{i}"), "enrol", (c,)) for i, c in enumerate(apart)], threads=6)
    assert sum(not isinstance(a, Exception) for a in answers) == 2, "a cap of two classes per term"
    assert {a.problem for a in answers if isinstance(a, Exception)} == {"term-cap-reached"}

    same_evening = [course(enrolment, capacity=5, schedule={"dates": [
        {"starts_at": "2031-09-01T19:00:00+08:00", "ends_at": "2031-09-01T21:00:00+08:00"}]})["id"] for _ in range(6)]
    me = str(uuid.uuid4())
    answers = fire(enrolment, [(member(me, f"k{i}"), "enrol", (c,)) for i, c in enumerate(same_evening)], threads=6)
    assert sum(not isinstance(a, Exception) for a in answers) == 1, "one class per evening"
    assert {a.problem for a in answers if isinstance(a, Exception)} == {"timetable-clash"}
