"""SQL of the venues database. Every function takes a connection inside the caller's transaction."""
from datetime import timedelta

from psycopg import errors as pg
from psycopg.types.json import Jsonb
from psycopg.types.range import Range

from services.common import reports
from services.common.errors import Conflict, Invalid, NotFound
from services.common.zone import HOME_ZONE_NAME
from services.venues import domain

LIVE = list(domain.LIVE)

SITE_COLUMNS = "s.id, s.name, s.kind, s.district, s.address, s.created_at," \
               " (SELECT count(*) FROM rooms r WHERE r.site_id = s.id) AS rooms"
ROOM_COLUMNS = """r.id, r.site_id, s.name AS site_name, s.district, s.address AS site_address, r.parent_id, r.name, r.floor, r.capacity,
    r.features, r.opening_hours, r.bookable_by, r.buffer_minutes, r.requires_approval, r.checkin_minutes,
    r.max_advance_days, r.min_notice_minutes, r.max_hours_per_week::float8 AS max_hours_per_week,
    r.max_bookings_per_week, r.checkin_opens_minutes, r.no_show_limit, r.no_show_days, r.created_at"""
BOOKING_COLUMNS = """b.id, b.room_id, r.name AS room_name, b.site_id, s.name AS site_name, b.series_id,
    b.occurrence, b.title, b.status, b.starts_at, b.ends_at, b.holder_service, b.holder_reference,
    b.member_id, b.club_id, cl.name AS club, cl.leader_id AS club_leader_id, b.reason, b.checked_in_at,
    b.created_at"""
BOOKING_FROM = "bookings b JOIN rooms r ON r.id = b.room_id JOIN sites s ON s.id = b.site_id" \
               " LEFT JOIN clubs cl ON cl.id = b.club_id"
# a member's bookings: their own and those of the clubs they lead, whoever made them (ARRAY: two
# index scans, OR'd); one rule for the member's booking list and their calendar feeds
MEMBER_BOOKINGS = "(b.member_id = %(member)s" \
                  " OR b.club_id = ANY(ARRAY(SELECT id FROM clubs WHERE leader_id = %(member)s)))"
CLUB_COLUMNS = "c.id, c.name, c.leader_id, c.site_id, s.name AS site_name, c.created_at"
CLUB_FROM = "clubs c LEFT JOIN sites s ON s.id = c.site_id"


# sites and rooms

def create_site(conn, data):
    row = conn.execute(
        "INSERT INTO sites (name, kind, district, address) VALUES (%(name)s, %(kind)s, %(district)s, %(address)s)"
        " RETURNING id", {"district": None, "address": None, **data}).fetchone()
    return get_site(conn, row["id"])


def get_site(conn, site_id):
    row = conn.execute(f"SELECT {SITE_COLUMNS} FROM sites s WHERE s.id = %s", (site_id,)).fetchone()
    if row is None:
        raise NotFound(f"site {site_id} does not exist", "site-not-found")
    return row


def list_sites(conn, limit, offset, district=None, kind=None):
    return conn.execute(
        f"SELECT {SITE_COLUMNS}, count(*) OVER () AS total FROM sites s WHERE (%(district)s::text IS NULL OR s.district = %(district)s)"
        " AND (%(kind)s::text IS NULL OR s.kind = %(kind)s) ORDER BY s.created_at, s.id LIMIT %(limit)s OFFSET %(offset)s",
        {"district": district, "kind": kind, "limit": limit, "offset": offset}, prepare=False).fetchall()


def create_room(conn, data):
    site = conn.execute("SELECT id FROM sites WHERE id = %s", (data["site_id"],)).fetchone()
    if site is None:
        raise Invalid("no such site", "validation-failed", {"site_id": ["is not a known site"]})
    if data.get("parent_id"):
        parent = conn.execute("SELECT site_id, parent_id FROM rooms WHERE id = %s FOR UPDATE",
                              (data["parent_id"],)).fetchone()
        if parent is None or parent["site_id"] != data["site_id"]:
            raise Invalid("no such room at this site", "validation-failed",
                          {"parent_id": ["is not a room of this site"]})
        if parent["parent_id"] is not None:
            raise Invalid("a part of a room cannot be divided again", "validation-failed",
                          {"parent_id": ["is itself a part of a room"]})
    values = {"parent_id": None, "floor": None, "opening_hours": None, "checkin_minutes": None,
              "max_advance_days": domain.ADVANCE_DAYS, "min_notice_minutes": None, "max_hours_per_week": None,
              "max_bookings_per_week": domain.BOOKINGS_PER_WEEK, "checkin_opens_minutes": domain.CHECKIN_OPENS_MINUTES,
              "no_show_limit": domain.STRIKES_LIMIT, "no_show_days": domain.STRIKES_WINDOW.days, **data}
    values["opening_hours"] = Jsonb(values["opening_hours"]) if values["opening_hours"] is not None else None
    try:
        with conn.transaction():
            row = conn.execute(
                """INSERT INTO rooms (site_id, parent_id, name, floor, capacity, features, opening_hours, bookable_by,
                       buffer_minutes, requires_approval, checkin_minutes, max_advance_days, min_notice_minutes,
                       max_hours_per_week, max_bookings_per_week, checkin_opens_minutes, no_show_limit, no_show_days)
                   VALUES (%(site_id)s, %(parent_id)s, %(name)s, %(floor)s, %(capacity)s, %(features)s,
                       %(opening_hours)s, %(bookable_by)s, %(buffer_minutes)s, %(requires_approval)s,
                       %(checkin_minutes)s, %(max_advance_days)s, %(min_notice_minutes)s, %(max_hours_per_week)s,
                       %(max_bookings_per_week)s, %(checkin_opens_minutes)s, %(no_show_limit)s, %(no_show_days)s)
                   RETURNING id""", values).fetchone()
    except pg.UniqueViolation:
        raise Conflict("this site already has a room of that name", "room-name-taken",
                       {"name": ["is taken at this site"]}) from None
    return get_room(conn, row["id"])


def edit_room(conn, room_id, data):
    """Change a room's settings; bookings already made stay as they are."""
    get_room(conn, room_id)
    values = {**data, "id": room_id}
    if "opening_hours" in values and values["opening_hours"] is not None:
        values["opening_hours"] = Jsonb(values["opening_hours"])
    sets = ", ".join(f"{name} = %({name})s" for name in data)
    if sets:
        try:
            with conn.transaction():
                conn.execute(f"UPDATE rooms SET {sets} WHERE id = %(id)s", values)
        except pg.UniqueViolation:
            raise Conflict("this site already has a room of that name", "room-name-taken",
                           {"name": ["is taken at this site"]}) from None
    return get_room(conn, room_id)


def get_room(conn, room_id):
    row = conn.execute(f"SELECT {ROOM_COLUMNS} FROM rooms r JOIN sites s ON s.id = r.site_id WHERE r.id = %s",
                       (room_id,)).fetchone()
    if row is None:
        raise NotFound(f"room {room_id} does not exist", "room-not-found")
    return row


def rooms_by_id(conn, room_ids):
    """The rooms of these ids (text) that exist, by id (text), with their site's name."""
    if not room_ids:
        return {}
    rows = conn.execute(f"SELECT {ROOM_COLUMNS} FROM rooms r JOIN sites s ON s.id = r.site_id"
                        " WHERE r.id = ANY(%s::uuid[])", (sorted(room_ids),)).fetchall()
    return {str(r["id"]): r for r in rows}


def room_for_booking(conn, room_id):
    """The room, with the ids of the rooms it is part of or contains (they block each other)."""
    room = conn.execute(
        f"SELECT {ROOM_COLUMNS}, ARRAY(SELECT c.id FROM rooms c WHERE c.parent_id = r.id) AS parts"
        " FROM rooms r JOIN sites s ON s.id = r.site_id WHERE r.id = %s", (room_id,)).fetchone()
    if room is None:
        raise NotFound(f"room {room_id} does not exist", "room-not-found",
                       {"room_id": ["is not a known room"]})
    return room


def list_rooms(conn, limit, offset, site_id=None, district=None, feature=None, min_capacity=None):
    return conn.execute(
        f"""SELECT {ROOM_COLUMNS}, count(*) OVER () AS total FROM rooms r JOIN sites s ON s.id = r.site_id
            WHERE (%(site)s::uuid IS NULL OR r.site_id = %(site)s)
              AND (%(district)s::text IS NULL OR s.district = %(district)s)
              AND (%(feature)s::text IS NULL OR r.features @> ARRAY[%(feature)s::text])
              AND (%(cap)s::int IS NULL OR r.capacity >= %(cap)s)
            ORDER BY s.created_at, s.id, r.name LIMIT %(limit)s OFFSET %(offset)s""",
        {"site": site_id, "district": district, "feature": feature, "cap": min_capacity,
         "limit": limit, "offset": offset}, prepare=False).fetchall()


# clubs

def _club_values(conn, data):
    if data.get("site_id") and conn.execute("SELECT 1 FROM sites WHERE id = %s", (data["site_id"],)).fetchone() is None:
        raise Invalid("no such site", "validation-failed", {"site_id": ["is not a known site"]})


def create_club(conn, data, created_by):
    _club_values(conn, data)
    try:
        with conn.transaction():
            row = conn.execute("INSERT INTO clubs (name, leader_id, site_id, created_by) VALUES (%s, %s, %s, %s)"
                               " RETURNING id", (data["name"], data["leader_id"], data.get("site_id"),
                                                 created_by)).fetchone()
    except pg.UniqueViolation:
        raise Conflict("there is already a club of that name here", "club-name-taken",
                       {"name": ["is taken at this site"]}) from None
    return get_club(conn, row["id"])


def edit_club(conn, club_id, data):
    get_club(conn, club_id, lock=True)
    _club_values(conn, data)
    sets = [f"{name} = %({name})s" for name in ("name", "leader_id", "site_id") if name in data]
    try:
        with conn.transaction():
            conn.execute(f"UPDATE clubs SET {', '.join(sets + ['updated_at = now()'])} WHERE id = %(id)s",
                         {**data, "id": club_id})
    except pg.UniqueViolation:
        raise Conflict("there is already a club of that name here", "club-name-taken",
                       {"name": ["is taken at this site"]}) from None
    return get_club(conn, club_id)


def get_club(conn, club_id, lock=False, field=None):
    row = conn.execute(f"SELECT {CLUB_COLUMNS} FROM {CLUB_FROM} WHERE c.id = %s" + (" FOR UPDATE OF c" if lock else ""),
                       (club_id,)).fetchone()
    if row is None:
        raise NotFound(f"club {club_id} does not exist", "club-not-found",
                       {field: ["is not a known club"]} if field else None)
    return row


def list_clubs(conn, limit, offset, site_id=None, leader_id=None):
    return conn.execute(
        f"""SELECT {CLUB_COLUMNS}, count(*) OVER () AS total FROM {CLUB_FROM}
            WHERE (%(site)s::uuid IS NULL OR c.site_id = %(site)s) AND (%(leader)s::uuid IS NULL OR c.leader_id = %(leader)s)
            ORDER BY c.name, c.id LIMIT %(limit)s OFFSET %(offset)s""",
        {"site": site_id, "leader": leader_id, "limit": limit, "offset": offset}, prepare=False).fetchall()


# calendar

def calendar_between(conn, first, last):
    rows = conn.execute("SELECT day, kind, name, as_weekday FROM calendar_days WHERE day BETWEEN %s AND %s",
                        (first, last)).fetchall()
    return {r["day"]: domain.Day(r["day"], r["kind"], r["name"], r["as_weekday"]) for r in rows}


def load_calendar_year(conn, year, source, days, replace=False):
    """Load a year's file unless that year was loaded before (then it is edited in the database)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('venues-calendar'))")
    if replace:
        conn.execute("DELETE FROM calendar_years WHERE year = %s", (year,))
        conn.execute("DELETE FROM calendar_days WHERE extract(year FROM day) = %s", (year,))
    if conn.execute("INSERT INTO calendar_years (year, source) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (year, source)).rowcount == 0:
        return False
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO calendar_days (day, kind, name, as_weekday) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name,"
            " as_weekday = excluded.as_weekday",
            [(d.day, d.kind, d.name, d.as_weekday) for d in days])
    return True


def set_calendar_day(conn, day):
    conn.execute("INSERT INTO calendar_days (day, kind, name, as_weekday) VALUES (%(day)s, %(kind)s, %(name)s,"
                 " %(as_weekday)s) ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name,"
                 " as_weekday = excluded.as_weekday", {"as_weekday": None, **day})


def delete_calendar_day(conn, day):
    return conn.execute("DELETE FROM calendar_days WHERE day = %s", (day,)).rowcount


def list_calendar(conn, year):
    return conn.execute("SELECT day, kind, name, as_weekday FROM calendar_days"
                        " WHERE extract(year FROM day) = %s ORDER BY day", (year,)).fetchall()


# bookings

def lock_key(conn, key):
    """Serialise the transactions about one holder (series replay, quotas)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))


def lock_room(conn, room):
    """Bookings of one room (a divisible whole and its parts count as one) are inserted one
    transaction at a time: concurrent inserters checking the exclusion constraint against each
    other's uncommitted rows would otherwise deadlock. The constraint stays the guarantee."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"room:{room['parent_id'] or room['id']}",))


def clashes(conn, room, occurrences):
    """{index: reason} for each candidate the room is already taken or closed for."""
    if not occurrences:
        return {}
    buffer = timedelta(minutes=room["buffer_minutes"])
    starts = [o.starts_at for o in occurrences]
    ends = [o.ends_at + buffer for o in occurrences]
    rooms = [room["id"], *room["parts"]]
    found = {}
    for row in conn.execute(
            """SELECT DISTINCT ON (o.i) o.i, b.status FROM unnest(%s::timestamptz[], %s::timestamptz[])
                   WITH ORDINALITY AS o(s, e, i)
               JOIN booking_claims c ON c.room_id = ANY(%s) AND c.blocked && tstzrange(o.s, o.e)
               JOIN bookings b ON b.id = c.booking_id ORDER BY o.i""", (starts, ends, rooms)):
        found[row["i"] - 1] = ("taken: the room is already booked (a request awaiting approval)"
                               if row["status"] == domain.PENDING else "taken: the room is already booked")
    for row in conn.execute(
            """SELECT DISTINCT ON (o.i) o.i, c.reason FROM unnest(%s::timestamptz[], %s::timestamptz[])
                   WITH ORDINALITY AS o(s, e, i)
               JOIN closures c ON c.site_id = %s AND c.during && tstzrange(o.s, o.e)
                   AND (c.room_id IS NULL OR c.room_id = ANY(%s)) ORDER BY o.i""",
            (starts, [o.ends_at for o in occurrences], room["site_id"],
             [*rooms, *([room["parent_id"]] if room["parent_id"] else [])])):
        found.setdefault(row["i"] - 1, f"closed: {row['reason']}")
    return found


def create_series(conn, room_id, title, holder, rule):
    return conn.execute(
        "INSERT INTO series (room_id, title, holder_service, holder_reference, rule) VALUES (%s, %s, %s, %s, %s)"
        " RETURNING id", (room_id, title, holder[0], holder[1], Jsonb(rule) if rule is not None else None),
    ).fetchone()["id"]


class Taken(Exception):
    """The exclusion constraint refused a booking: someone holds the room at that time."""


def insert_booking(conn, room, occ, status, title, holder, member_id, club_id, created_by, series_id=None,
                   number=None):
    blocked = Range(occ.starts_at, occ.ends_at + timedelta(minutes=room["buffer_minutes"]), "[)")
    try:
        with conn.transaction():  # a savepoint: a refused occurrence leaves the others standing
            return conn.execute(
                """INSERT INTO bookings (room_id, site_id, series_id, occurrence, title, status, starts_at, ends_at,
                       blocked, holder_service, holder_reference, member_id, club_id, created_by)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                (room["id"], room["site_id"], series_id, number, title, status, occ.starts_at, occ.ends_at, blocked,
                 holder[0], holder[1], member_id, club_id, created_by)).fetchone()["id"]
    except pg.ExclusionViolation:
        raise Taken() from None


def get_booking(conn, booking_id, lock=False):
    row = conn.execute(f"SELECT {BOOKING_COLUMNS} FROM {BOOKING_FROM} WHERE b.id = %s"
                       + (" FOR UPDATE OF b" if lock else ""), (booking_id,)).fetchone()
    if row is None:
        raise NotFound(f"booking {booking_id} does not exist", "booking-not-found")
    return row


def bookings_by_id(conn, ids):
    return conn.execute(f"SELECT {BOOKING_COLUMNS} FROM {BOOKING_FROM} WHERE b.id = ANY(%s) ORDER BY b.starts_at",
                        (list(ids),)).fetchall()


def list_bookings(conn, limit, offset, member_id=None, room_id=None, site_id=None, status=None,
                  series_id=None, starts_from=None, starts_before=None, holder_service=None, holder_reference=None):
    return conn.execute(
        f"""SELECT {BOOKING_COLUMNS}, count(*) OVER () AS total FROM {BOOKING_FROM}
            WHERE (%(member)s::uuid IS NULL OR {MEMBER_BOOKINGS})
              AND (%(room)s::uuid IS NULL OR b.room_id = %(room)s)
              AND (%(site)s::uuid IS NULL OR b.site_id = %(site)s)
              AND (%(status)s::text IS NULL OR b.status = %(status)s)
              AND (%(series)s::uuid IS NULL OR b.series_id = %(series)s)
              AND (%(from)s::timestamptz IS NULL OR b.starts_at >= %(from)s)
              AND (%(before)s::timestamptz IS NULL OR b.starts_at < %(before)s)
              AND (%(hs)s::text IS NULL OR b.holder_service = %(hs)s)
              AND (%(hr)s::text IS NULL OR b.holder_reference = %(hr)s)
            ORDER BY b.starts_at, b.id LIMIT %(limit)s OFFSET %(offset)s""",
        {"member": member_id, "room": room_id, "site": site_id, "status": status, "series": series_id,
         "from": starts_from, "before": starts_before, "hs": holder_service, "hr": holder_reference,
         "limit": limit, "offset": offset}, prepare=False).fetchall()


def live_holder_series(conn, holder):
    """The holder's bookings of its series that was not released (reserve_series replays them)."""
    return conn.execute(
        f"""SELECT {BOOKING_COLUMNS} FROM {BOOKING_FROM} JOIN series x ON x.id = b.series_id
            WHERE x.holder_service = %s AND x.holder_reference = %s AND x.released_at IS NULL
              AND b.status = ANY(%s) ORDER BY b.starts_at""", (holder[0], holder[1], LIVE)).fetchall()


def release_holder(conn, holder, clubs=True):
    """Lock the holder's future live bookings and mark its series released. `clubs=False`: not the
    bookings a member made for a club they lead (nor those series), which are the club's."""
    conn.execute("UPDATE series x SET released_at = now() WHERE holder_service = %s AND holder_reference = %s"
                 " AND released_at IS NULL AND (%s OR NOT EXISTS"
                 " (SELECT 1 FROM bookings c WHERE c.series_id = x.id AND c.club_id IS NOT NULL))",
                 (*holder, clubs))
    return conn.execute(
        f"SELECT {BOOKING_COLUMNS} FROM {BOOKING_FROM} WHERE b.holder_service = %s AND b.holder_reference = %s"
        " AND b.status = ANY(%s) AND b.starts_at > now() AND (%s OR b.club_id IS NULL)"
        " ORDER BY b.starts_at FOR UPDATE OF b",
        (holder[0], holder[1], LIVE, clubs)).fetchall()


def series_scope(conn, booking, scope):
    """The bookings an action on `booking` touches: it alone, it and the following ones, the series."""
    if scope == "one" or booking["series_id"] is None:
        return [booking]
    return conn.execute(
        f"SELECT {BOOKING_COLUMNS} FROM {BOOKING_FROM} WHERE b.series_id = %s AND b.status = ANY(%s)"
        " AND (%s OR b.starts_at >= %s) ORDER BY b.starts_at FOR UPDATE OF b",
        (booking["series_id"], LIVE, scope == "series", booking["starts_at"])).fetchall()


def set_status(conn, booking_id, status, reason=None, decided_by=None, checked_in=False):
    conn.execute(
        "UPDATE bookings SET status = %s, reason = coalesce(%s, reason), decided_by = coalesce(%s, decided_by),"
        " checked_in_at = CASE WHEN %s THEN now() ELSE checked_in_at END, updated_at = now() WHERE id = %s",
        (status, reason, decided_by, checked_in, booking_id))


def move_booking(conn, booking, room, starts_at, ends_at, title):
    blocked = Range(starts_at, ends_at + timedelta(minutes=room["buffer_minutes"]), "[)")
    try:
        with conn.transaction():
            conn.execute("UPDATE bookings SET starts_at = %s, ends_at = %s, blocked = %s, title = %s,"
                         " updated_at = now() WHERE id = %s", (starts_at, ends_at, blocked, title, booking["id"]))
    except pg.ExclusionViolation:
        raise Taken() from None


def holder_usage(conn, room_id, member_id, club_id, first, last):
    """{monday: (hours, bookings)} the member (or club, whoever booked for it) holds in this room in those weeks."""
    rows = conn.execute(
        f"""SELECT date_trunc('week', b.starts_at AT TIME ZONE '{HOME_ZONE_NAME}')::date AS week,
                  sum(extract(epoch FROM b.ends_at - b.starts_at)) / 3600.0 AS hours, count(*) AS n
           FROM bookings b WHERE b.room_id = %s AND b.status = ANY(%s)
             AND CASE WHEN %s::uuid IS NULL THEN b.member_id = %s AND b.club_id IS NULL ELSE b.club_id = %s END
             AND b.starts_at >= %s AND b.starts_at < %s GROUP BY 1""",
        (room_id, LIVE, club_id, member_id, club_id, first, last)).fetchall()
    return {r["week"]: (float(r["hours"]), r["n"]) for r in rows}


def recent_strikes(conn, holder, since):
    return conn.execute("SELECT count(*) AS n FROM strikes WHERE holder_service = %s AND holder_reference = %s"
                        " AND created_at >= %s", (holder[0], holder[1], since)).fetchone()["n"]


def now(conn):
    return conn.execute("SELECT now() AS now").fetchone()["now"]


def due_for_release(conn, limit=200):
    """Members' bookings in rooms with a check-in window that nobody checked in to in time."""
    return conn.execute(
        f"""SELECT {BOOKING_COLUMNS} FROM {BOOKING_FROM}
            WHERE b.status = 'confirmed' AND b.holder_service = 'members' AND r.checkin_minutes IS NOT NULL
              AND b.starts_at > now() - interval '2 days'
              AND b.starts_at + make_interval(mins => r.checkin_minutes) < now()
            ORDER BY b.starts_at LIMIT %s FOR UPDATE OF b SKIP LOCKED""", (limit,)).fetchall()


def add_strike(conn, booking):
    """A strike against the booking's holder; none against a closed account (a club's booking it
    held stays the club's, and its erasure is not undone by a no-show after it)."""
    conn.execute("INSERT INTO strikes (booking_id, holder_service, holder_reference, series_id)"
                 " SELECT %(b)s, %(s)s, %(r)s, %(x)s WHERE NOT (%(s)s = 'members' AND EXISTS"
                 " (SELECT 1 FROM closed_members WHERE member_id::text = %(r)s)) ON CONFLICT DO NOTHING",
                 {"b": booking["id"], "s": booking["holder_service"], "r": booking["holder_reference"],
                  "x": booking["series_id"]})


# closures

def add_closure(conn, data, site_id, created_by):
    return conn.execute(
        "INSERT INTO closures (site_id, room_id, during, reason, created_by) VALUES (%s, %s, tstzrange(%s, %s), %s, %s)"
        " RETURNING id", (site_id, data.get("room_id"), data["starts_at"], data["ends_at"], data["reason"],
                          created_by)).fetchone()["id"]


CLOSURE_COLUMNS = "c.id, c.site_id, c.room_id, lower(c.during) AS starts_at, upper(c.during) AS ends_at, c.reason"


def list_closures(conn, site_id, room_ids, starts_from, starts_before, limit, offset):
    """Closures of a site (room_ids None; every site's with site_id None too), or those that close any of
    room_ids (the site's own among them), reaching into [starts_from, starts_before) where given, earliest first."""
    return conn.execute(
        f"""SELECT {CLOSURE_COLUMNS}, count(*) OVER () AS total FROM closures c
            WHERE (%(site)s::uuid IS NULL OR c.site_id = %(site)s) AND (%(rooms)s::uuid[] IS NULL OR c.room_id IS NULL OR c.room_id = ANY(%(rooms)s))
              AND c.during && tstzrange(%(s)s, %(e)s)
            ORDER BY lower(c.during), c.id LIMIT %(limit)s OFFSET %(offset)s""",
        {"site": site_id, "rooms": room_ids, "s": starts_from, "e": starts_before, "limit": limit,
         "offset": offset}).fetchall()


def closure_for_update(conn, closure_id):
    row = conn.execute(f"SELECT {CLOSURE_COLUMNS} FROM closures c WHERE c.id = %s FOR UPDATE", (closure_id,)).fetchone()
    if row is None:
        raise NotFound(f"closure {closure_id} does not exist", "closure-not-found")
    return row


def update_closure(conn, closure_id, starts_at, ends_at, reason):
    conn.execute("UPDATE closures SET during = tstzrange(%s, %s), reason = %s WHERE id = %s",
                 (starts_at, ends_at, reason, closure_id))


def delete_closure(conn, closure_id):
    row = conn.execute(f"DELETE FROM closures c WHERE c.id = %s RETURNING {CLOSURE_COLUMNS}", (closure_id,)).fetchone()
    if row is None:
        raise NotFound(f"closure {closure_id} does not exist", "closure-not-found")
    return row


def bookings_in_closure(conn, site_id, room_ids, starts_at, ends_at):
    return conn.execute(
        f"""SELECT {BOOKING_COLUMNS} FROM {BOOKING_FROM} WHERE b.site_id = %s AND b.status = ANY(%s)
              AND (%s::uuid[] IS NULL OR b.room_id = ANY(%s)) AND b.starts_at < %s AND b.ends_at > %s
            ORDER BY b.starts_at FOR UPDATE OF b""",
        (site_id, LIVE, room_ids, room_ids, ends_at, starts_at)).fetchall()


# availability

def available_rooms(conn, q, roles, manager):
    """Rooms with the capacity and features asked, at the site or in the district asked, open at
    that time and free of bookings (their buffers included) and closures, every week asked."""
    start, end = domain.local(q["starts_at"]), domain.local(q["ends_at"])
    weekday = domain.WEEKDAYS[start.isoweekday() - 1]
    same_day = end.date() == start.date()
    return conn.execute(
        f"""WITH wanted AS (
                SELECT %(s)s::timestamptz + k * interval '7 days' AS s, %(e)s::timestamptz + k * interval '7 days' AS e
                FROM generate_series(0, %(weeks)s - 1) AS k)
            SELECT {ROOM_COLUMNS}, count(*) OVER () AS total FROM rooms r JOIN sites s ON s.id = r.site_id
            WHERE r.capacity >= %(capacity)s AND r.features @> %(features)s::text[]
              AND (%(site)s::uuid IS NULL OR r.site_id = %(site)s)
              AND (%(district)s::text IS NULL OR s.district = %(district)s)
              AND (%(manager)s OR r.bookable_by && %(roles)s::text[])
              AND (r.opening_hours IS NULL OR (%(same_day)s
                   AND (r.opening_hours -> %(wd)s ->> 0)::time <= %(t0)s::time
                   AND ((r.opening_hours -> %(wd)s ->> 1)::time >= %(t1)s::time
                        OR (r.opening_hours -> %(wd)s ->> 1)::time < (r.opening_hours -> %(wd)s ->> 0)::time)))
              AND NOT EXISTS (  -- a btree walk: a claim lasts under two days (24 h and the buffer)
                SELECT 1 FROM wanted w JOIN booking_claims c ON c.room_id = r.id
                 AND lower(c.blocked) < w.e + make_interval(mins => r.buffer_minutes)
                 AND lower(c.blocked) > w.s - interval '2 days' AND upper(c.blocked) > w.s)
              AND NOT EXISTS (
                SELECT 1 FROM wanted w JOIN closures c ON c.site_id = r.site_id AND c.during && tstzrange(w.s, w.e)
                 AND (c.room_id IS NULL OR c.room_id = r.id OR c.room_id = r.parent_id
                      OR c.room_id IN (SELECT p.id FROM rooms p WHERE p.parent_id = r.id)))
            ORDER BY r.capacity, r.id LIMIT %(limit)s OFFSET %(offset)s""",
        {"s": q["starts_at"], "e": q["ends_at"], "weeks": q["weeks"], "capacity": q["capacity"],
         "features": q["features"], "site": q.get("site_id"), "district": q.get("district"), "manager": manager,
         "roles": list(roles), "same_day": same_day, "wd": weekday, "t0": start.time(), "t1": end.time(),
         "limit": q["limit"], "offset": q["offset"]},
        # never a prepared statement: its generic plan cannot see the capacity, features and place
        # asked, and walks every room (300 ms) where the custom plan stops at the page (2 ms)
        prepare=False).fetchall()


# feeds and figures

def room_feed(conn, room_id, since):
    return conn.execute(
        f"SELECT {BOOKING_COLUMNS} FROM {BOOKING_FROM} WHERE b.room_id = %s AND b.status = ANY(%s)"
        " AND b.ends_at >= %s ORDER BY b.starts_at LIMIT 5000", (room_id, LIVE, since)).fetchall()


def holder_feed(conn, holder, since):
    return conn.execute(
        f"SELECT {BOOKING_COLUMNS} FROM {BOOKING_FROM} WHERE b.holder_service = %s AND b.holder_reference = %s"
        " AND b.status = ANY(%s) AND b.ends_at >= %s ORDER BY b.starts_at LIMIT 5000",
        (holder[0], holder[1], LIVE, since)).fetchall()


def member_feed(conn, member_id, since):
    return conn.execute(
        f"SELECT {BOOKING_COLUMNS} FROM {BOOKING_FROM} WHERE {MEMBER_BOOKINGS}"
        " AND b.status = ANY(%(live)s) AND b.ends_at >= %(since)s ORDER BY b.starts_at LIMIT 5000",
        {"member": member_id, "live": LIVE, "since": since}).fetchall()


def set_feed_token(conn, holder, digest):
    """The holder's one feed token (its digest), replacing the one before."""
    return conn.execute(
        "INSERT INTO calendar_feeds (holder_service, holder_reference, token_sha256) VALUES (%s, %s, %s)"
        " ON CONFLICT (holder_service, holder_reference) DO UPDATE SET token_sha256 = excluded.token_sha256,"
        " created_at = now() RETURNING created_at", (holder[0], holder[1], digest)).fetchone()["created_at"]


def feed_holder(conn, digest):
    row = conn.execute("SELECT holder_service, holder_reference FROM calendar_feeds WHERE token_sha256 = %s",
                       (digest,)).fetchone()
    if row is None:
        raise NotFound("no such calendar feed", "feed-not-found")
    return row["holder_service"], row["holder_reference"]


def drop_feed_token(conn, holder):
    """The holder's feed switched off: its address then matches no row, like one never given."""
    conn.execute("DELETE FROM calendar_feeds WHERE holder_service = %s AND holder_reference = %s", holder)


def feed_of(conn, holder):
    return conn.execute("SELECT created_at FROM calendar_feeds WHERE holder_service = %s AND holder_reference = %s",
                        holder).fetchone()


def stats(conn):
    row = conn.execute(
        """SELECT (SELECT count(*) FROM sites) AS sites, (SELECT count(*) FROM rooms) AS rooms,
                  count(*) AS bookings,
                  count(*) FILTER (WHERE status = 'pending') AS bookings_pending,
                  count(*) FILTER (WHERE status IN ('confirmed', 'checked_in')) AS bookings_confirmed,
                  count(*) FILTER (WHERE status = 'checked_in') AS bookings_checked_in,
                  count(*) FILTER (WHERE status = 'cancelled') AS bookings_cancelled,
                  count(*) FILTER (WHERE status = 'rejected') AS bookings_rejected,
                  count(*) FILTER (WHERE status = 'released') AS bookings_released,
                  (SELECT count(*) FROM strikes) AS no_shows,
                  (SELECT count(*) FROM series) AS series,
                  coalesce(sum(extract(epoch FROM least(ends_at, now()) - greatest(starts_at, now() - interval '28 days')))
                      FILTER (WHERE status IN ('confirmed', 'checked_in') AND ends_at > now() - interval '28 days'
                              AND starts_at < now()), 0) / 3600.0 AS booked_hours_28d
           FROM bookings""").fetchone()
    stats = {k: (float(v) if k == "booked_hours_28d" else int(v)) for k, v in row.items()}
    # utilisation: booked hours over the hours the rooms stood open
    window = conn.execute("SELECT now() - interval '28 days' AS s, now() AS e").fetchone()
    open_hours = sum(open_hours_by_room(conn, window["s"], window["e"]).values())
    stats["utilisation_28d"] = round(stats["booked_hours_28d"] / open_hours, 4) if open_hours else 0.0
    stats["booked_hours_28d"] = round(stats["booked_hours_28d"], 2)
    return stats


def open_hours_by_room(conn, start, end, site_id=None):
    """{room id: hours it stood open in [start, end)}: its opening hours per home-zone weekday (a
    make-up working day opens as the weekday it stands for; no hours set: all day), less the closures
    of the room, of the whole or the parts it belongs with, or of its site."""
    # the planner guesses a thousand days a room and compiles the query: 1.3 of its 1.7 s on 3,200 rooms
    conn.execute("SET LOCAL jit = off")
    rows = conn.execute(
        f"""WITH hours AS (  -- each room's hours per weekday (1 = Monday), read from its JSON once
                SELECT r.id AS room_id, r.site_id, r.parent_id, n AS weekday, r.opening_hours IS NULL AS always,
                       (r.opening_hours -> (ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[n] ->> 0)::time AS opens,
                       (r.opening_hours -> (ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[n] ->> 1)::time AS closes
                FROM rooms r CROSS JOIN generate_series(1, 7) AS n
                WHERE %(site)s::uuid IS NULL OR r.site_id = %(site)s),
            days AS (
                SELECT h.room_id, h.site_id, h.parent_id, g.day::date AS day, h.always,
                       g.day::date + h.opens AS opens, g.day::date + h.closes AS closes
                FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS g(day)
                LEFT JOIN calendar_days k ON k.day = g.day::date AND k.kind = 'workday'
                JOIN hours h ON h.weekday = coalesce(k.as_weekday, extract(isodow FROM g.day)::int)
                WHERE h.always OR (h.opens IS NOT NULL AND h.closes IS NOT NULL)),
            spans AS (  -- one a day; a day's span ends before the next one's starts, so they add up
                SELECT room_id, site_id, parent_id,
                       greatest(CASE WHEN always THEN day::timestamp ELSE opens END AT TIME ZONE '{HOME_ZONE_NAME}',
                                %(s)s) AS s,
                       least(CASE WHEN always THEN (day + 1)::timestamp WHEN closes > opens THEN closes
                                  ELSE closes + interval '1 day' END AT TIME ZONE '{HOME_ZONE_NAME}', %(e)s) AS e
                FROM days),
            shut AS (SELECT site_id, room_id, during FROM closures WHERE during && tstzrange(%(s)s, %(e)s)),
            hit AS (  -- each span some closure reaches, and all the closures reaching it
                SELECT sp.room_id, tstzrange(sp.s, sp.e) AS span, range_agg(c.during) AS closed
                FROM spans sp JOIN shut c ON c.site_id = sp.site_id AND c.during && tstzrange(sp.s, sp.e)
                 AND (c.room_id IS NULL OR c.room_id = sp.room_id OR c.room_id = sp.parent_id
                      OR c.room_id IN (SELECT p.id FROM rooms p WHERE p.parent_id = sp.room_id))
                WHERE sp.s < sp.e GROUP BY sp.room_id, sp.s, sp.e),
            lost AS (  -- what the closures took of those spans (closures may overlap each other)
                SELECT room_id, sum((SELECT sum(extract(epoch FROM upper(x) - lower(x)))
                                     FROM unnest(tstzmultirange(span) * closed) x)) AS seconds
                FROM hit GROUP BY room_id)
           SELECT o.room_id, (o.seconds - coalesce(l.seconds, 0)) / 3600.0 AS hours
           FROM (SELECT room_id, sum(extract(epoch FROM e - s)) AS seconds FROM spans WHERE s < e GROUP BY room_id) o
           LEFT JOIN lost l USING (room_id)""",
        {"s": start, "e": end, "first": domain.local(start).date() - timedelta(days=1),
         "last": domain.local(end).date(), "site": site_id}).fetchall()
    return {r["room_id"]: float(r["hours"]) for r in rows}


def utilisation(conn, start, end, site_id=None):
    """Booked hours, bookings and no-shows per room over [start, end)."""
    return conn.execute(
        """SELECT r.id AS room_id, r.name AS room_name, r.site_id, s.name AS site_name,
                  -- least and greatest skip NULLs: a room with no booking would count the whole period
                  coalesce(sum(extract(epoch FROM least(b.ends_at, %(e)s) - greatest(b.starts_at, %(s)s)))
                           FILTER (WHERE b.id IS NOT NULL), 0) / 3600.0 AS booked_hours,
                  count(b.id) AS bookings,
                  (SELECT count(*) FROM strikes k JOIN bookings x ON x.id = k.booking_id WHERE x.room_id = r.id) AS no_shows
           FROM rooms r JOIN sites s ON s.id = r.site_id
           LEFT JOIN bookings b ON b.room_id = r.id AND b.status IN ('confirmed', 'checked_in')
                AND b.ends_at > %(s)s AND b.starts_at < %(e)s
           WHERE (%(site)s::uuid IS NULL OR r.site_id = %(site)s)
           GROUP BY r.id, s.name ORDER BY s.name, r.name LIMIT 1000""", {"s": start, "e": end, "site": site_id}).fetchall()


# the yearly report (GET /v1/reports/summary)

# what each breakdown groups rooms' figures by; bookings do not record a unit, category or programme
REPORT_KEYS = {"site": "st.id", "district": "st.district"}
LIVE_BOOKED = "('confirmed', 'checked_in')"


def _report_key(by, when):
    return reports.month_of(when) if by == "month" else REPORT_KEYS.get(by)


def report_bookings(conn, start, end, by):
    """Bookings held (confirmed or checked in) that start in [start, end), and their hours within it."""
    head, group = reports.grouping(_report_key(by, "b.starts_at"))
    return conn.execute(
        f"""SELECT {head}, count(*) AS bookings,
                   coalesce(sum(extract(epoch FROM least(b.ends_at, %(e)s) - b.starts_at)), 0) / 3600.0 AS booked_hours
            FROM bookings b JOIN sites st ON st.id = b.site_id
            WHERE b.starts_at >= %(s)s AND b.starts_at < %(e)s AND b.status IN {LIVE_BOOKED}
            {group}""", {"s": start, "e": end}).fetchall()


def report_open_hours(conn, first, last, by):
    """The hours the rooms stood open over the days first..last (home zone): each room's opening hours
    per weekday times the number of such days (a make-up working day opens as the weekday it stands
    for; no hours set: all day). Summed per site and weekday before the days are counted, so a year of
    3,200 rooms is 2,800 rows, not a million. What closures took is report_closed_hours'."""
    key = "d.month" if by == "month" else REPORT_KEYS.get(by)
    head, group = reports.grouping(key)
    return conn.execute(
        f"""WITH days AS (
                SELECT CASE WHEN %(monthly)s THEN to_char(g.day, 'YYYY-MM') END AS month,
                       coalesce(k.as_weekday, extract(isodow FROM g.day)::int) AS weekday, count(*) AS n
                FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS g(day)
                LEFT JOIN calendar_days k ON k.day = g.day::date AND k.kind = 'workday'
                GROUP BY 1, 2),
            hours AS (  -- each room's open seconds per weekday (1 = Monday)
                SELECT r.site_id, n AS weekday, r.opening_hours IS NULL AS always,
                       (r.opening_hours -> (ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[n] ->> 0)::time AS opens,
                       (r.opening_hours -> (ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[n] ->> 1)::time AS closes
                FROM rooms r CROSS JOIN generate_series(1, 7) AS n),
            per_site AS (
                SELECT site_id, weekday,
                       sum(CASE WHEN always THEN 86400 WHEN closes > opens THEN extract(epoch FROM closes - opens)
                                ELSE 86400 - extract(epoch FROM opens - closes) END) AS seconds
                FROM hours WHERE always OR (opens IS NOT NULL AND closes IS NOT NULL)
                GROUP BY site_id, weekday)
            SELECT {head}, coalesce(sum(d.n * p.seconds), 0) / 3600.0 AS open_hours
            FROM per_site p JOIN days d ON d.weekday = p.weekday JOIN sites st ON st.id = p.site_id
            {group}""", {"first": first, "last": last, "monthly": by == "month"}).fetchall()


def report_site_names(conn):
    return {str(r["id"]): r["name"] for r in conn.execute("SELECT id, name FROM sites").fetchall()}


def report_closed_hours(conn, start, end, by):
    """The open hours that closures took in [start, end): the rooms' opening spans (as
    open_hours_by_room reads them) on the days some closure of their site reaches, less nothing
    else. Only those days are expanded, so a year costs what its closures touch."""
    key = "l.month" if by == "month" else REPORT_KEYS.get(by)
    head, group = reports.grouping(key)
    return conn.execute(
        f"""WITH shut AS (
                SELECT site_id, room_id, during * tstzrange(%(s)s, %(e)s) AS during FROM closures
                WHERE during && tstzrange(%(s)s, %(e)s)),
            touched AS (  -- the home-zone days a closure reaches (and the day before: a span past midnight)
                SELECT DISTINCT c.site_id, g.day::date AS day FROM shut c,
                       generate_series((lower(c.during) AT TIME ZONE '{HOME_ZONE_NAME}')::date - 1,
                                       (upper(c.during) AT TIME ZONE '{HOME_ZONE_NAME}')::date, interval '1 day') g(day)),
            hours AS (
                SELECT r.id AS room_id, r.site_id, r.parent_id, n AS weekday, r.opening_hours IS NULL AS always,
                       (r.opening_hours -> (ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[n] ->> 0)::time AS opens,
                       (r.opening_hours -> (ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[n] ->> 1)::time AS closes
                FROM rooms r CROSS JOIN generate_series(1, 7) AS n
                WHERE r.site_id IN (SELECT site_id FROM shut)),
            days AS (
                SELECT h.room_id, h.site_id, h.parent_id, t.day, h.always, t.day + h.opens AS opens, t.day + h.closes AS closes
                FROM touched t LEFT JOIN calendar_days k ON k.day = t.day AND k.kind = 'workday'
                JOIN hours h ON h.site_id = t.site_id
                 AND h.weekday = coalesce(k.as_weekday, extract(isodow FROM t.day)::int)
                WHERE h.always OR (h.opens IS NOT NULL AND h.closes IS NOT NULL)),
            spans AS (
                SELECT room_id, site_id, parent_id, day,
                       greatest(CASE WHEN always THEN day::timestamp ELSE opens END AT TIME ZONE '{HOME_ZONE_NAME}',
                                %(s)s) AS s,
                       least(CASE WHEN always THEN (day + 1)::timestamp WHEN closes > opens THEN closes
                                  ELSE closes + interval '1 day' END AT TIME ZONE '{HOME_ZONE_NAME}', %(e)s) AS e
                FROM days),
            hit AS (  -- each span some closure reaches, and all the closures reaching it
                SELECT sp.room_id, sp.day, tstzrange(sp.s, sp.e) AS span, range_agg(c.during) AS closed
                FROM spans sp JOIN shut c ON c.site_id = sp.site_id AND c.during && tstzrange(sp.s, sp.e)
                 AND (c.room_id IS NULL OR c.room_id = sp.room_id OR c.room_id = sp.parent_id
                      OR c.room_id IN (SELECT p.id FROM rooms p WHERE p.parent_id = sp.room_id))
                WHERE sp.s < sp.e GROUP BY sp.room_id, sp.day, sp.s, sp.e),
            l AS (
                SELECT h.room_id, r.site_id, CASE WHEN %(monthly)s THEN to_char(h.day, 'YYYY-MM') END AS month,
                       (SELECT sum(extract(epoch FROM upper(x) - lower(x))) FROM unnest(tstzmultirange(h.span) * h.closed) x)
                           AS seconds
                FROM hit h JOIN rooms r ON r.id = h.room_id)
            SELECT {head}, coalesce(sum(l.seconds), 0) / 3600.0 AS closed_hours
            FROM l JOIN sites st ON st.id = l.site_id
            {group}""", {"s": start, "e": end, "monthly": by == "month"}).fetchall()


# closed accounts (gateway.account_closed)

CLOSED_TITLE = "Booking of a closed account"


def erase_member(conn, holder):
    """What is about the person goes from a member holder's bookings: the titles they wrote, their
    own cancellation notes and when they checked in; their calendar feed and no-show strikes too.
    The bookings stay (the room was taken, checked in or not: the usage figures), naming no one.
    Those they made for a club they led are the club's: its titles ("Choir rehearsal") and when it
    met stay; only their own notes go."""
    member = {"s": holder[0], "r": holder[1], "t": CLOSED_TITLE}
    for sql in ("UPDATE bookings SET title = CASE WHEN club_id IS NULL THEN %(t)s ELSE title END,"
                " checked_in_at = CASE WHEN club_id IS NULL THEN NULL ELSE checked_in_at END,"
                " reason = CASE WHEN decided_by::text = %(r)s THEN NULL ELSE reason END"
                " WHERE holder_service = %(s)s AND holder_reference = %(r)s",
                "UPDATE series x SET title = %(t)s WHERE holder_service = %(s)s AND holder_reference = %(r)s"
                " AND NOT EXISTS (SELECT 1 FROM bookings c WHERE c.series_id = x.id AND c.club_id IS NOT NULL)",
                "DELETE FROM calendar_feeds WHERE holder_service = %(s)s AND holder_reference = %(r)s",
                "DELETE FROM strikes WHERE holder_service = %(s)s AND holder_reference = %(r)s"):
        conn.execute(sql, member)
