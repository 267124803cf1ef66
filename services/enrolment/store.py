"""SQL of the enrolment database. Every function takes a connection inside the caller's transaction."""
from psycopg import errors as pg

from services.common.errors import Conflict, NotFound
from services.enrolment import domain

COURSE_COLUMNS = """
    c.id, c.title, c.category, c.description, c.capacity, c.opens_at, c.closes_at, c.created_at,
    c.capacity - c.confirmed_count AS seats_left,
    (SELECT count(*) FROM enrolments w WHERE w.course_id = c.id AND w.status = 'waitlisted') AS waitlist_length
"""

ENROLMENT_COLUMNS = """
    e.id, e.course_id, e.member_id, e.status, e.created_at,
    CASE WHEN e.status = 'waitlisted' THEN (
        SELECT count(*) FROM enrolments w
        WHERE w.course_id = e.course_id AND w.status = 'waitlisted' AND w.waitlist_seq <= e.waitlist_seq
    ) END AS position
"""


def create_course(conn, data, created_by):
    return conn.execute(
        """INSERT INTO courses (title, category, description, capacity, opens_at, closes_at, created_by)
           VALUES (%(title)s, %(category)s, %(description)s, %(capacity)s,
                   coalesce(%(opens_at)s, now()), %(closes_at)s, %(created_by)s)
           RETURNING id""",
        {"category": None, "description": None, "opens_at": None, "closes_at": None,
         **data, "created_by": created_by},
    ).fetchone()["id"]


def get_course(conn, course_id):
    row = conn.execute(f"SELECT {COURSE_COLUMNS} FROM courses c WHERE c.id = %s", (course_id,)).fetchone()
    if row is None:
        raise NotFound(f"course {course_id} does not exist", "course-not-found")
    return row


def list_courses(conn, limit, offset):
    return conn.execute(
        f"SELECT {COURSE_COLUMNS} FROM courses c ORDER BY c.created_at DESC, c.id LIMIT %s OFFSET %s",
        (limit, offset),
    ).fetchall()


def lock_course(conn, course_id):
    """Take the course's row lock: enrolments into one course are decided one at a time."""
    row = conn.execute(
        "SELECT id, title, capacity, confirmed_count, opens_at, closes_at, now() AS now"
        " FROM courses WHERE id = %s FOR UPDATE",
        (course_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"course {course_id} does not exist", "course-not-found")
    return row


def find_by_request(conn, member_id, idempotency_key):
    if not idempotency_key:
        return None
    return conn.execute(
        f"SELECT {ENROLMENT_COLUMNS} FROM enrolments e WHERE e.member_id = %s AND e.idempotency_key = %s",
        (member_id, idempotency_key),
    ).fetchone()


def add_enrolment(conn, course, member_id, status, idempotency_key):
    """Insert the enrolment decided under the course lock and move the course's counters."""
    if status == domain.CONFIRMED:
        seq = None
        conn.execute("UPDATE courses SET confirmed_count = confirmed_count + 1 WHERE id = %s", (course["id"],))
    else:
        seq = conn.execute(
            "UPDATE courses SET waitlist_seq = waitlist_seq + 1 WHERE id = %s RETURNING waitlist_seq",
            (course["id"],),
        ).fetchone()["waitlist_seq"]
    try:  # the caller's transaction rolls back whole on a duplicate, counters included
        enrolment_id = conn.execute(
            """INSERT INTO enrolments (course_id, member_id, status, waitlist_seq, idempotency_key)
               VALUES (%s, %s, %s, %s, %s) RETURNING id""",
            (course["id"], member_id, status, seq, idempotency_key),
        ).fetchone()["id"]
    except pg.UniqueViolation as exc:
        raise Conflict("the member is already enrolled in this course", "already-enrolled") from exc
    return get_enrolment(conn, enrolment_id)


def get_enrolment(conn, enrolment_id):
    row = conn.execute(f"SELECT {ENROLMENT_COLUMNS} FROM enrolments e WHERE e.id = %s", (enrolment_id,)).fetchone()
    if row is None:
        raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
    return row


def live_enrolment(conn, course_id, member_id):
    return conn.execute(
        "SELECT id FROM enrolments WHERE course_id = %s AND member_id = %s AND status <> 'cancelled'",
        (course_id, member_id),
    ).fetchone()


def member_enrolments(conn, member_id, limit, offset):
    return conn.execute(
        f"SELECT {ENROLMENT_COLUMNS} FROM enrolments e WHERE e.member_id = %s"
        " ORDER BY e.created_at DESC LIMIT %s OFFSET %s",
        (member_id, limit, offset),
    ).fetchall()
