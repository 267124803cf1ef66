"""SQL of the notify database."""
from services.common.errors import NotFound

ENTRY_COLUMNS = "id, event_type, title, body, created_at, read_at"


def add_to_inbox(conn, member_id, event, message):
    conn.execute(
        "INSERT INTO inbox (member_id, event_id, event_type, title, body) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (member_id, event_id) DO NOTHING",
        (member_id, event["event_id"], event["event_type"], message.title, message.body),
    )


def inbox(conn, member_id, limit, offset, unread_only=False):
    return conn.execute(
        f"SELECT {ENTRY_COLUMNS} FROM inbox WHERE member_id = %s AND (NOT %s OR read_at IS NULL)"
        " ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
        (member_id, unread_only, limit, offset),
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
