"""SQL of the gateway's own data: accounts, their tokens and reset codes, units, the settings it
keeps. Every function takes a connection inside the caller's transaction. (Rate limits, idempotency
keys and the catalog read model keep their SQL beside their logic: limits.py, idempotency.py,
catalog.py.)"""
from psycopg import errors as pg

from gateway.problems import Problem
from services.common.zone import HOME_ZONE_NAME

ACCOUNT_COLUMNS = "id, phone, name, roles, unit_id, birth_date, id_last4, created_at"
SIGN_IN_COLUMNS = "id, roles, unit_id, token_generation"  # what an access token carries


# ---------------------------------------------------------------- settings

def keep_setting(conn, name, value):
    """The stored value of a setting, storing `value` first if there is none yet."""
    conn.execute("INSERT INTO settings (name, value) VALUES (%s, %s) ON CONFLICT DO NOTHING", (name, value))
    return conn.execute("SELECT value FROM settings WHERE name = %s", (name,)).fetchone()["value"]


# ---------------------------------------------------------------- accounts

def insert_account(conn, phone, name, password_hash, roles, unit_id=None, birth_date=None, id_last4=None):
    try:
        return conn.execute(
            f"INSERT INTO accounts (phone, name, password_hash, roles, unit_id, birth_date, id_last4)"
            f" VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {ACCOUNT_COLUMNS}",
            (phone, name, password_hash, list(roles), unit_id, birth_date, id_last4),
        ).fetchone()
    except pg.UniqueViolation:
        raise Problem(409, "phone-taken", "an account with this phone number already exists",
                      {"phone": ["is already registered"]}) from None
    except pg.ForeignKeyViolation:
        raise Problem(422, "validation-failed", "no such unit", {"unit_id": ["is not a known unit"]}) from None


def insert_account_unless_taken(conn, phone, name, password_hash, roles, birth_date=None, id_last4=None):
    """The new account, unless one has this phone already: then nothing changes, and None."""
    return conn.execute(f"INSERT INTO accounts (phone, name, password_hash, roles, birth_date, id_last4)"
                        f" VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (phone) DO NOTHING RETURNING {ACCOUNT_COLUMNS}",
                        (phone, name, password_hash, list(roles), birth_date, id_last4)).fetchone()


def set_roles(conn, account_id, roles, unit_id):
    """The open account's new roles (and unit, if given), in a new token generation: its access tokens
    stop working within seconds and the next renewal carries the new roles. The account, or None."""
    try:
        return conn.execute(
            f"UPDATE accounts SET roles = %s, unit_id = coalesce(%s, unit_id), token_generation = token_generation + 1,"
            f" signed_out_at = now() WHERE id = %s AND deleted_at IS NULL RETURNING {ACCOUNT_COLUMNS}",
            (sorted(set(roles)), unit_id, account_id)).fetchone()
    except pg.ForeignKeyViolation:
        raise Problem(422, "validation-failed", "no such unit", {"unit_id": ["is not a known unit"]}) from None


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


def is_open_account(conn, account_id, members_only=False):
    """Whether the account is open (and, `members_only`, holds no role but member's)."""
    return conn.execute("SELECT 1 FROM accounts WHERE id = %s AND deleted_at IS NULL"
                        " AND (NOT %s OR roles = '{member}')", (account_id, members_only)).fetchone() is not None


def teachers_among(conn, ids):
    """Of these account ids (text), those of open accounts holding the teacher role."""
    return {str(r["id"]) for r in conn.execute(
        "SELECT id FROM accounts WHERE id = ANY(%s::uuid[]) AND deleted_at IS NULL AND 'teacher' = ANY (roles)",
        (list(ids),))}


def names_and_phones(conn, ids):
    """{id: row with name and phone} of these accounts, in one query (closed ones too: a course keeps
    its teacher's name, a roster its member's)."""
    return {str(r["id"]): r for r in conn.execute(
        "SELECT id, name, phone FROM accounts WHERE id = ANY(%s::uuid[])", (list(ids),))}


def staff_ids(conn, roles):
    """The open accounts holding any of `roles`, oldest first."""
    return [str(r["id"]) for r in conn.execute(
        "SELECT id FROM accounts WHERE deleted_at IS NULL AND roles && %s::text[] ORDER BY created_at, id",
        (list(roles),)).fetchall()]


def unit_exists(conn, unit_id):
    return conn.execute("SELECT 1 FROM units WHERE id = %s", (unit_id,)).fetchone() is not None


def member_ids(conn, unit_id=None):
    """The open member accounts (of one unit, if given): whom a broadcast to them reaches."""
    return [str(r["id"]) for r in conn.execute(
        "SELECT id FROM accounts WHERE deleted_at IS NULL AND 'member' = ANY (roles)"
        " AND (%(unit)s::uuid IS NULL OR unit_id = %(unit)s::uuid)", {"unit": unit_id}).fetchall()]


def find_accounts(conn, role, q, limit, offset):
    """Open accounts holding `role` (any, if None) whose name holds `q` or whose phone starts with it
    (`q` escaped for LIKE; '' matches all), oldest first."""
    return conn.execute(
        f"SELECT {ACCOUNT_COLUMNS}, count(*) OVER () AS total FROM accounts WHERE deleted_at IS NULL"
        " AND (%(role)s::text IS NULL OR %(role)s = ANY (roles))"
        " AND (%(q)s = '' OR name ILIKE '%%' || %(q)s || '%%' OR phone LIKE %(q)s || '%%')"
        " ORDER BY created_at, id LIMIT %(limit)s OFFSET %(offset)s",
        {"role": role, "q": q, "limit": limit, "offset": offset}).fetchall()


def note_opened_by(conn, account_id, clerk_id):
    conn.execute("UPDATE accounts SET opened_by = %s WHERE id = %s", (clerk_id, account_id))


def find_members(conn, q, limit, offset):
    """Open member accounts, with their unit's name, that a clerk's `q` names: the last 4 of the
    national ID, part of the phone number or of the name (`q` escaped for LIKE), by name."""
    return conn.execute(
        "SELECT a.id, a.name, a.phone, a.id_last4, a.birth_date, a.unit_id, u.name AS unit_name, a.created_at,"
        " count(*) OVER () AS total FROM accounts a LEFT JOIN units u ON u.id = a.unit_id"
        " WHERE a.deleted_at IS NULL AND 'member' = ANY (a.roles)"
        " AND (a.id_last4 = upper(%(q)s) OR a.phone LIKE '%%' || %(q)s || '%%'"
        " OR a.name ILIKE '%%' || %(q)s || '%%')"
        " ORDER BY a.name, a.id LIMIT %(limit)s OFFSET %(offset)s",
        {"q": q, "limit": limit, "offset": offset}).fetchall()


def member_card(conn, member_id):
    """One open member account as the counter sees it (the same card as a search finds), or None."""
    return conn.execute(
        "SELECT a.id, a.name, a.phone, a.id_last4, a.birth_date, a.unit_id, u.name AS unit_name, a.created_at"
        " FROM accounts a LEFT JOIN units u ON u.id = a.unit_id"
        " WHERE a.id = %s AND a.deleted_at IS NULL AND 'member' = ANY (a.roles)", (member_id,)).fetchone()


def member_facts(conn, member_id):
    """What enrolling a member on their behalf needs: an open member account's birth date and unit, or None."""
    return conn.execute("SELECT id, birth_date, unit_id FROM accounts WHERE id = %s AND deleted_at IS NULL"
                        " AND 'member' = ANY (roles)", (member_id,)).fetchone()


def name_of(conn, account_id):
    row = conn.execute("SELECT name FROM accounts WHERE id = %s", (account_id,)).fetchone()
    return row["name"] if row else None


def close_account(conn, account_id):
    """Close an open account; False when there was none."""
    # the person is erased with it: the id stays (ledgers and logs name it), nothing says who it was
    closed = conn.execute("UPDATE accounts SET deleted_at = now(), name = 'Closed account', phone = 'closed:' || id,"
                          " birth_date = NULL, id_last4 = NULL WHERE id = %s AND deleted_at IS NULL",
                          (account_id,)).rowcount
    if closed:  # its open invitations to units end: nobody is left to accept them
        conn.execute("UPDATE unit_invitations SET status = 'declined', answered_at = now()"
                     " WHERE account_id = %s AND status = 'pending'", (account_id,))
    return bool(closed)


def signed_out_since(conn, age):
    """The accounts closed, or given a new password, less than `age` (a timedelta) ago: their ids,
    their token generations and whether they are closed."""
    return conn.execute("SELECT id::text, token_generation AS generation, deleted_at IS NOT NULL AS closed"
                        " FROM accounts WHERE deleted_at > now() - %(age)s OR signed_out_at > now() - %(age)s",
                        {"age": age}).fetchall()


def set_birth_date(conn, account_id, day):
    """The open account's birth date, where it has none yet: the account as it is then, or None when
    it had one already (or is gone)."""
    return conn.execute(f"UPDATE accounts SET birth_date = %s WHERE id = %s AND deleted_at IS NULL"
                        f" AND birth_date IS NULL RETURNING {ACCOUNT_COLUMNS}", (day, account_id)).fetchone()


def birth_date(conn, account_id):
    """The open account's birth date (the age limits of classes are checked against it), or None."""
    row = conn.execute("SELECT birth_date FROM accounts WHERE id = %s AND deleted_at IS NULL",
                       (account_id,)).fetchone()
    return row["birth_date"] if row else None


def applicant_facts(conn, account_id):
    """Since when an open account is a member (the day it was opened, at home) and its unit, or None."""
    return conn.execute(f"SELECT (created_at AT TIME ZONE '{HOME_ZONE_NAME}')::date::text AS since,"
                        " unit_id::text FROM accounts WHERE id = %s AND deleted_at IS NULL", (account_id,)).fetchone()


def units_of_accounts(conn, account_ids):
    """{account id: its unit id or None} of the open accounts among `account_ids`."""
    return {r["id"]: r["unit_id"] for r in conn.execute(
        "SELECT id::text, unit_id::text FROM accounts WHERE id = ANY(%s::uuid[]) AND deleted_at IS NULL",
        (list(account_ids),)).fetchall()}


def accounts_by_phone(conn, phones):
    """{phone: account id} of the open accounts signed up with these phones."""
    return {r["phone"]: r["id"] for r in conn.execute(
        "SELECT phone, id::text FROM accounts WHERE phone = ANY(%s) AND deleted_at IS NULL",
        (list(phones),)).fetchall()}


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


def replace_phone_change(conn, account_id, phone, code_hash, expires_at):
    """A code for moving the account to `phone`; its earlier live codes stop working."""
    conn.execute("UPDATE phone_changes SET used_at = now() WHERE account_id = %s AND used_at IS NULL", (account_id,))
    return conn.execute("INSERT INTO phone_changes (account_id, phone, code_hash, expires_at) VALUES (%s, %s, %s, %s)"
                        " RETURNING expires_at", (account_id, phone, code_hash, expires_at)).fetchone()["expires_at"]


def live_phone_change(conn, account_id, phone):
    """The newest live code for moving the account to `phone`, locked, or None."""
    return conn.execute(
        "SELECT id, code_hash, attempts FROM phone_changes WHERE account_id = %s AND phone = %s AND used_at IS NULL"
        " AND expires_at > now() ORDER BY created_at DESC LIMIT 1 FOR UPDATE", (account_id, phone)).fetchone()


def count_phone_change_attempt(conn, change_id):
    conn.execute("UPDATE phone_changes SET attempts = attempts + 1 WHERE id = %s", (change_id,))


def spend_phone_change(conn, change_id):
    conn.execute("UPDATE phone_changes SET used_at = now() WHERE id = %s", (change_id,))


def set_phone(conn, account_id, phone):
    """The open account signs in with `phone` from now on: the account, or 409 when another has it."""
    try:
        with conn.transaction():
            return conn.execute(f"UPDATE accounts SET phone = %s WHERE id = %s AND deleted_at IS NULL"
                                f" RETURNING {ACCOUNT_COLUMNS}", (phone, account_id)).fetchone()
    except pg.UniqueViolation:
        raise Problem(409, "phone-taken", "another account signs in with this phone",
                      {"phone": ["is taken"]}) from None


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


INVITATION_COLUMNS = ("i.id, i.unit_id, u.name AS unit_name, a.phone, i.status, i.created_at, i.answered_at")
INVITATION_FROM = "unit_invitations i JOIN units u ON u.id = i.unit_id JOIN accounts a ON a.id = i.account_id"


def invite_to_unit(conn, unit_id, phone, invited_by):
    """An open invitation of the member with this phone to the unit (the one already open, if any).
    A staff account (any role beyond member) is never invited: only the palace admin gives it a unit."""
    row = conn.execute("SELECT id, roles, unit_id FROM accounts WHERE phone = %s AND deleted_at IS NULL FOR UPDATE",
                       (phone,)).fetchone()
    if row is None:
        raise Problem(422, "validation-failed", "no account has this phone number",
                      {"phone": ["is not registered: the member registers first"]})
    if set(row["roles"]) != {"member"}:
        raise Problem(409, "staff-account", "a staff account is given its unit by the palace admin, not invited",
                      {"phone": ["belongs to a staff account"]})
    if row["unit_id"] is not None:
        same = str(row["unit_id"]) == str(unit_id)
        raise Problem(409, "already-a-member" if same else "in-another-unit",
                      "this member is in the unit already" if same else "this member belongs to another unit")
    made = conn.execute(
        "INSERT INTO unit_invitations (unit_id, account_id, invited_by) VALUES (%s, %s, %s)"
        " ON CONFLICT (unit_id, account_id) WHERE status = 'pending' DO UPDATE SET invited_by = EXCLUDED.invited_by"
        " RETURNING id, xmax = 0 AS new", (unit_id, row["id"], invited_by)).fetchone()
    invitation = conn.execute(f"SELECT {INVITATION_COLUMNS} FROM {INVITATION_FROM} WHERE i.id = %s",
                              (made["id"],)).fetchone()
    return {**invitation, "account_id": row["id"], "new": made["new"]}  # `new`: not one asked again


def my_invitations(conn, account_id):
    return conn.execute(f"SELECT {INVITATION_COLUMNS} FROM {INVITATION_FROM}"
                        " WHERE i.account_id = %s AND i.status = 'pending' ORDER BY i.created_at DESC",
                        (account_id,)).fetchall()


def answer_invitation(conn, account_id, invitation_id, accept):
    """The member accepts (joins the unit) or declines their open invitation; another's or an answered
    one is not found."""
    found = conn.execute("SELECT id, unit_id FROM unit_invitations WHERE id = %s AND account_id = %s"
                         " AND status = 'pending' FOR UPDATE", (invitation_id, account_id)).fetchone()
    if found is None:
        raise Problem(404, "not-found", "no such open invitation")
    if accept:
        joined = conn.execute("UPDATE accounts SET unit_id = %s WHERE id = %s AND unit_id IS NULL"
                              " AND deleted_at IS NULL AND roles = '{member}'", (found["unit_id"], account_id))
        if not joined.rowcount:
            raise Problem(409, "in-another-unit", "you belong to another unit: leave it first")
    conn.execute("UPDATE unit_invitations SET status = %s, answered_at = now() WHERE id = %s",
                 ("accepted" if accept else "declined", invitation_id))
    return conn.execute(f"SELECT {INVITATION_COLUMNS} FROM {INVITATION_FROM} WHERE i.id = %s",
                        (invitation_id,)).fetchone()


def remove_unit_member(conn, unit_id, account_id):
    done = conn.execute("UPDATE accounts SET unit_id = NULL WHERE id = %s AND unit_id = %s AND deleted_at IS NULL",
                        (account_id, unit_id)).rowcount
    if not done:
        raise Problem(404, "not-found", "no such member in this unit")


def unit_names(conn):
    """{unit id: name}, to name the units of the yearly report's breakdown."""
    return {str(r["id"]): r["name"] for r in conn.execute("SELECT id, name FROM units").fetchall()}
