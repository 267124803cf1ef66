"""Accounts, passwords and tokens. Passwords are argon2 hashes; access tokens are short-lived
signed JWTs carrying the caller's id, roles and unit; refresh tokens are opaque, stored hashed,
and rotated on every use."""
import dataclasses
import hashlib
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone

import falcon
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from psycopg import errors as pg

from gateway.problems import Problem
from services.common import config
from services.common.context import Caller
from services.common.roles import ADMIN, MEMBER

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
RESET_TTL = timedelta(minutes=15)
RESET_ATTEMPTS = 5

_hasher = PasswordHasher()
_dummy_hash = _hasher.hash("not a password")  # verify against it so unknown phones cost the same


def token_secret(db):
    """PALACE_TOKEN_SECRET when set; else a random key made once and kept in the gateway database."""
    secret = config.env("PALACE_TOKEN_SECRET", "")
    if secret:
        return secret
    with db.transaction() as conn:
        conn.execute("INSERT INTO settings (name, value) VALUES ('token_secret', %s) ON CONFLICT DO NOTHING",
                     (secrets.token_urlsafe(48),))
        return conn.execute("SELECT value FROM settings WHERE name = 'token_secret'").fetchone()["value"]


def create_account(conn, phone, name, password, roles=(MEMBER,), unit_id=None, birth_date=None):
    try:
        return conn.execute(
            "INSERT INTO accounts (phone, name, password_hash, roles, unit_id, birth_date)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id, phone, name, roles, unit_id, birth_date, created_at",
            (phone, name, _hasher.hash(password), list(roles), unit_id, birth_date),
        ).fetchone()
    except pg.UniqueViolation:
        raise Problem(409, "phone-taken", "an account with this phone number already exists",
                      {"phone": ["is already registered"]}) from None
    except pg.ForeignKeyViolation:
        raise Problem(422, "validation-failed", "no such unit", {"unit_id": ["is not a known unit"]}) from None


def ensure_admin(db, phone, password):
    """Make sure the bootstrap admin exists (PALACE_ADMIN_PHONE / PALACE_ADMIN_PASSWORD)."""
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO accounts (phone, name, password_hash, roles) VALUES (%s, 'Administrator', %s, %s)"
            " ON CONFLICT (phone) DO NOTHING",
            (phone, _hasher.hash(password), [ADMIN]),
        )


def check_password(conn, phone, password):
    row = conn.execute(
        "SELECT id, roles, unit_id, birth_date, password_hash FROM accounts WHERE phone = %s AND deleted_at IS NULL",
        (phone,),
    ).fetchone()
    try:
        _hasher.verify(row["password_hash"] if row else _dummy_hash, password)
    except VerificationError:
        row = None
    if row is None:
        raise Problem(401, "bad-credentials", "the phone number or the password is wrong")
    return row


def change_password(conn, account_id, current, new):
    row = conn.execute("SELECT password_hash FROM accounts WHERE id = %s AND deleted_at IS NULL FOR UPDATE",
                       (account_id,)).fetchone()
    if row is None:
        raise Problem(401, "account-gone", "this account no longer exists")
    try:
        _hasher.verify(row["password_hash"], current)
    except VerificationError:
        raise Problem(422, "validation-failed", "the current password is wrong",
                      {"current_password": ["is wrong"]}) from None
    set_password(conn, account_id, new)


def set_password(conn, account_id, new):
    """A new password signs the account out everywhere: every refresh token stops working."""
    conn.execute("UPDATE accounts SET password_hash = %s WHERE id = %s", (_hasher.hash(new), account_id))
    revoke_refresh_tokens(conn, account_id)


def revoke_refresh_tokens(conn, account_id):
    conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE account_id = %s AND used_at IS NULL",
                 (account_id,))


def new_reset_code(conn, account_id):
    """A 6-digit code valid for RESET_TTL; earlier live codes of the account stop working."""
    code = f"{secrets.randbelow(10**6):06d}"
    conn.execute("UPDATE password_resets SET used_at = now() WHERE account_id = %s AND used_at IS NULL",
                 (account_id,))
    row = conn.execute("INSERT INTO password_resets (account_id, code_hash, expires_at) VALUES (%s, %s, %s)"
                       " RETURNING expires_at", (account_id, _hasher.hash(code),
                                                 datetime.now(timezone.utc) + RESET_TTL)).fetchone()
    return {"code": code, "expires_at": row["expires_at"]}


def use_reset_code(conn, phone, code, new_password):
    """Set the password if `code` is the account's live code; a code allows RESET_ATTEMPTS guesses."""
    row = conn.execute(
        "SELECT r.id, r.account_id, r.code_hash, r.attempts FROM password_resets r"
        " JOIN accounts a ON a.id = r.account_id AND a.deleted_at IS NULL"
        " WHERE a.phone = %s AND r.used_at IS NULL AND r.expires_at > now()"
        " ORDER BY r.created_at DESC LIMIT 1 FOR UPDATE OF r", (phone,)).fetchone()
    if row is None or row["attempts"] >= RESET_ATTEMPTS:
        return False
    try:
        _hasher.verify(row["code_hash"], code)
    except VerificationError:
        conn.execute("UPDATE password_resets SET attempts = attempts + 1 WHERE id = %s", (row["id"],))
        return False
    conn.execute("UPDATE password_resets SET used_at = now() WHERE id = %s", (row["id"],))
    set_password(conn, row["account_id"], new_password)
    return True


def access_token(secret, account_row, now=None):
    now = now or datetime.now(timezone.utc)
    claims = {
        "sub": str(account_row["id"]), "roles": list(account_row["roles"]),
        "unit": str(account_row["unit_id"]) if account_row["unit_id"] else None,
        "born": account_row["birth_date"].isoformat() if account_row.get("birth_date") else None,
        "iat": now, "exp": now + ACCESS_TTL, "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def issue_tokens(conn, secret, account_row):
    now = datetime.now(timezone.utc)
    refresh = secrets.token_urlsafe(32)
    conn.execute("INSERT INTO refresh_tokens (token_hash, account_id, expires_at) VALUES (%s, %s, %s)",
                 (_digest(refresh), account_row["id"], now + REFRESH_TTL))
    return {"access_token": access_token(secret, account_row, now), "refresh_token": refresh,
            "token_type": "Bearer", "expires_in": int(ACCESS_TTL.total_seconds())}


def use_refresh_token(conn, refresh):
    row = conn.execute(
        "UPDATE refresh_tokens t SET used_at = now() FROM accounts a"
        " WHERE t.token_hash = %s AND t.used_at IS NULL AND t.expires_at > now()"
        " AND a.id = t.account_id AND a.deleted_at IS NULL"
        " RETURNING a.id, a.roles, a.unit_id, a.birth_date",
        (_digest(refresh),),
    ).fetchone()
    if row is None:
        raise Problem(401, "bad-refresh-token", "the refresh token is unknown, used or expired")
    return row


def read_access_token(secret, token):
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise Problem(401, "bad-token", f"the access token is not valid: {exc}",
                      headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    if claims.get("typ") != "access":
        raise Problem(401, "bad-token", "not an access token")
    return Caller(id=claims["sub"], roles=frozenset(claims.get("roles") or ()), unit=claims.get("unit"),
                  request_id=None, idempotency_key=None, birth_date=claims.get("born"))


class ClosedAccounts:
    """Accounts closed while their access tokens may still be unexpired, re-read every REFRESH
    seconds by each gateway process: a closed account's token stops working within that time."""

    REFRESH = 2.0

    def __init__(self, db):
        self.db, self._ids, self._read_at = db, frozenset(), float("-inf")
        self._lock = threading.Lock()

    def __contains__(self, account_id):
        if time.monotonic() - self._read_at > self.REFRESH and self._lock.acquire(blocking=False):
            try:
                with self.db.transaction() as conn:
                    rows = conn.execute("SELECT id::text FROM accounts WHERE deleted_at > now() - %s",
                                        (ACCESS_TTL + timedelta(minutes=1),)).fetchall()
                self._ids, self._read_at = frozenset(r["id"] for r in rows), time.monotonic()
            finally:
                self._lock.release()
        return account_id in self._ids


ANONYMOUS = Caller(id=None, roles=frozenset(), unit=None, request_id=None, idempotency_key=None)


def caller(req, idempotency_key=None):
    """The RPC context for this request: who calls, and under which request id."""
    return dataclasses.replace(req.context.account or ANONYMOUS, request_id=req.context.request_id,
                               idempotency_key=idempotency_key).to_context()


def require(*roles):
    """A falcon hook: the route needs a signed-in caller, holding one of `roles` if given."""

    def hook(req, resp, resource, params):
        (req.context.account or ANONYMOUS).require(*roles)

    return falcon.before(hook)


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()
