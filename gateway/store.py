"""SQL of the gateway's own data: accounts, their tokens and reset codes, units, the settings it
keeps. Every function takes a connection inside the caller's transaction. (Rate limits, idempotency
keys and the catalog read model keep their SQL beside their logic: limits.py, idempotency.py,
catalog.py.)"""
from psycopg import errors as pg

from gateway.problems import Problem
from services.common.zone import HOME_ZONE_NAME

ACCOUNT_COLUMNS = "id, phone, name, roles, unit_id, birth_date, created_at"
SIGN_IN_COLUMNS = "id, roles, unit_id, token_generation"  # what an access token carries


# ---------------------------------------------------------------- settings

def keep_setting(conn, name, value):
    """The stored value of a setting, storing `value` first if there is none yet."""
    conn.execute("INSERT INTO settings (name, value) VALUES (%s, %s) ON CONFLICT DO NOTHING", (name, value))
    return conn.execute("SELECT value FROM settings WHERE name = %s", (name,)).fetchone()["value"]


# ---------------------------------------------------------------- accounts

def insert_account(conn, phone, name, password_hash, roles, unit_id=None, birth_date=None):
    try:
        return conn.execute(
            f"INSERT INTO accounts (phone, name, password_hash, roles, unit_id, birth_date)"
            f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {ACCOUNT_COLUMNS}",
            (phone, name, password_hash, list(roles), unit_id, birth_date),
        ).fetchone()
    except pg.UniqueViolation:
        raise Problem(409, "phone-taken", "an account with this phone number already exists",
                      {"phone": ["is already registered"]}) from None
    except pg.ForeignKeyViolation:
        raise Problem(422, "validation-failed", "no such unit", {"unit_id": ["is not a known unit"]}) from None


def insert_account_unless_taken(conn, phone, name, password_hash, roles, birth_date=None):
    """The new account, unless one has this phone already: then nothing changes, and None."""
    return conn.execute(f"INSERT INTO accounts (phone, name, password_hash, roles, birth_date)"
                        f" VALUES (%s, %s, %s, %s, %s) ON CONFLICT (phone) DO NOTHING RETURNING {ACCOUNT_COLUMNS}",
                        (phone, name, password_hash, list(roles), birth_date)).fetchone()


def grant_role(conn, phone, role):
    """Add a role to the open account with this phone; its id, or None when there is none."""
    row = conn.execute("UPDATE accounts SET roles = array(SELECT DISTINCT unnest(roles || ARRAY[%s::text]))"
                       " WHERE phone = %s AND deleted_at IS NULL RETURNING id", (role, phone)).fetchone()
    return row["id"] if row else None


def account(conn, account_id):
    """An open account, or None."""
    return conn.execute(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = %s AND deleted_at IS NULL",
                        (account_id,)).fetchone()


def account_id_by_phone(conn, phone):
    """The open account with this phone number, or None."""
    row = conn.execute("SELECT id FROM accounts WHERE phone = %s AND deleted_at IS NULL", (phone,)).fetchone()
    return row["id"] if row else None


def is_open_account(conn, account_id):
    return conn.execute("SELECT 1 FROM accounts WHERE id = %s AND deleted_at IS NULL",
                        (account_id,)).fetchone() is not None


def find_accounts(conn, role, q, limit, offset):
    """Open accounts holding `role` (any, if None) whose name holds `q` or whose phone starts with it
    (`q` escaped for LIKE; '' matches all), oldest first."""
    return conn.execute(
        f"SELECT {ACCOUNT_COLUMNS}, count(*) OVER () AS total FROM accounts WHERE deleted_at IS NULL"
        " AND (%(role)s::text IS NULL OR %(role)s = ANY (roles))"
        " AND (%(q)s = '' OR name ILIKE '%%' || %(q)s || '%%' OR phone LIKE %(q)s || '%%')"
        " ORDER BY created_at, id LIMIT %(limit)s OFFSET %(offset)s",
        {"role": role, "q": q, "limit": limit, "offset": offset}).fetchall()


def close_account(conn, account_id):
    """Close an open account; False when there was none."""
    return bool(conn.execute("UPDATE accounts SET deleted_at = now() WHERE id = %s AND deleted_at IS NULL",
                             (account_id,)).rowcount)


def signed_out_since(conn, age):
    """The accounts closed, or given a new password, less than `age` (a timedelta) ago: their ids,
    their token generations and whether they are closed."""
    return conn.execute("SELECT id::text, token_generation AS generation, deleted_at IS NOT NULL AS closed"
                        " FROM accounts WHERE deleted_at > now() - %(age)s OR signed_out_at > now() - %(age)s",
                        {"age": age}).fetchall()


def birth_date(conn, account_id):
    """The open account's birth date (the age limits of classes are checked against it), or None."""
    row = conn.execute("SELECT birth_date FROM accounts WHERE id = %s AND deleted_at IS NULL",
                       (account_id,)).fetchone()
    return row["birth_date"] if row else None


def applicant_facts(conn, account_id):
    """Since when an open account is a member (the day it was opened, at home) and its unit, or None."""
    return conn.execute(f"SELECT (created_at AT TIME ZONE '{HOME_ZONE_NAME}')::date::text AS since,"
                        " unit_id::text FROM accounts WHERE id = %s AND deleted_at IS NULL", (account_id,)).fetchone()


def account_figures(conn):
    """Open accounts of members and of staff, and the units, for the yearly report."""
    return conn.execute(
        "SELECT count(*) FILTER (WHERE roles = '{member}') AS members,"
        " count(*) FILTER (WHERE roles <> '{member}') AS staff,"
        " (SELECT count(*) FROM units) AS units FROM accounts WHERE deleted_at IS NULL").fetchone()


# ---------------------------------------------------------------- passwords and tokens

def sign_in_row(conn, phone):
    """What signing in needs of the open account with this phone (with its password hash), or None."""
    return conn.execute(f"SELECT {SIGN_IN_COLUMNS}, password_hash FROM accounts"
                        " WHERE phone = %s AND deleted_at IS NULL", (phone,)).fetchone()


def password_hash(conn, account_id):
    """The open account's password hash, its row locked; None when there is no such account."""
    row = conn.execute("SELECT password_hash FROM accounts WHERE id = %s AND deleted_at IS NULL FOR UPDATE",
                       (account_id,)).fetchone()
    return row["password_hash"] if row else None


def set_password_hash(conn, account_id, new_hash):
    """The new password, in a new token generation (older access tokens stop working); the account's
    sign-in row."""
    return conn.execute(f"UPDATE accounts SET password_hash = %s, token_generation = token_generation + 1,"
                        f" signed_out_at = now() WHERE id = %s RETURNING {SIGN_IN_COLUMNS}",
                        (new_hash, account_id)).fetchone()


def insert_refresh_token(conn, token_hash, account_id, expires_at, chain):
    conn.execute("INSERT INTO refresh_tokens (token_hash, account_id, expires_at, chain) VALUES (%s, %s, %s, %s)",
                 (token_hash, account_id, expires_at, chain))


def use_refresh_token(conn, token_hash):
    """Spend a live refresh token of an open account: that account's sign-in row and the token's chain,
    or None."""
    return conn.execute(
        "UPDATE refresh_tokens t SET used_at = now() FROM accounts a"
        " WHERE t.token_hash = %s AND t.used_at IS NULL AND t.expires_at > now()"
        " AND a.id = t.account_id AND a.deleted_at IS NULL"
        " RETURNING a.id, a.roles, a.unit_id, a.token_generation, t.chain", (token_hash,)).fetchone()


def end_chain_of_spent(conn, token_hash):
    """If this refresh token was spent already, end every live token of its chain; whether it was."""
    spent = conn.execute("SELECT chain FROM refresh_tokens WHERE token_hash = %s AND used_at IS NOT NULL",
                         (token_hash,)).fetchone()
    if spent is None:
        return False
    conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE chain = %s AND used_at IS NULL", (spent["chain"],))
    return True


def revoke_refresh_tokens(conn, account_id):
    conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE account_id = %s AND used_at IS NULL",
                 (account_id,))


def replace_reset_code(conn, account_id, code_hash, expires_at):
    """A new reset code for the account; its earlier live codes stop working. Returns when it expires."""
    conn.execute("UPDATE password_resets SET used_at = now() WHERE account_id = %s AND used_at IS NULL",
                 (account_id,))
    return conn.execute("INSERT INTO password_resets (account_id, code_hash, expires_at) VALUES (%s, %s, %s)"
                        " RETURNING expires_at", (account_id, code_hash, expires_at)).fetchone()["expires_at"]


def live_reset_code(conn, phone):
    """The newest live reset code of the open account with this phone, locked, or None."""
    return conn.execute(
        "SELECT r.id, r.account_id, r.code_hash, r.attempts FROM password_resets r"
        " JOIN accounts a ON a.id = r.account_id AND a.deleted_at IS NULL"
        " WHERE a.phone = %s AND r.used_at IS NULL AND r.expires_at > now()"
        " ORDER BY r.created_at DESC LIMIT 1 FOR UPDATE OF r", (phone,)).fetchone()


def count_reset_attempt(conn, reset_id):
    conn.execute("UPDATE password_resets SET attempts = attempts + 1 WHERE id = %s", (reset_id,))


def spend_reset_code(conn, reset_id):
    conn.execute("UPDATE password_resets SET used_at = now() WHERE id = %s", (reset_id,))


# ---------------------------------------------------------------- units

def create_unit(conn, name):
    try:
        return conn.execute("INSERT INTO units (name) VALUES (%s) RETURNING id, name, 0 AS members, created_at",
                            (name,)).fetchone()
    except pg.UniqueViolation:
        raise Problem(409, "unit-exists", "a unit with this name already exists",
                      {"name": ["is taken"]}) from None


def units(conn, only=None, limit=50, offset=0):
    """Units with their member counts, by name; `only` one of them."""
    return conn.execute(
        "SELECT u.id, u.name, u.created_at,"
        " (SELECT count(*) FROM accounts a WHERE a.unit_id = u.id AND a.deleted_at IS NULL) AS members,"
        " count(*) OVER () AS total"
        " FROM units u WHERE (%(only)s::uuid IS NULL OR u.id = %(only)s::uuid)"
        " ORDER BY u.name LIMIT %(limit)s OFFSET %(offset)s",
        {"only": only, "limit": limit, "offset": offset}).fetchall()


def get_unit(conn, unit_id):
    row = conn.execute("SELECT id FROM units WHERE id = %s", (unit_id,)).fetchone()
    if row is None:
        raise Problem(404, "not-found", "no such unit")
    return row


def unit_members(conn, unit_id, limit=50, offset=0):
    return conn.execute(
        f"SELECT {ACCOUNT_COLUMNS}, count(*) OVER () AS total FROM accounts WHERE unit_id = %s AND deleted_at IS NULL"
        " ORDER BY name, id LIMIT %s OFFSET %s", (unit_id, limit, offset)).fetchall()


def add_unit_member(conn, unit_id, phone):
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


def remove_unit_member(conn, unit_id, account_id):
    done = conn.execute("UPDATE accounts SET unit_id = NULL WHERE id = %s AND unit_id = %s AND deleted_at IS NULL",
                        (account_id, unit_id)).rowcount
    if not done:
        raise Problem(404, "not-found", "no such member in this unit")
