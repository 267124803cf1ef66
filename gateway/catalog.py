"""The course catalog read model: kept up to date from the enrolment events by the gateway's feed,
read by the gateway's routes, so a refresh storm during a class launch never reaches enrolment.

Each gateway process also keeps the answers it built for CACHE_SECONDS: during a rush the same
few pages are asked thousands of times a second, and seats left a quarter of a second old is
what any read model gives anyway."""
import threading
import time

from psycopg.types.json import Jsonb

from services.common import config
from services.common.db import like_literal
from services.enrolment import domain

CACHE_SECONDS = float(config.env("PALACE_CATALOG_CACHE_SECONDS"))
CACHE_ENTRIES = 4096

# -- writing (the feed) --


def put_course(conn, course_id, course):
    """Store the course as its own event describes it, unless a newer description is stored."""
    version = int(course.get("version") or 0)
    conn.execute(
        "INSERT INTO catalog_courses AS c (id, doc, doc_version, version, seats_left, waitlist_length)"
        " VALUES (%(id)s, %(doc)s, %(v)s, %(v)s, %(seats)s, %(waiting)s)"
        " ON CONFLICT (id) DO UPDATE SET"
        "  doc = CASE WHEN excluded.doc_version >= c.doc_version THEN excluded.doc ELSE c.doc END,"
        "  doc_version = greatest(c.doc_version, excluded.doc_version),"
        "  seats_left = CASE WHEN excluded.version > c.version THEN excluded.seats_left ELSE c.seats_left END,"
        "  waitlist_length = CASE WHEN excluded.version > c.version"
        "                    THEN excluded.waitlist_length ELSE c.waitlist_length END,"
        "  version = greatest(c.version, excluded.version), updated_at = now()",
        {"id": course_id, "doc": Jsonb(course), "v": version, "seats": course.get("seats_left"),
         "waiting": course.get("waitlist_length")})


def put_counts_many(conn, changes):
    """Seats and waitlists after enrolment changes (dicts with course_id, course_version, seats_left,
    waitlist_length): the newest change of each course is stored, one arriving late is ignored."""
    newest = {}
    for change in changes:
        known = newest.get(change["course_id"])
        if known is None or change["course_version"] > known["course_version"]:
            newest[change["course_id"]] = change
    if not newest:
        return
    rows = list(newest.values())
    conn.execute(
        "INSERT INTO catalog_courses AS c (id, version, seats_left, waitlist_length)"
        " SELECT * FROM unnest(%s::uuid[], %s::int[], %s::int[], %s::int[])"
        " ON CONFLICT (id) DO UPDATE SET version = excluded.version, seats_left = excluded.seats_left,"
        "  waitlist_length = excluded.waitlist_length, updated_at = now()"
        " WHERE excluded.version > c.version",
        ([r["course_id"] for r in rows], [r["course_version"] for r in rows],
         [r.get("seats_left") for r in rows], [r.get("waitlist_length") for r in rows]))


# -- reading (the routes) --

# The public catalog's filters, search and order as enrolment defines them (services/enrolment/
# domain.py), over the stored descriptions; tests/integration/test_catalog_contract.py holds this
# to store.list_courses. Drafts never reach the read model (only published courses are told).
_SEARCHED = " OR ".join(f"doc ->> '{name}' ILIKE %(q)s" for name in domain.CATALOG_SEARCHES)
_LIST = ("SELECT {doc} FROM catalog_courses WHERE doc IS NOT NULL"
         " AND (%(category)s::text IS NULL OR doc ->> 'category' = %(category)s)"
         " AND (%(site_id)s::text IS NULL OR doc ->> 'site_id' = %(site_id)s)"
         " AND (NOT %(open_seats)s OR (seats_left > 0 AND doc ->> 'state' = 'published'))"
         f" AND (%(q)s::text IS NULL OR {_SEARCHED})"
         " ORDER BY (doc ->> 'created_at')::timestamptz DESC, id LIMIT %(limit)s OFFSET %(offset)s")
# the stored description with the latest counts laid over it, and its teachers' names from the accounts
_DOC = ("doc || jsonb_strip_nulls(jsonb_build_object('seats_left', seats_left,"
        " 'waitlist_length', waitlist_length, 'version', version))"
        " || jsonb_build_object('teachers', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'name', a.name)"
        "  ORDER BY t.n), '[]') FROM jsonb_array_elements_text(coalesce(doc -> 'teacher_ids', '[]'))"
        "  WITH ORDINALITY t(id, n) JOIN accounts a ON a.id = t.id::uuid))")
# the filters the read model answers; any other query goes to the enrolment service
FILTERS = domain.CATALOG_FILTERS


class Catalog:
    def __init__(self, db):
        self.db = db
        self._cache = {}
        self._lock = threading.Lock()

    def course(self, course_id):
        """The course's JSON text, or None when the read model does not know it (yet)."""
        return self._cached(("course", course_id), lambda conn: self._one(conn, course_id))

    def courses(self, filters, limit, offset):
        """A page of the catalog: its JSON text, how many courses it holds, and how many match in all
        (None for a page past the end)."""
        key = ("list", tuple(sorted(filters.items())), limit, offset)
        return self._cached(key, lambda conn: self._many(conn, filters, limit, offset))

    def summaries(self, course_ids):
        """Title, site, room, state and sessions of the courses the read model knows, by id (text),
        in one query; a member's own view, so not cached."""
        if not course_ids:
            return {}
        with self.db.autocommit() as conn:
            rows = conn.execute(
                "SELECT id::text AS id, doc ->> 'title' AS title, doc ->> 'site_id' AS site_id,"
                " doc ->> 'room_id' AS room_id, doc ->> 'state' AS state, doc -> 'sessions' AS sessions"
                " FROM catalog_courses WHERE id = ANY(%s::uuid[]) AND doc IS NOT NULL", (sorted(course_ids),)).fetchall()
        return {r["id"]: r for r in rows}

    def _one(self, conn, course_id):
        row = conn.execute(f"SELECT ({_DOC})::text AS doc FROM catalog_courses WHERE id = %s AND doc IS NOT NULL",
                           (course_id,)).fetchone()
        return row["doc"] if row else None

    def _many(self, conn, filters, limit, offset):
        params = {"category": None, "site_id": None, "open_seats": False, **filters,
                  "q": "%" + like_literal(filters["q"]) + "%" if filters.get("q") is not None else None,
                  "limit": limit, "offset": offset}
        sql = (f"SELECT coalesce(json_agg(d), '[]')::text AS docs, count(*) AS n, max(total) AS total"
               f" FROM ({_LIST.format(doc=_DOC + ' AS d, count(*) OVER () AS total')}) page")
        row = conn.execute(sql, params).fetchone()
        return row["docs"], row["n"], row["total"]

    def _cached(self, key, build):
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        with self.db.autocommit() as conn:
            text = build(conn)
        with self._lock:
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
            self._cache[key] = (now, text)
        return text

