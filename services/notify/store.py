"""SQL of the notify database."""
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb

from services.common import closed_accounts, reports
from services.common.errors import Invalid, NotFound
from services.common.retention import Rule

ENTRY_COLUMNS = "id, event_type, title, body, created_at, read_at"
DELIVERY_COLUMNS = ("id, member_id, event_id, event_type, category, urgent, channel, address, language, title, body,"
                    " rendered, route, state, attempts, next_attempt_at, last_error, failover_of, event_at,"
                    " created_at, finished_at")

# finished deliveries (their message and address) go after PALACE_RETAIN_DELIVERIES_DAYS; one that a
# failover points at waits until that later one has gone (the same sweep, a batch later)
FINISHED_DELIVERIES = Rule("deliveries", "finished_at", "PALACE_RETAIN_DELIVERIES_DAYS",
                           "state IN ('sent', 'failed', 'skipped')"
                           " AND NOT EXISTS (SELECT 1 FROM deliveries f WHERE f.failover_of = deliveries.id)")


# inbox


def add_inbox_entries(conn, entries):
    """Many inbox entries in one statement: (member_id, event_id, event_type, title, body, event_at)."""
    if not entries:
        return
    columns = list(zip(*sorted(entries, key=lambda e: (e[0], e[1]))))
    conn.execute(
        "INSERT INTO inbox (member_id, event_id, event_type, title, body, event_at)"
        " SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::text[], %s::timestamptz[])"
        " ON CONFLICT (member_id, event_id) DO NOTHING",
        [list(c) for c in columns])


def inbox(conn, member_id, limit, offset, unread_only=False, read_only=False):
    return conn.execute(
        f"SELECT {ENTRY_COLUMNS}, count(*) OVER () AS total FROM inbox WHERE member_id = %s AND (NOT %s OR read_at IS NULL)"
        " AND (NOT %s OR read_at IS NOT NULL)"
        " ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
        (member_id, unread_only, read_only, limit, offset),
    ).fetchall()


def mark_read(conn, member_id, entry_id):
    row = conn.execute(
        f"UPDATE inbox SET read_at = coalesce(read_at, now()) WHERE id = %s AND member_id = %s"
        f" RETURNING {ENTRY_COLUMNS}",
        (entry_id, member_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"notification {entry_id} does not exist", "notification-not-found")
    return row


# contacts and preferences


def people(conn, member_ids):
    """{member_id: {settings, phone, email, wechat_openid}} for the members that have any."""
    rows = conn.execute(
        "SELECT m.id::text AS member_id, p.settings, c.phone, c.email, c.wechat_openid"
        " FROM unnest(%s::uuid[]) AS m(id) LEFT JOIN preferences p ON p.member_id = m.id"
        " LEFT JOIN contacts c ON c.member_id = m.id", (list(member_ids),)).fetchall()
    return {r["member_id"]: r for r in rows}


def contacts(conn, member_id):
    return conn.execute("SELECT phone, email, wechat_openid FROM contacts WHERE member_id = %s",
                        (member_id,)).fetchone() or {"phone": None, "email": None, "wechat_openid": None}


def put_contacts(conn, member_id, phone, email, wechat_openid):
    try:
        with conn.transaction():
            return _put_contacts(conn, member_id, phone, email, wechat_openid)
    except pg_errors.CheckViolation as exc:  # the schema checks first; this is the last line
        field = next((f for f in ("phone", "email", "wechat_openid") if f in str(exc)), "_schema")
        raise Invalid("a contact PostgreSQL cannot keep", errors={field: ["is not a valid address"]}) from exc


def _put_contacts(conn, member_id, phone, email, wechat_openid):
    return conn.execute(
        "INSERT INTO contacts (member_id, phone, email, wechat_openid) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (member_id) DO UPDATE SET phone = excluded.phone, email = excluded.email,"
        " wechat_openid = excluded.wechat_openid, updated_at = now()"
        " RETURNING phone, email, wechat_openid",
        (member_id, phone, email, wechat_openid),
    ).fetchone()


def keep_wechat(conn, member_id):
    """The openid the member bound through WeChat, which the contacts API does not change."""
    row = conn.execute("SELECT wechat_openid FROM contacts WHERE member_id = %s", (member_id,)).fetchone()
    return row["wechat_openid"] if row else None


def bind_wechat(conn, member_id, openid):
    try:
        with conn.transaction():
            return conn.execute(
                "INSERT INTO contacts (member_id, wechat_openid) VALUES (%s, %s) ON CONFLICT (member_id)"
                " DO UPDATE SET wechat_openid = excluded.wechat_openid, updated_at = now()"
                " RETURNING phone, email, wechat_openid", (member_id, openid)).fetchone()
    except pg_errors.CheckViolation as exc:
        raise Invalid("WeChat gave an openid PostgreSQL cannot keep", errors={"openid": ["too long"]}) from exc


def add_wechat_state(conn, digest, member_id, seconds):
    """A binding started; the lapsed ones of everyone go at the same time (there are few)."""
    conn.execute("DELETE FROM wechat_states WHERE expires_at < now()")
    conn.execute("INSERT INTO wechat_states (digest, member_id, expires_at)"
                 " VALUES (%s, %s, now() + make_interval(secs => %s))", (digest, member_id, seconds))


def take_wechat_state(conn, digest):
    """The member who started this binding, once: the state is gone after (lapsed: None)."""
    row = conn.execute("DELETE FROM wechat_states WHERE digest = %s RETURNING member_id::text,"
                       " expires_at > now() AS alive", (digest,)).fetchone()
    return row["member_id"] if row and row["alive"] else None


def set_phone(conn, member_id, phone):
    """The member's SMS contact is this phone now (what else they set stays)."""
    _put_phone(conn, member_id, phone, "excluded.phone, updated_at = now()")


def seed_contacts(conn, member_id, phone):
    """The member's first phone, unless they set one before this came; a WeChat binding or an email
    set first (the event is asynchronous) does not keep the phone out."""
    _put_phone(conn, member_id, phone, "coalesce(contacts.phone, excluded.phone)")


def _put_phone(conn, member_id, phone, kept):
    """The member's contacts row with `kept` (an expression of a constant's making) as its phone."""
    try:
        with conn.transaction():
            conn.execute("INSERT INTO contacts (member_id, phone) VALUES (%s, %s) ON CONFLICT (member_id)"
                         f" DO UPDATE SET phone = {kept}", (member_id, phone))
    except pg_errors.CheckViolation as exc:
        raise Invalid("a phone PostgreSQL cannot keep", errors={"phone": ["is not a valid phone"]}) from exc


def seed_preferences(conn, member_id, settings):
    """The member's first preferences, unless they have chosen some already."""
    conn.execute("INSERT INTO preferences (member_id, settings) VALUES (%s, %s) ON CONFLICT (member_id) DO NOTHING",
                 (member_id, Jsonb(settings)))


def preferences(conn, member_id):
    row = conn.execute("SELECT settings FROM preferences WHERE member_id = %s", (member_id,)).fetchone()
    return row["settings"] if row else None


def put_preferences(conn, member_id, settings):
    conn.execute(
        "INSERT INTO preferences (member_id, settings) VALUES (%s, %s)"
        " ON CONFLICT (member_id) DO UPDATE SET settings = excluded.settings, updated_at = now()",
        (member_id, Jsonb(settings)),
    )


# deliveries


def erase_member(conn, member_id):
    """Forget a closed account's person, and remember that it is closed (see fanout._closed)."""
    closed_accounts.remember(conn, member_id)
    for sql in ("DELETE FROM contacts WHERE member_id = %(m)s", "DELETE FROM preferences WHERE member_id = %(m)s",
                "DELETE FROM inbox WHERE member_id = %(m)s", "DELETE FROM reminders WHERE member_id = %(m)s",
                "UPDATE deliveries SET address = '', title = '', body = '', rendered = '{}', route = '[]',"
                " state = CASE WHEN state IN ('held', 'pending') THEN 'skipped' ELSE state END WHERE member_id = %(m)s"):
        conn.execute(sql, {"m": member_id})


def lock_member(conn, member_id):
    """Serialise the deliveries of one member (the daily cap is counted under this lock)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 6))", (str(member_id),))


def lock_members(conn, member_ids):
    """lock_member for many, in one order (two groups that share members cannot deadlock)."""
    conn.execute("SELECT count(pg_advisory_xact_lock(hashtextextended(m, 6)))"
                 " FROM (SELECT m FROM unnest(%s::text[]) WITH ORDINALITY AS u(m, i) ORDER BY i) AS s",
                 (sorted({str(m) for m in member_ids}),))


def lately(conn, member_id, day_start, day_end, since):
    """(messages, slot) of a member, in one look: how many messages went (or will go) out to them in
    the local day [day_start, day_end), one per event, failovers and capped ones not counted (the
    daily cap); and when the latest made since `since` was (or is) due (the slot the next one is
    paced after, domain.paced; None: none)."""
    row = conn.execute(
        "SELECT count(DISTINCT event_id) FILTER (WHERE created_at >= %(start)s AND created_at < %(end)s) AS n,"
        " max(next_attempt_at) FILTER (WHERE created_at >= %(since)s) AS slot"
        " FROM deliveries WHERE member_id = %(m)s AND failover_of IS NULL AND state <> 'skipped'"
        " AND created_at >= least(%(start)s, %(since)s)",
        {"m": member_id, "start": day_start, "end": day_end, "since": since}).fetchone()
    return row["n"], row["slot"]


def add_delivery(conn, d):
    """Insert one delivery unless the member already has this event on this channel; returns its id."""
    row = conn.execute(
        "INSERT INTO deliveries (member_id, event_id, event_type, category, urgent, channel, address, language,"
        " title, body, rendered, route, state, next_attempt_at, last_error, failover_of, event_at)"
        " VALUES (%(member_id)s, %(event_id)s, %(event_type)s, %(category)s, %(urgent)s, %(channel)s, %(address)s,"
        " %(language)s, %(title)s, %(body)s, %(rendered)s, %(route)s, %(state)s, %(next_attempt_at)s,"
        " %(last_error)s, %(failover_of)s, %(event_at)s)"
        " ON CONFLICT (member_id, event_id, channel) DO NOTHING RETURNING id",
        {**d, "rendered": Jsonb(d["rendered"]), "route": Jsonb(d["route"]),
         "last_error": d.get("last_error"), "failover_of": d.get("failover_of")},
    ).fetchone()
    return row["id"] if row else None


def claim_due(conn, limit, lease_seconds):
    """Claim due deliveries (and those whose claim lapsed, e.g. a dispatcher that died mid-send)."""
    return conn.execute(
        f"UPDATE deliveries SET state = 'sending', attempts = attempts + 1,"
        f" lease_until = now() + make_interval(secs => %s)"
        f" WHERE id IN (SELECT id FROM deliveries WHERE state IN ('held', 'pending', 'sending')"
        f"   AND next_attempt_at <= now() AND (state <> 'sending' OR lease_until < now())"
        f"   ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)"
        f" RETURNING {DELIVERY_COLUMNS}",
        (lease_seconds, limit),
    ).fetchall()


def mark_sent(conn, delivery_id):
    conn.execute("UPDATE deliveries SET state = 'sent', finished_at = now(), lease_until = NULL"
                 " WHERE id = %s", (delivery_id,))


def mark_retry(conn, delivery_id, delay, error):
    conn.execute("UPDATE deliveries SET state = 'pending', lease_until = NULL, last_error = %s,"
                 " next_attempt_at = now() + make_interval(secs => %s) WHERE id = %s",
                 (error[:1000], delay, delivery_id))


def mark_failed(conn, delivery_id, error):
    conn.execute("UPDATE deliveries SET state = 'failed', finished_at = now(), lease_until = NULL,"
                 " last_error = %s WHERE id = %s", (error[:1000], delivery_id))


def failed(conn, limit, offset):
    return conn.execute(
        f"SELECT {DELIVERY_COLUMNS}, count(*) OVER () AS total FROM deliveries WHERE state = 'failed'"
        " ORDER BY finished_at DESC, id LIMIT %s OFFSET %s", (limit, offset)).fetchall()


def delivery(conn, delivery_id):
    return conn.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = %s", (delivery_id,)).fetchone()


def replay(conn, delivery_id):
    """Send a failed delivery again, from its first attempt."""
    row = conn.execute(
        f"UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), finished_at = NULL"
        f" WHERE id = %s AND state = 'failed' RETURNING {DELIVERY_COLUMNS}", (delivery_id,)).fetchone()
    return row


# reminders


def add_reminder(conn, member_id, subject, grp, title, place, starts_at, due_at):
    """A reminder, or the existing one moved to its new time (if not sent yet)."""
    conn.execute(
        "INSERT INTO reminders (member_id, subject, grp, title, place, starts_at, due_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (member_id, subject) DO UPDATE SET title = excluded.title, place = excluded.place,"
        " starts_at = excluded.starts_at, due_at = excluded.due_at, grp = excluded.grp,"
        " state = CASE WHEN reminders.state = 'cancelled' THEN 'due' ELSE reminders.state END"
        " WHERE reminders.state <> 'sent' OR reminders.starts_at <> excluded.starts_at",
        (member_id, subject, grp, title, place, starts_at, due_at),
    )


def move_reminders(conn, subject, starts_at, due_at):
    """A session moved: its reminders (sent or not) are due again before the new time."""
    conn.execute("UPDATE reminders SET starts_at = %s, due_at = %s, state = 'due', sent_at = NULL"
                 " WHERE subject = %s AND state <> 'cancelled'", (starts_at, due_at, subject))


def cancel_reminders(conn, subject=None, grp=None, member_id=None):
    conn.execute(
        "UPDATE reminders SET state = 'cancelled' WHERE state = 'due'"
        " AND (%(subject)s::text IS NULL OR subject = %(subject)s) AND (%(grp)s::text IS NULL OR grp = %(grp)s)"
        " AND (%(member)s::uuid IS NULL OR member_id = %(member)s)"
        " AND (%(subject)s::text IS NOT NULL OR %(grp)s::text IS NOT NULL)",
        {"subject": subject, "grp": grp, "member": member_id})


def claim_due_reminders(conn, limit):
    return conn.execute(
        "UPDATE reminders SET state = 'sent', sent_at = now() WHERE id IN (SELECT id FROM reminders"
        " WHERE state = 'due' AND due_at <= now() ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED)"
        " RETURNING id, member_id, subject, title, place, starts_at, due_at", (limit,)).fetchall()


# figures


def stats(conn):
    per_channel = conn.execute(
        "SELECT channel, count(*) FILTER (WHERE state = 'sent') AS sent,"
        " count(*) FILTER (WHERE state = 'failed') AS failed,"
        " coalesce(sum(greatest(attempts - 1, 0)), 0) AS retried,"
        " count(*) FILTER (WHERE state IN ('held', 'pending', 'sending')) AS waiting,"
        " count(*) FILTER (WHERE state = 'skipped') AS capped,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - event_at))"
        "   FILTER (WHERE state = 'sent') AS p50,"
        " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - event_at))"
        "   FILTER (WHERE state = 'sent') AS p99"
        " FROM deliveries GROUP BY channel").fetchall()
    inbox_row = conn.execute(
        "SELECT count(*) AS n,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - event_at)) AS p50,"
        " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - event_at)) AS p99"
        " FROM inbox WHERE event_at IS NOT NULL AND created_at > now() - interval '1 day'").fetchone()
    total = conn.execute("SELECT count(*) AS n, count(*) FILTER (WHERE read_at IS NULL) AS unread FROM inbox").fetchone()
    return per_channel, inbox_row, total


# the yearly report (GET /v1/reports/summary)

def report_sent(conn, start, end, channels, by):
    """Messages sent in [start, end) per channel (by when they went), and inbox entries made in it."""
    when = "finished_at"  # set when a message is sent
    head, group = reports.grouping(reports.month_of(when) if by == "month" else None)
    counts = ", ".join(f"count(*) FILTER (WHERE channel = '{c}') AS sent_{c}" for c in channels)
    sent = conn.execute(
        f"""SELECT {head}, {counts} FROM deliveries
            WHERE state = 'sent' AND {when} >= %(s)s AND {when} < %(e)s {group}""",
        {"s": start, "e": end}).fetchall()
    head, group = reports.grouping(reports.month_of("created_at") if by == "month" else None)
    inbox = conn.execute(
        f"""SELECT {head}, count(*) AS inbox_entries FROM inbox
            WHERE created_at >= %(s)s AND created_at < %(e)s {group}""", {"s": start, "e": end}).fetchall()
    return sent, inbox


# follows and announcements


def follow(conn, member_id, kind, target):
    conn.execute("INSERT INTO follows (member_id, kind, target) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                 (member_id, kind, target))


def unfollow(conn, member_id, kind, target):
    conn.execute("DELETE FROM follows WHERE member_id = %s AND kind = %s AND target = %s", (member_id, kind, target))


def follows(conn, member_id):
    return conn.execute("SELECT kind, target FROM follows WHERE member_id = %s ORDER BY kind, created_at, target",
                        (member_id,)).fetchall()


def followers(conn, pairs):
    """The members following any of these (kind, target) pairs, each once."""
    pairs = [(kind, str(target)) for kind, target in pairs if target]
    if not pairs:
        return []
    kinds, targets = zip(*pairs)
    return [r["member_id"] for r in conn.execute(
        "SELECT DISTINCT f.member_id::text FROM follows f JOIN unnest(%s::text[], %s::text[]) AS p(kind, target)"
        " ON f.kind = p.kind AND f.target = p.target ORDER BY 1", (list(kinds), list(targets))).fetchall()]


def announce_once(conn, course_id):
    """True the first time a course is announced, never after (published again, redelivered)."""
    return conn.execute("INSERT INTO announced_courses (course_id) VALUES (%s) ON CONFLICT DO NOTHING",
                        (course_id,)).rowcount == 1


# broadcasts

BROADCAST_COLUMNS = ("b.id, b.audience, b.course_id, b.unit_id, b.site_id, b.title, b.body, b.sent_by, b.recipients,"
                     " b.state, b.created_at, b.finished_at")


def add_broadcast(conn, data, sent_by, member_ids):
    """A broadcast and its recipients (each once); returns the broadcast."""
    member_ids = sorted(set(member_ids))
    row = conn.execute(
        "INSERT INTO broadcasts (audience, course_id, unit_id, site_id, title, body, sent_by, recipients)"
        " VALUES (%(audience)s, %(course_id)s, %(unit_id)s, %(site_id)s, %(title)s, %(body)s, %(by)s, %(n)s)"
        " RETURNING id",
        {"course_id": None, "unit_id": None, "site_id": None, **data, "by": sent_by, "n": len(member_ids)}).fetchone()
    conn.execute("INSERT INTO broadcast_recipients (broadcast_id, member_id) SELECT %s, m FROM unnest(%s::uuid[]) m",
                 (row["id"], list(member_ids)))
    return broadcast(conn, row["id"])


def broadcast(conn, broadcast_id):
    return conn.execute(
        f"SELECT {BROADCAST_COLUMNS}, (SELECT count(*) FROM broadcast_recipients r WHERE r.broadcast_id = b.id"
        f" AND r.told_at IS NOT NULL) AS told FROM broadcasts b WHERE b.id = %s", (broadcast_id,)).fetchone()


def cancel_broadcast(conn, broadcast_id):
    """Stop a broadcast still sending; None when it is not (any more)."""
    return conn.execute("UPDATE broadcasts SET state = 'cancelled', finished_at = now() WHERE id = %s"
                        " AND state = 'sending' RETURNING id", (broadcast_id,)).fetchone()


def claim_broadcast_group(conn, limit):
    """The next group of members of a sending broadcast not told yet, marked told (locked so two
    dispatchers take different groups): (broadcast, [member ids]), or (None, [])."""
    rows = conn.execute(
        "UPDATE broadcast_recipients SET told_at = now() WHERE (broadcast_id, member_id) IN ("
        " SELECT r.broadcast_id, r.member_id FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id"
        " WHERE b.state = 'sending' AND r.told_at IS NULL AND r.broadcast_id = (SELECT b2.id FROM broadcasts b2"
        "   WHERE b2.state = 'sending' ORDER BY b2.created_at LIMIT 1)"
        " LIMIT %s FOR UPDATE OF r SKIP LOCKED) RETURNING broadcast_id, member_id::text", (limit,)).fetchall()
    if not rows:
        return None, []
    return broadcast(conn, rows[0]["broadcast_id"]), [r["member_id"] for r in rows]


def finish_broadcasts(conn):
    """Sending broadcasts with nobody left to tell are done."""
    conn.execute("UPDATE broadcasts b SET state = 'done', finished_at = now() WHERE state = 'sending'"
                 " AND NOT EXISTS (SELECT 1 FROM broadcast_recipients r WHERE r.broadcast_id = b.id"
                 " AND r.told_at IS NULL)")
