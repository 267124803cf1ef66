"""Units (employer union branches) and their members, in the gateway's database."""
from psycopg import errors as pg

from gateway.problems import Problem

ACCOUNT_COLUMNS = "id, phone, name, roles, unit_id, birth_date, created_at"


def create(conn, name):
    try:
        return conn.execute("INSERT INTO units (name) VALUES (%s) RETURNING id, name, 0 AS members, created_at",
                            (name,)).fetchone()
    except pg.UniqueViolation:
        raise Problem(409, "unit-exists", "a unit with this name already exists",
                      {"name": ["is taken"]}) from None


def listing(conn, only=None, limit=50, offset=0):
    return conn.execute(
        "SELECT u.id, u.name, u.created_at,"
        " (SELECT count(*) FROM accounts a WHERE a.unit_id = u.id AND a.deleted_at IS NULL) AS members"
        " FROM units u WHERE (%(only)s::uuid IS NULL OR u.id = %(only)s::uuid)"
        " ORDER BY u.name LIMIT %(limit)s OFFSET %(offset)s",
        {"only": only, "limit": limit, "offset": offset}).fetchall()


def get(conn, unit_id):
    row = conn.execute("SELECT id FROM units WHERE id = %s", (unit_id,)).fetchone()
    if row is None:
        raise Problem(404, "not-found", "no such unit")
    return row


def members(conn, unit_id, limit=50, offset=0):
    return conn.execute(
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE unit_id = %s AND deleted_at IS NULL"
        " ORDER BY name, id LIMIT %s OFFSET %s", (unit_id, limit, offset)).fetchall()


def add_member(conn, unit_id, phone):
    """Put a member's account into the unit; an account belongs to one unit at a time."""
    row = conn.execute(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE phone = %s AND deleted_at IS NULL"
                       " FOR UPDATE", (phone,)).fetchone()
    if row is None:
        raise Problem(422, "validation-failed", "no account has this phone number",
                      {"phone": ["is not registered: the member registers first"]})
    if row["unit_id"] is not None and str(row["unit_id"]) != str(unit_id):
        raise Problem(409, "in-another-unit", "this member belongs to another unit")
    return conn.execute(f"UPDATE accounts SET unit_id = %s WHERE id = %s RETURNING {ACCOUNT_COLUMNS}",
                        (unit_id, row["id"])).fetchone()


def remove_member(conn, unit_id, account_id):
    done = conn.execute("UPDATE accounts SET unit_id = NULL WHERE id = %s AND unit_id = %s AND deleted_at IS NULL",
                        (account_id, unit_id)).rowcount
    if not done:
        raise Problem(404, "not-found", "no such member in this unit")
