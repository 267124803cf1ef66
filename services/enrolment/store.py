"""SQL of the enrolment database. Every function takes a connection inside the caller's transaction."""
import secrets

from psycopg import errors as pg
from psycopg.types.json import Jsonb

from services.common import reports
from services.common.db import like_literal
from services.common.errors import Conflict, NotFound
from services.common.zone import HOME_ZONE_NAME
from services.enrolment import domain

COURSE_FIELDS = (
    "title", "category", "description", "teacher", "site_id", "district", "room_id", "term_id",
    "opens_at", "closes_at", "draw_at", "min_age", "max_age", "unit_ids", "group_limit", "cancel_cutoff",
    "offer_hours", "attendance_threshold", "capacity", "teacher_ids",
)

COURSE_COLUMNS = """
    c.id, c.version, c.state, c.title, c.category, c.description, c.teacher, c.site_id, c.district,
    c.room_id, c.term_id, c.allocation, c.capacity, c.opens_at, c.closes_at, c.draw_at, c.drawn_at,
    c.min_age, c.max_age, c.unit_ids, c.group_limit, c.cancel_cutoff, c.offer_hours,
    c.attendance_threshold::float AS attendance_threshold, c.teacher_ids, c.created_at, c.updated_at,
    c.capacity - c.confirmed_count AS seats_left, c.waitlist_length
"""

# a waitlisted entry's position is its rank among the live waitlisted rows: always 1, 2, 3... Each
# number 1..courses.waitlist_seq belongs to one entry, in the line or gone from it (left_line_seq,
# set_status), so the rank is the entry's number less the departures ahead of it: an index range of
# those who left, never the line (migration 0109). A new entry is last: add_enrolment answers the
# course's waitlist_length
ENROLMENT_COLUMNS = """
    e.id, e.course_id, e.member_id, e.status, e.seats, e.offer_expires_at, e.cancel_reason, e.created_at,
    e.birth_date,
    CASE WHEN e.enrolled_by IS NOT NULL THEN json_build_object('id', e.enrolled_by, 'name', e.enrolled_by_name)
    END AS enrolled_by,
    CASE WHEN e.cancelled_by <> e.member_id THEN json_build_object('id', e.cancelled_by, 'name', e.cancelled_by_name)
    END AS cancelled_by,
    CASE WHEN e.status = 'waitlisted' THEN e.waitlist_seq - (
        SELECT count(*) FROM enrolments d WHERE d.course_id = e.course_id AND d.left_line_seq < e.waitlist_seq
    ) END AS position
"""

SESSION_COLUMNS = "s.id, s.course_id, s.starts_at, s.ends_at, s.state, s.room_id, s.booking_id, s.holder_reference"


# terms

def create_term(conn, data):
    try:
        with conn.transaction():
            return conn.execute(
                """INSERT INTO terms (name, starts_on, ends_on, holidays, class_cap)
                   VALUES (%(name)s, %(starts_on)s, %(ends_on)s, %(holidays)s, %(class_cap)s) RETURNING *""",
                data).fetchone()
    except pg.UniqueViolation as exc:
        raise Conflict(f"a term named {data['name']!r} exists already", "term-exists") from exc


def get_term(conn, term_id):
    row = conn.execute("SELECT * FROM terms WHERE id = %s", (term_id,)).fetchone()
    if row is None:
        raise NotFound(f"term {term_id} does not exist", "term-not-found", {"term_id": ["no such term"]})
    return row


def list_terms(conn, limit, offset):
    return conn.execute("SELECT *, count(*) OVER () AS total FROM terms ORDER BY starts_on DESC, id LIMIT %s OFFSET %s",
                        (limit, offset)).fetchall()


# courses

def create_course(conn, data, created_by, state):
    values = {f: data.get(f) for f in COURSE_FIELDS}
    values.update(allocation=data.get("allocation", domain.FIRST_COME), state=state, created_by=created_by,
                  group_limit=data.get("group_limit") or 1, teacher_ids=data.get("teacher_ids") or [],
                  attendance_threshold=data.get("attendance_threshold") or 0.8)
    return conn.execute(
        """INSERT INTO courses (title, category, description, teacher, site_id, district, room_id, term_id,
                                capacity, opens_at, closes_at, draw_at, min_age, max_age, unit_ids, group_limit,
                                cancel_cutoff, offer_hours, attendance_threshold, allocation, state, created_by,
                                teacher_ids)
           VALUES (%(title)s, %(category)s, %(description)s, %(teacher)s, %(site_id)s, %(district)s,
                   %(room_id)s, %(term_id)s, %(capacity)s, coalesce(%(opens_at)s, now()), %(closes_at)s,
                   %(draw_at)s, %(min_age)s, %(max_age)s, %(unit_ids)s, %(group_limit)s, %(cancel_cutoff)s,
                   %(offer_hours)s, %(attendance_threshold)s, %(allocation)s, %(state)s, %(created_by)s,
                   %(teacher_ids)s::uuid[])
           RETURNING id""",
        values,
    ).fetchone()["id"]


def update_course(conn, course_id, changes):
    """Apply changed public fields and bump the version; the CHECKs guard the rest."""
    columns = [f for f in COURSE_FIELDS if f in changes]
    sets = ", ".join(f"{c} = %({c})s" for c in columns)
    sets = f"{sets}, " if sets else ""
    try:
        with conn.transaction():
            conn.execute(f"UPDATE courses SET {sets}version = version + 1, updated_at = now() WHERE id = %(id)s",
                         {**{c: changes[c] for c in columns}, "id": course_id})
    except pg.CheckViolation as exc:
        raise Conflict(f"the change breaks a rule of the course: {exc.diag.constraint_name}",
                       "course-rule") from exc


def set_course_state(conn, course_id, state):
    conn.execute("UPDATE courses SET state = %s, version = version + 1, updated_at = now() WHERE id = %s",
                 (state, course_id))


def bump_version(conn, course_id):
    conn.execute("UPDATE courses SET version = version + 1, updated_at = now() WHERE id = %s", (course_id,))


def get_course(conn, course_id):
    row = conn.execute(f"SELECT {COURSE_COLUMNS} FROM courses c WHERE c.id = %s", (course_id,)).fetchone()
    if row is None:
        raise NotFound(f"course {course_id} does not exist", "course-not-found")
    row["sessions"] = course_sessions(conn, course_id)
    return row


def list_courses(conn, filters, limit, offset, drafts=False):
    """`drafts`: True lists every draft, a teacher's id only the drafts they teach, False none."""
    where, args = [], {}
    if drafts is not True:
        where.append("(c.state <> 'draft' OR %(teacher)s::uuid = ANY(c.teacher_ids))")
        args["teacher"] = drafts or None
    for column in ("site_id", "category", "term_id", "district", "state", "allocation"):
        if filters.get(column) is not None:
            where.append(f"c.{column} = %({column})s")
            args[column] = filters[column]
    if filters.get("open_seats"):  # as domain.CATALOG_FILTERS defines it
        where.append("c.confirmed_count < c.capacity AND c.state = 'published'")
    if filters.get("q"):  # the fields the public catalog searches (the read model too)
        where.append("(" + " OR ".join(f"c.{name} ILIKE %(q)s" for name in domain.CATALOG_SEARCHES) + ")")
        args["q"] = "%" + like_literal(filters["q"]) + "%"
    if filters.get("weekday") is not None:
        where.append("EXISTS (SELECT 1 FROM sessions s WHERE s.course_id = c.id AND s.state <> 'cancelled'"
                     f" AND extract(isodow FROM s.starts_at AT TIME ZONE '{HOME_ZONE_NAME}') = %(weekday)s)")
        args["weekday"] = filters["weekday"]
    if filters.get("evening") is not None:
        clause = ("EXISTS (SELECT 1 FROM sessions s WHERE s.course_id = c.id AND s.state <> 'cancelled'"
                  f" AND (s.starts_at AT TIME ZONE '{HOME_ZONE_NAME}')::time >= %(evening_from)s)")
        where.append(clause if filters["evening"] else f"NOT {clause}")
        args["evening_from"] = domain.EVENING_FROM
    sql = f"SELECT {COURSE_COLUMNS}, count(*) OVER () AS total FROM courses c"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = conn.execute(sql + " ORDER BY c.created_at DESC, c.id LIMIT %(limit)s OFFSET %(offset)s",
                        {**args, "limit": limit, "offset": offset}).fetchall()
    sessions = sessions_of(conn, [r["id"] for r in rows])
    for row in rows:
        row["sessions"] = sessions.get(row["id"], [])
    return rows


def now(conn):
    """The database's time: the clock every rule of this transaction is judged by."""
    return conn.execute("SELECT now() AS now").fetchone()["now"]


def course_exists(conn, course_id):
    return conn.execute("SELECT 1 FROM courses WHERE id = %s", (course_id,)).fetchone() is not None


def lock_course(conn, course_id):
    """Take the course's row lock: enrolments into one course are decided one at a time. Never
    held across a call to another service (enrolments would wait out its timeout)."""
    return _course_row(conn, course_id, " FOR UPDATE")


def read_course(conn, course_id):
    """The course as lock_course answers it, without the lock: for the work before one."""
    return _course_row(conn, course_id, "")


def _course_row(conn, course_id, lock):
    row = conn.execute(
        """SELECT c.*, c.attendance_threshold::float AS attendance_threshold, now() AS now,
                  (SELECT min(starts_at) FROM sessions s WHERE s.course_id = c.id AND s.state <> 'cancelled')
                  AS first_session_at
           FROM courses c WHERE c.id = %s""" + lock,
        (course_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"course {course_id} does not exist", "course-not-found")
    return row


def hold_changes(conn, course_id):
    """Staff changes of one course's timetable, room or state (and the moves of its lost rooms)
    take turns, without the row lock: enrolments go on while one of them waits on venues. Taken
    before the row lock, always, so two never wait on each other."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"course-changes:{course_id}",))


def counts(conn, course_id):
    """The course's figures as of now in this transaction, for the events that change them."""
    return conn.execute(
        """SELECT c.id AS course_id, c.version AS course_version, c.capacity - c.confirmed_count AS seats_left,
                  c.waitlist_length
           FROM courses c WHERE c.id = %s""", (course_id,)).fetchone()


def move_seats(conn, course_id, taken_delta):
    """Seats taken (confirmed and offered) change: the CHECK is the last guard against overbooking."""
    conn.execute("UPDATE courses SET confirmed_count = confirmed_count + %s, version = version + 1,"
                 " updated_at = now() WHERE id = %s", (taken_delta, course_id))


# sessions

def courses_to_come(conn):
    """The published courses with a session still to come, oldest first."""
    return [str(r["id"]) for r in conn.execute(
        "SELECT c.id FROM courses c WHERE c.state = 'published'"
        " AND EXISTS (SELECT 1 FROM sessions s WHERE s.course_id = c.id AND s.starts_at > now())"
        " ORDER BY c.created_at, c.id").fetchall()]


def course_sessions(conn, course_id):
    return conn.execute(f"SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.course_id = %s ORDER BY s.starts_at",
                        (course_id,)).fetchall()


def sessions_of(conn, course_ids):
    out = {}
    if course_ids:
        for row in conn.execute(f"SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.course_id = ANY(%s)"
                                " ORDER BY s.starts_at", (course_ids,)):
            out.setdefault(row["course_id"], []).append(row)
    return out


def replace_sessions(conn, course_id, times):
    conn.execute("DELETE FROM sessions WHERE course_id = %s", (course_id,))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO sessions (course_id, starts_at, ends_at, checkin_code) VALUES (%s, %s, %s, %s)",
                        [(course_id, b, e, f"{secrets.randbelow(10**6):06d}") for b, e in times])


def replace_upcoming_sessions(conn, course_id, times, now):
    """A new timetable from now on: the sessions not yet started give way to `times`; those held
    or under way stay, with their attendance. Answers the ids of the sessions replaced."""
    gone = [r["id"] for r in conn.execute(
        "SELECT id FROM sessions WHERE course_id = %s AND starts_at > %s FOR UPDATE", (course_id, now))]
    marked = conn.execute("SELECT min(s.starts_at) AS at FROM attendance a JOIN sessions s ON s.id = a.session_id"
                          " WHERE a.session_id = ANY(%s)", (gone,)).fetchone()["at"]
    if marked is not None:
        raise Conflict(f"attendance is marked for the session at {marked.isoformat()}: it cannot be replaced",
                       "session-attended", {"schedule": ["keeps the sessions already marked"]})
    conn.execute("DELETE FROM member_slots WHERE session_id = ANY(%s)", (gone,))
    conn.execute("DELETE FROM sessions WHERE id = ANY(%s)", (gone,))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO sessions (course_id, starts_at, ends_at, checkin_code) VALUES (%s, %s, %s, %s)",
                        [(course_id, b, e, f"{secrets.randbelow(10**6):06d}") for b, e in times])
    return gone


def set_room_series(conn, course_id, number):
    conn.execute("UPDATE courses SET room_series = %s WHERE id = %s", (number, course_id))


def session_holders(conn, course_id, after=None):
    """The venues holders of the sessions rebooked alone (those starting after `after`, if given)."""
    return [r["holder_reference"] for r in conn.execute(
        "SELECT holder_reference FROM sessions WHERE course_id = %s AND holder_reference IS NOT NULL"
        " AND (%s::timestamptz IS NULL OR starts_at > %s)", (course_id, after, after))]


def rebook_session(conn, session_id, room_id, booking_id, holder_reference):
    conn.execute("UPDATE sessions SET room_id = %s, booking_id = %s, holder_reference = %s WHERE id = %s",
                 (room_id, booking_id, holder_reference, session_id))


def confirmed_entries(conn, course_id):
    return conn.execute("SELECT id, member_id FROM enrolments WHERE course_id = %s AND status = 'confirmed'"
                        " ORDER BY created_at", (course_id,)).fetchall()


def get_session(conn, session_id, lock=False):
    row = conn.execute(
        "SELECT s.*, c.title AS course_title, c.term_id FROM sessions s JOIN courses c ON c.id = s.course_id"
        f" WHERE s.id = %s{' FOR UPDATE OF s' if lock else ''}", (session_id,)).fetchone()
    if row is None:
        raise NotFound(f"session {session_id} does not exist", "session-not-found")
    return row


def set_booking_ids(conn, course_id, bookings):
    """The sessions booked in the course's series: their own rooms and holders, if any, are gone."""
    for booking in bookings:
        conn.execute("UPDATE sessions SET booking_id = %s, room_id = NULL, holder_reference = NULL"
                     " WHERE course_id = %s AND starts_at = %s::timestamptz",
                     (booking["id"], course_id, booking["starts_at"]))


def announce_again(conn, course_id, after):
    """The sessions to come are announced afresh (session_upcoming) with their new time or room."""
    conn.execute("UPDATE sessions SET reminded_at = NULL WHERE course_id = %s AND starts_at > %s", (course_id, after))


def clear_bookings(conn, course_id, after):
    """The sessions to come lose their room bookings (the course has no room, or nothing to book)."""
    conn.execute("UPDATE sessions SET booking_id = NULL, room_id = NULL, holder_reference = NULL"
                 " WHERE course_id = %s AND starts_at > %s", (course_id, after))


def session_for_booking(conn, course_id, booking_id, starts_at, current_series, lock=True):
    """The session a venues booking serves today. A booking of an old series (the course moved)
    serves none; a session booked before booking ids were kept is known by its start."""
    return conn.execute(
        "SELECT s.*, c.title AS course_title FROM sessions s JOIN courses c ON c.id = s.course_id"
        " WHERE s.course_id = %s AND (s.booking_id = %s OR (%s AND s.booking_id IS NULL"
        " AND s.holder_reference IS NULL AND s.starts_at = %s::timestamptz))" + (" FOR UPDATE OF s" if lock else ""),
        (course_id, booking_id, current_series, starts_at)).fetchone()


def set_session_state(conn, session_id, state):
    conn.execute("UPDATE sessions SET state = %s WHERE id = %s", (state, session_id))
    if state != "scheduled":  # a session that will not happen holds nobody's time
        conn.execute("DELETE FROM member_slots WHERE session_id = %s", (session_id,))


def due_reminders(conn, within_hours, limit=200):
    """Sessions starting soon, with members to tell, not yet announced; claimed so two instances
    never both send."""
    return conn.execute(
        """SELECT s.id, s.course_id, s.starts_at, s.ends_at, s.state, c.title AS course_title
           FROM sessions s JOIN courses c ON c.id = s.course_id
           WHERE s.reminded_at IS NULL AND s.state = 'scheduled' AND c.state = 'published'
             AND s.starts_at > now() AND s.starts_at <= now() + make_interval(hours => %s)
             AND EXISTS (SELECT 1 FROM enrolments e WHERE e.course_id = s.course_id AND e.status = 'confirmed')
           ORDER BY s.starts_at LIMIT %s FOR UPDATE OF s SKIP LOCKED""", (within_hours, limit)).fetchall()


def mark_reminded(conn, session_id):
    conn.execute("UPDATE sessions SET reminded_at = now() WHERE id = %s", (session_id,))


# enrolments

def member_entries(conn, course_id, member_id, idempotency_key):
    """In one round trip: the member's entry made with this Idempotency-Key (a replay), and whether
    the member already holds a live entry in the course."""
    rows = conn.execute(
        f"SELECT {ENROLMENT_COLUMNS}, e.idempotency_key FROM enrolments e WHERE e.member_id = %s"
        " AND ((%s::text IS NOT NULL AND e.idempotency_key = %s) OR (e.course_id = %s AND e.status <> 'cancelled'))",
        (member_id, idempotency_key, idempotency_key, course_id)).fetchall()
    replay = next((r for r in rows if idempotency_key and r["idempotency_key"] == idempotency_key), None)
    live = any(str(r["course_id"]) == str(course_id) and r["status"] != domain.CANCELLED for r in rows)
    return replay, live


class RequestDone(Exception):
    """The member already holds an entry in the course, which may be the one made with this
    Idempotency-Key by another attempt meanwhile (a retry racing its own first try)."""


def standing(conn, member_id, course_id, idempotency_key=None):
    """In one round trip: the member's uncleared strike times per term, the first session of the
    course that overlaps a class the member holds (or None), the id of the member's entry made with
    this Idempotency-Key (a replay, or None) and whether the member holds a live entry in the course."""
    return conn.execute(
        """SELECT
             (SELECT e.id FROM enrolments e WHERE e.member_id = %(m)s AND e.idempotency_key = %(k)s) AS replay_id,
             EXISTS (SELECT 1 FROM enrolments e WHERE e.course_id = %(c)s AND e.member_id = %(m)s
                     AND e.status <> 'cancelled') AS live,
             (SELECT coalesce(json_agg(t.times), '[]') FROM (
                 SELECT array_agg(created_at) AS times FROM strikes
                 WHERE member_id = %(m)s AND cleared_at IS NULL GROUP BY term_id) t) AS strikes,
             (SELECT json_build_object('starts_at', s.starts_at, 'title', o.title) FROM sessions s
                 JOIN member_slots ms ON ms.member_id = %(m)s AND ms.during && tstzrange(s.starts_at, s.ends_at)
                 JOIN sessions os ON os.id = ms.session_id JOIN courses o ON o.id = os.course_id
                 WHERE s.course_id = %(c)s AND s.state = 'scheduled' AND os.course_id <> s.course_id
                 ORDER BY s.starts_at LIMIT 1) AS clash""",
        {"m": member_id, "c": course_id, "k": idempotency_key}).fetchone()


def add_enrolment(conn, course, member_id, status, idempotency_key, seats=1, birth_date=None, by=None, by_name=None):
    """Insert the enrolment decided under the course lock, move the course's counters and, for a
    seat, take the member's time for every session: one statement, one round trip while the lock
    is held. Answers the entry (a new waitlisted entry is last in line: its position is the line's
    new length, kept on the course, never counted) and the course's figures.
    `by` and `by_name`: the clerk who enrolled the member on their behalf."""
    try:  # the caller's transaction rolls back whole on a refusal, counters included
        row = conn.execute(
            """WITH counted AS (
                    UPDATE courses c SET version = version + 1, updated_at = now(),
                           confirmed_count = confirmed_count + CASE WHEN %(status)s = 'confirmed' THEN %(seats)s ELSE 0 END,
                           waitlist_seq = waitlist_seq + CASE WHEN %(status)s = 'waitlisted' THEN 1 ELSE 0 END,
                           waitlist_length = waitlist_length + CASE WHEN %(status)s = 'waitlisted' THEN 1 ELSE 0 END
                    WHERE id = %(course)s
                    RETURNING c.id, c.version, c.capacity - c.confirmed_count AS seats_left, c.waitlist_seq,
                              c.waitlist_length),
                added AS (
                    INSERT INTO enrolments (course_id, member_id, status, waitlist_seq, idempotency_key, seats, birth_date,
                                            enrolled_by, enrolled_by_name)
                    SELECT id, %(member)s, %(status)s, CASE WHEN %(status)s = 'waitlisted' THEN waitlist_seq END,
                           %(key)s, %(seats)s, %(birth)s, %(by)s, %(by_name)s FROM counted
                    RETURNING id, course_id, member_id, status, seats, offer_expires_at, cancel_reason, created_at,
                              birth_date, CASE WHEN enrolled_by IS NOT NULL
                                  THEN json_build_object('id', enrolled_by, 'name', enrolled_by_name) END AS enrolled_by,
                              NULL::json AS cancelled_by),
                taken AS (
                    INSERT INTO member_slots (enrolment_id, member_id, session_id, during)
                    SELECT a.id, a.member_id, s.id, tstzrange(s.starts_at, s.ends_at) FROM added a
                    JOIN sessions s ON s.course_id = a.course_id AND s.state = 'scheduled'
                    WHERE a.status = 'confirmed')
                SELECT a.*, c.id AS figures_course_id, c.version AS course_version, c.seats_left, c.waitlist_length
                FROM added a, counted c""",
            {"status": status, "seats": seats, "course": course["id"], "member": member_id, "key": idempotency_key,
             "birth": birth_date, "by": by, "by_name": by_name}).fetchone()
    except pg.UniqueViolation as exc:
        if idempotency_key:  # perhaps this request's own entry, made meanwhile: the caller looks
            raise RequestDone() from exc
        raise Conflict("the member is already enrolled in this course", "already-enrolled") from exc
    except pg.ExclusionViolation as exc:
        raise _clash() from exc
    figures = {"course_id": row.pop("figures_course_id"), "course_version": row.pop("course_version"),
               "seats_left": row.pop("seats_left"), "waitlist_length": row.pop("waitlist_length")}
    row["position"] = figures["waitlist_length"] if status == domain.WAITLISTED else None
    return row, figures


def get_enrolment(conn, enrolment_id):
    row = conn.execute(f"SELECT {ENROLMENT_COLUMNS} FROM enrolments e WHERE e.id = %s", (enrolment_id,)).fetchone()
    if row is None:
        raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
    return row


def enrolment_course(conn, enrolment_id):
    row = conn.execute("SELECT course_id FROM enrolments WHERE id = %s", (enrolment_id,)).fetchone()
    if row is None:
        raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
    return row["course_id"]


def member_enrolments(conn, member_id, limit, offset):
    return conn.execute(
        f"SELECT {ENROLMENT_COLUMNS}, c.code AS certificate_code, count(*) OVER () AS total FROM enrolments e"
        " LEFT JOIN certificates c ON c.enrolment_id = e.id WHERE e.member_id = %s"
        " ORDER BY e.created_at DESC LIMIT %s OFFSET %s",
        (member_id, limit, offset),
    ).fetchall()


def member_sessions(conn, member_id, starts_from, starts_before):
    """The scheduled sessions of the courses a member holds a confirmed seat in, for their timetable."""
    return conn.execute(
        "SELECT s.id, s.course_id, c.title, s.starts_at, s.ends_at, c.site_id, coalesce(s.room_id, c.room_id) AS room_id"
        " FROM enrolments e JOIN courses c ON c.id = e.course_id JOIN sessions s ON s.course_id = c.id"
        " WHERE e.member_id = %s AND e.status = 'confirmed' AND s.state = 'scheduled'"
        " AND s.starts_at >= %s AND s.starts_at < %s ORDER BY s.starts_at LIMIT 500",
        (member_id, starts_from, starts_before)).fetchall()


def course_enrolments(conn, course_id, limit, offset, status=None):
    return conn.execute(
        f"SELECT {ENROLMENT_COLUMNS}, count(*) OVER () AS total FROM enrolments e WHERE e.course_id = %s"
        " AND (%s::text IS NULL OR e.status = %s)"
        " ORDER BY e.status, e.waitlist_seq NULLS FIRST, e.created_at LIMIT %s OFFSET %s",
        (course_id, status, status, limit, offset)).fetchall()


def members_with(conn, course_id, statuses=(domain.CONFIRMED,)):
    return [str(r["member_id"]) for r in conn.execute(
        "SELECT member_id FROM enrolments WHERE course_id = %s AND status = ANY(%s) ORDER BY created_at",
        (course_id, list(statuses)))]


def waitlist(conn, course_id, limit=None):
    """The live waitlist in line order, its head of `limit` entries if given."""
    return conn.execute(
        "SELECT id, member_id, seats FROM enrolments WHERE course_id = %s AND status = 'waitlisted'"
        " ORDER BY waitlist_seq LIMIT %s", (course_id, limit)).fetchall()


def set_status(conn, enrolment_id, status, *, offer_expires_at=None, reason=None, by=None, by_name=None):
    """An entry's new status (never into the line: waitlist_again puts one there); an entry leaving
    the line shortens the course's waitlist_length, read before the entry changes, and keeps its
    number as a departure (left_line_seq) for the places of those behind it."""
    conn.execute("UPDATE courses c SET version = version + 1, updated_at = now(),"
                 " waitlist_length = waitlist_length - CASE WHEN e.status = 'waitlisted' AND %s <> 'waitlisted'"
                 " THEN 1 ELSE 0 END"
                 " FROM enrolments e WHERE e.id = %s AND c.id = e.course_id", (status, enrolment_id))
    conn.execute(
        """UPDATE enrolments SET status = %s, offer_expires_at = %s, updated_at = now(),
                  waitlist_seq = CASE WHEN %s = 'waitlisted' THEN waitlist_seq END,
                  left_line_seq = CASE WHEN status = 'waitlisted' AND %s <> 'waitlisted' THEN waitlist_seq
                                       ELSE left_line_seq END,
                  cancel_reason = coalesce(%s, cancel_reason), cancelled_by = coalesce(%s, cancelled_by),
                  cancelled_by_name = coalesce(%s, cancelled_by_name)
           WHERE id = %s""",
        (status, offer_expires_at, status, status, reason, by, by_name, enrolment_id))


def waitlist_again(conn, course_id, enrolment_id):
    """Put an entry at the end of the line (a lottery's losers, in draw order): one more in line,
    unless it was in the line already."""
    seq = conn.execute(
        "UPDATE courses SET waitlist_seq = waitlist_seq + 1, version = version + 1, updated_at = now(),"
        " waitlist_length = waitlist_length + (SELECT CASE WHEN status = 'waitlisted' THEN 0 ELSE 1 END"
        "                                      FROM enrolments WHERE id = %s)"
        " WHERE id = %s RETURNING waitlist_seq", (enrolment_id, course_id)).fetchone()["waitlist_seq"]
    conn.execute("UPDATE enrolments SET status = 'waitlisted', waitlist_seq = %s, updated_at = now(),"
                 " left_line_seq = CASE WHEN status = 'waitlisted' THEN waitlist_seq ELSE left_line_seq END"
                 " WHERE id = %s", (seq, enrolment_id))


# the member's timetable: their confirmed sessions never overlap (an exclusion constraint)

TAKE_SLOTS = """INSERT INTO member_slots (enrolment_id, member_id, session_id, during)
                SELECT %s, %s, s.id, tstzrange(s.starts_at, s.ends_at) FROM sessions s
                WHERE s.course_id = %s AND s.state = 'scheduled'"""


def _clash():
    return Conflict("the course's sessions overlap another class the member holds", "timetable-clash",
                    {"course_id": ["overlaps a class the member holds"]})


def claim_slots(conn, enrolment_id, member_id, course_id, savepoint=True):
    """Take the member's time for every session of the course; a clash raises Conflict and, with
    a savepoint, leaves the rest of the transaction usable (without one, it all rolls back)."""
    try:
        if savepoint:
            with conn.transaction():
                conn.execute(TAKE_SLOTS, (enrolment_id, member_id, course_id))
        else:
            conn.execute(TAKE_SLOTS, (enrolment_id, member_id, course_id))
    except pg.ExclusionViolation as exc:
        raise _clash() from exc


def release_slots(conn, enrolment_id):
    conn.execute("DELETE FROM member_slots WHERE enrolment_id = %s", (enrolment_id,))


# the per-member cap of classes per term (counted under the member_terms row lock)

def take_term_place(conn, member_id, term):
    """Count one more class for the member in the term; over the cap, the CHECK refuses it (and
    the caller's transaction rolls back)."""
    try:
        conn.execute(
            """INSERT INTO member_terms (member_id, term_id, live_count, cap) VALUES (%s, %s, 1, %s)
               ON CONFLICT (member_id, term_id)
               DO UPDATE SET live_count = member_terms.live_count + 1, cap = excluded.cap""",
            (member_id, term["id"], term["class_cap"]))
    except pg.CheckViolation as exc:
        raise Conflict(f"a member may take at most {term['class_cap']} classes in {term['name']}",
                       "term-cap-reached", {"course_id": [f"class cap of {term['class_cap']} reached"]}) from exc


def give_back_term_place(conn, member_id, term_id):
    if term_id is not None:
        conn.execute("UPDATE member_terms SET live_count = greatest(live_count - 1, 0)"
                     " WHERE member_id = %s AND term_id = %s", (member_id, term_id))


def holds_seat_in_term(conn, member_id, term_id, except_course):
    if term_id is None:
        return False
    return conn.execute(
        """SELECT 1 FROM enrolments e JOIN courses c ON c.id = e.course_id
           WHERE e.member_id = %s AND c.term_id = %s AND e.status = 'confirmed' AND c.id <> %s LIMIT 1""",
        (member_id, term_id, except_course)).fetchone() is not None


# offers

def expired_offers(conn, limit=100):
    return [r["course_id"] for r in conn.execute(
        "SELECT DISTINCT course_id FROM enrolments WHERE status = 'offered' AND offer_expires_at <= now()"
        " LIMIT %s", (limit,))]


def expired_offers_of(conn, course_id):
    return conn.execute(
        "SELECT id, member_id, seats FROM enrolments WHERE course_id = %s AND status = 'offered'"
        " AND offer_expires_at <= now() ORDER BY offer_expires_at", (course_id,)).fetchall()


# lottery

def due_lotteries(conn, limit=20):
    return [r["id"] for r in conn.execute(
        "SELECT id FROM courses WHERE allocation = 'lottery' AND drawn_at IS NULL AND state = 'published'"
        " AND draw_at <= now() ORDER BY draw_at LIMIT %s", (limit,))]


def registered(conn, course_id):
    return conn.execute(
        "SELECT id AS enrolment_id, member_id, seats FROM enrolments WHERE course_id = %s AND status = 'registered'",
        (course_id,)).fetchall()


def save_lottery(conn, course_id, seed, seats, inputs, result, drawn_at, drawn_by):
    conn.execute("INSERT INTO lotteries (course_id, seed, seats, inputs, result, drawn_at, drawn_by)"
                 " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                 (course_id, seed, seats, Jsonb(inputs), Jsonb(result), drawn_at, drawn_by))
    conn.execute("UPDATE courses SET drawn_at = %s, version = version + 1, updated_at = now() WHERE id = %s",
                 (drawn_at, course_id))


def get_lottery(conn, course_id):
    row = conn.execute("SELECT * FROM lotteries WHERE course_id = %s", (course_id,)).fetchone()
    if row is None:
        raise NotFound(f"course {course_id} has no draw yet", "lottery-not-drawn")
    return row


# attendance and strikes

def mark(conn, session, member_id, enrolment_id, present, source, by):
    conn.execute(
        """INSERT INTO attendance (session_id, member_id, enrolment_id, present, source, marked_by)
           VALUES (%s, %s, %s, %s, %s, %s)
           ON CONFLICT (session_id, member_id) DO UPDATE
           SET present = excluded.present, source = excluded.source, marked_by = excluded.marked_by,
               marked_at = now()""",
        (session["id"], member_id, enrolment_id, present, source, by))
    if present:
        conn.execute("DELETE FROM strikes WHERE session_id = %s AND member_id = %s AND cleared_at IS NULL",
                     (session["id"], member_id))
    else:  # a closed account's absences are not kept (close_member)
        conn.execute("INSERT INTO strikes (member_id, session_id, course_id, term_id) SELECT %(m)s, %(s)s, %(c)s, %(t)s"
                     " WHERE NOT EXISTS (SELECT 1 FROM closed_members WHERE member_id = %(m)s)"
                     " ON CONFLICT (session_id, member_id) DO NOTHING",
                     {"m": member_id, "s": session["id"], "c": session["course_id"], "t": session["term_id"]})
    return conn.execute("SELECT * FROM attendance WHERE session_id = %s AND member_id = %s",
                        (session["id"], member_id)).fetchone()


def register(conn, session_id):
    """The session's marks so far: the teacher's and the members' own check-ins."""
    return conn.execute("SELECT * FROM attendance WHERE session_id = %s ORDER BY marked_at, member_id",
                        (session_id,)).fetchall()


def confirmed_enrolment(conn, course_id, member_id):
    return conn.execute("SELECT id FROM enrolments WHERE course_id = %s AND member_id = %s AND status = 'confirmed'",
                        (course_id, member_id)).fetchone()


def strikes(conn, member_id):
    return conn.execute("SELECT * FROM strikes WHERE member_id = %s ORDER BY created_at", (member_id,)).fetchall()


def clear_strikes(conn, member_id, by, reason, teacher=None):
    """The member's standing strikes cleared; given a `teacher`, only those of the courses they teach."""
    return conn.execute(
        "UPDATE strikes s SET cleared_at = now(), cleared_by = %s, clear_reason = %s"
        " WHERE s.member_id = %s AND s.cleared_at IS NULL AND (%s::uuid IS NULL OR EXISTS ("
        "  SELECT 1 FROM courses c WHERE c.id = s.course_id AND %s::uuid = ANY(c.teacher_ids)))",
        (by, reason, member_id, teacher, teacher)).rowcount


def taught_by(conn, member_id, teacher):
    """Whether the member has ever had an entry in a course the teacher teaches."""
    return conn.execute(
        "SELECT 1 FROM enrolments e JOIN courses c ON c.id = e.course_id"
        " WHERE e.member_id = %s AND %s::uuid = ANY(c.teacher_ids) LIMIT 1", (member_id, teacher)).fetchone() is not None


# rosters and teachers

def course_teachers(conn, course_id):
    """The course's teacher ids (as text), or NotFound."""
    row = conn.execute("SELECT teacher_ids::text[] AS ids FROM courses WHERE id = %s", (course_id,)).fetchone()
    if row is None:
        raise NotFound(f"course {course_id} does not exist", "course-not-found")
    return row["ids"]


def roster(conn, course_id, status, limit, offset):
    """The course's live entries (or those of one status), seats first then the waitlist in line order,
    each with the sessions held so far (ended, not cancelled) and how many of them the member attended."""
    return conn.execute(
        f"""WITH held AS (SELECT id FROM sessions WHERE course_id = %(course)s AND state <> 'cancelled'
                                                  AND ends_at <= now())
            SELECT {ENROLMENT_COLUMNS}, e.id AS enrolment_id,
                   (SELECT count(*) FROM held) AS held,
                   (SELECT count(*) FROM attendance a JOIN held h ON h.id = a.session_id
                    WHERE a.member_id = e.member_id AND a.present) AS attended,
                   count(*) OVER () AS total
            FROM enrolments e
            WHERE e.course_id = %(course)s
              AND (%(status)s::text IS NULL AND e.status <> 'cancelled' OR e.status = %(status)s)
            ORDER BY array_position(ARRAY['confirmed', 'offered', 'registered', 'waitlisted', 'cancelled'],
                                    e.status), e.waitlist_seq, e.created_at, e.id
            LIMIT %(limit)s OFFSET %(offset)s""",
        {"course": course_id, "status": status, "limit": limit, "offset": offset}).fetchall()


def teaching(conn, teacher, limit, offset):
    """The courses the teacher teaches, those still to come first, each with its next scheduled session."""
    rows = conn.execute(
        f"""SELECT {COURSE_COLUMNS}, count(*) OVER () AS total,
                   (SELECT min(s.starts_at) FROM sessions s WHERE s.course_id = c.id AND s.state = 'scheduled'
                    AND s.starts_at > now()) AS next_at
            FROM courses c WHERE c.teacher_ids @> ARRAY[%s::uuid]
            ORDER BY next_at NULLS LAST, c.created_at DESC, c.id LIMIT %s OFFSET %s""",
        (teacher, limit, offset)).fetchall()
    sessions = sessions_of(conn, [r["id"] for r in rows])
    for row in rows:
        row["sessions"] = sessions.get(row["id"], [])
        row["next_session"] = next((s for s in row["sessions"] if s["starts_at"] == row["next_at"]
                                    and s["state"] == "scheduled"), None)
    return rows


# certificates

def attendance_figures(conn, enrolment):
    return conn.execute(
        """SELECT count(*) FILTER (WHERE s.ends_at <= now()) AS held,
                  count(*) FILTER (WHERE s.ends_at > now()) AS remaining,
                  count(a.*) FILTER (WHERE a.present AND s.ends_at <= now()) AS attended
           FROM sessions s
           LEFT JOIN attendance a ON a.session_id = s.id AND a.member_id = %s
           WHERE s.course_id = %s AND s.state <> 'cancelled'""",
        (enrolment["member_id"], enrolment["course_id"])).fetchone()


def certificate_of(conn, enrolment_id):
    return conn.execute("SELECT * FROM certificates WHERE enrolment_id = %s", (enrolment_id,)).fetchone()


def issue_certificate(conn, enrolment, course_title, attended, sessions_count):
    return conn.execute(
        """INSERT INTO certificates (enrolment_id, code, member_id, course_id, course_title, attended, sessions_count)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (enrolment_id) DO NOTHING RETURNING *""",
        (enrolment["id"], secrets.token_hex(8).upper(), enrolment["member_id"], enrolment["course_id"],
         course_title, attended, sessions_count)).fetchone()


def certificate_by_code(conn, code):
    """The certificate of this code, with the hours of the sessions its holder was marked present at."""
    row = conn.execute(
        """SELECT c.*, (SELECT coalesce(round(extract(epoch FROM sum(s.ends_at - s.starts_at)) / 3600, 1), 0)
                          FROM attendance a JOIN sessions s ON s.id = a.session_id
                         WHERE a.enrolment_id = c.enrolment_id AND a.present) AS hours
             FROM certificates c WHERE c.code = %s""", (code.upper(),)).fetchone()
    if row is None:
        raise NotFound("no certificate has this verification code", "certificate-not-found")
    return row


# class requests

def create_class_request(conn, data, unit_id, requested_by):
    return conn.execute(
        """INSERT INTO class_requests (unit_id, requested_by, title, category, description, site_id, capacity, note)
           VALUES (%(unit_id)s, %(by)s, %(title)s, %(category)s, %(description)s, %(site_id)s, %(capacity)s,
                   %(note)s) RETURNING *""",
        {"category": None, "description": None, "note": None, **data, "unit_id": unit_id, "by": requested_by},
    ).fetchone()


def class_requests(conn, unit_id, limit, offset):
    return conn.execute(
        "SELECT *, count(*) OVER () AS total FROM class_requests WHERE (%s::uuid IS NULL OR unit_id = %s)"
        " ORDER BY created_at DESC, id LIMIT %s OFFSET %s", (unit_id, unit_id, limit, offset)).fetchall()


def lock_class_request(conn, request_id):
    row = conn.execute("SELECT * FROM class_requests WHERE id = %s FOR UPDATE", (request_id,)).fetchone()
    if row is None:
        raise NotFound(f"class request {request_id} does not exist", "class-request-not-found")
    return row


def decide_class_request(conn, request_id, state, reason, course_id, by):
    return conn.execute(
        "UPDATE class_requests SET state = %s, reason = %s, course_id = %s, decided_by = %s, decided_at = now()"
        " WHERE id = %s RETURNING *", (state, reason, course_id, by, request_id)).fetchone()


# stats

def stats(conn):
    row = conn.execute(
        """SELECT
             (SELECT count(*) FROM courses WHERE state = 'published') AS courses_run,
             (SELECT count(*) FROM courses WHERE state = 'cancelled') AS courses_cancelled,
             (SELECT coalesce(sum(capacity), 0) FROM courses WHERE state = 'published') AS seats,
             (SELECT coalesce(sum(confirmed_count), 0) FROM courses WHERE state = 'published') AS seats_taken,
             (SELECT count(DISTINCT member_id) FROM enrolments WHERE status = 'confirmed') AS trainees,
             (SELECT count(*) FROM enrolments WHERE status = 'confirmed') AS enrolments_confirmed,
             (SELECT count(*) FROM enrolments WHERE status = 'waitlisted') AS enrolments_waitlisted,
             (SELECT count(*) FROM sessions WHERE state = 'scheduled') AS sessions,
             (SELECT count(*) FROM attendance WHERE present) AS attendances,
             (SELECT count(*) FROM attendance) AS attendance_marks,
             (SELECT count(*) FROM certificates) AS certificates,
             (SELECT count(*) FROM class_requests WHERE state = 'pending') AS class_requests_pending""").fetchone()
    return dict(row)


# the yearly report (GET /v1/reports/summary)

# what each breakdown groups a class's figures by; the enrolments do not record the member's unit
REPORT_KEYS = {"site": "c.site_id", "district": "c.district", "category": "c.category"}


def _report_key(by, when):
    return reports.month_of(when) if by == "month" else REPORT_KEYS.get(by)


def report_sessions(conn, start, end, by):
    """Courses run and sessions held in [start, end): sessions that took place (not cancelled, not
    lost with their room, over by now), by when they started."""
    head, group = reports.grouping(_report_key(by, "s.starts_at"))
    return conn.execute(
        f"""SELECT {head}, count(DISTINCT s.course_id) AS courses_run, count(*) AS sessions_held
            FROM sessions s JOIN courses c ON c.id = s.course_id
            WHERE s.starts_at >= %(s)s AND s.starts_at < %(e)s AND s.state = 'scheduled' AND s.ends_at <= now()
            {group}""", {"s": start, "e": end}).fetchall()


def report_attendance(conn, start, end, by):
    """Person-times (a member marked present at a session) and the distinct members among them."""
    head, group = reports.grouping(_report_key(by, "s.starts_at"))
    return conn.execute(
        f"""SELECT {head}, count(*) AS person_times, count(DISTINCT a.member_id) AS trainees
            FROM attendance a JOIN sessions s ON s.id = a.session_id JOIN courses c ON c.id = s.course_id
            WHERE s.starts_at >= %(s)s AND s.starts_at < %(e)s AND a.present
            {group}""", {"s": start, "e": end}).fetchall()


def report_enrolments(conn, start, end, by):
    """Enrolments made in [start, end): those holding a seat now, and those still waiting."""
    head, group = reports.grouping(_report_key(by, "e.created_at"))
    return conn.execute(
        f"""SELECT {head}, count(*) FILTER (WHERE e.status = 'confirmed') AS enrolments,
                   count(*) FILTER (WHERE e.status = 'waitlisted') AS waitlisted
            FROM enrolments e JOIN courses c ON c.id = e.course_id
            WHERE e.created_at >= %(s)s AND e.created_at < %(e)s AND e.status IN ('confirmed', 'waitlisted')
            {group}""", {"s": start, "e": end}).fetchall()


# closed accounts (gateway.account_closed)

CLOSED_NAME = "Closed account"  # what the gateway now calls the account


def lock_member(conn, member_id, shared=False):
    """The member's lock: an enrolment takes it shared, the erasure of a closed account alone, so the
    one waits for the other and no enrolment slips in beside the erasure."""
    conn.execute(f"SELECT pg_advisory_xact_lock{'_shared' if shared else ''}(hashtextextended(%s, 7))",
                 (str(member_id),))


def open_entries(conn, member_id):
    """(enrolment id, course id) of the member's entries still to end: a waitlist place, an offer, a
    lottery entry, or a seat in a course with a class still to come (or none timetabled yet)."""
    return [(r["id"], r["course_id"]) for r in conn.execute(
        """SELECT e.id, e.course_id FROM enrolments e WHERE e.member_id = %(m)s AND e.status <> 'cancelled'
             AND (e.status <> 'confirmed'
                  OR EXISTS (SELECT 1 FROM sessions s WHERE s.course_id = e.course_id AND s.state = 'scheduled'
                             AND s.ends_at > now())
                  OR NOT EXISTS (SELECT 1 FROM sessions s WHERE s.course_id = e.course_id))
           ORDER BY e.course_id""", {"m": member_id}).fetchall()]


def erase_member(conn, member_id):
    """What is about the person goes: the birth date and their own words on their entries, their
    note on class requests, their strikes; as a clerk, their name on the entries they made. The
    entries (seats taken), attendance and certificates stay, under an id that names no one."""
    for sql in ("UPDATE enrolments SET birth_date = NULL,"
                " cancel_reason = CASE WHEN cancelled_by = %(m)s THEN NULL ELSE cancel_reason END"
                " WHERE member_id = %(m)s AND (birth_date IS NOT NULL OR cancelled_by = %(m)s)",
                "UPDATE enrolments SET enrolled_by_name = %(n)s WHERE enrolled_by = %(m)s",
                "UPDATE enrolments SET cancelled_by_name = %(n)s WHERE cancelled_by = %(m)s"
                " AND cancelled_by_name IS NOT NULL",
                "UPDATE class_requests SET note = NULL WHERE requested_by = %(m)s AND note IS NOT NULL",
                "DELETE FROM strikes WHERE member_id = %(m)s"):
        conn.execute(sql, {"m": member_id, "n": CLOSED_NAME})
