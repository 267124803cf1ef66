"""The catalog read model keeps each course's newest seat figures, whatever order the enrolment
events arrive in and however they are grouped."""
import uuid

from gateway import catalog
from tests.harness import eventually


def change(course_id, version, seats_left):
    return {"course_id": course_id, "course_version": version, "seats_left": seats_left,
            "waitlist_length": 10 - seats_left}


def figures(conn, course_id):
    return conn.execute("SELECT version, seats_left, waitlist_length FROM catalog_courses WHERE id = %s",
                        (course_id,)).fetchone()


def test_the_newest_change_of_each_course_wins_within_a_group_and_across_groups(stack):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    with stack.db("gateway") as conn:
        catalog.put_counts_many(conn, [change(first, 3, 7), change(second, 1, 9), change(first, 5, 5),
                                       change(first, 4, 6)])
        assert figures(conn, first) == {"version": 5, "seats_left": 5, "waitlist_length": 5}
        assert figures(conn, second) == {"version": 1, "seats_left": 9, "waitlist_length": 1}
        catalog.put_counts_many(conn, [change(first, 2, 8)])  # late: ignored
        catalog.put_counts_many(conn, [change(second, 2, 8)])
        assert figures(conn, first)["version"] == 5 and figures(conn, second)["seats_left"] == 8
        catalog.put_counts_many(conn, [])


def test_the_feed_sweeps_away_rate_limit_windows_that_have_ended(stack):
    """Every failed sign-in, reset request and enrolment counts a row; without the sweep the table
    grew for ever. A window younger than the longest limit's (an hour by default) may still count."""
    rows = {"ended": "2 days", "ended-this-morning": "3 hours", "may-still-count": "30 minutes", "now": "0"}
    with stack.db("gateway") as conn:
        for key, age in rows.items():
            conn.execute("INSERT INTO rate_limits (key, window_start, hits) VALUES (%s, now() - %s::interval, 1)",
                         (f"test:{key}", age))
    stack.start("gateway-feed", extra_env={"PALACE_RATE_LIMIT_SWEEP": "0.2"})
    try:
        def left():
            with stack.db("gateway") as conn:
                return {r["key"] for r in conn.execute("SELECT key FROM rate_limits WHERE key LIKE 'test:%'")}

        assert eventually(lambda: left() == {"test:may-still-count", "test:now"}, timeout=15)
    finally:
        stack.stop("gateway-feed")
