"""Closed accounts, as each service remembers them in its own `closed_members` table (one row a
member, written by the erasure): whatever comes after an erasure (a late event, a booking, an
enrolment) asks here, under the member's lock, so that nothing brings the person back."""


def remember(conn, member_id):
    conn.execute("INSERT INTO closed_members (member_id) VALUES (%s) ON CONFLICT DO NOTHING", (str(member_id),))


def is_closed(conn, member_id):
    found = conn.execute("SELECT 1 FROM closed_members WHERE member_id = %s", (str(member_id),)).fetchone()
    return found is not None


def among(conn, member_ids):
    """Which of these members (ids as text) closed their account."""
    rows = conn.execute("SELECT member_id::text AS m FROM closed_members WHERE member_id = ANY(%s::uuid[])",
                        (list(member_ids),)).fetchall()
    return {r["m"] for r in rows}
