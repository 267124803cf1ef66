"""Accounts, passwords and tokens. Passwords are argon2 hashes; access tokens are short-lived
signed JWTs carrying the caller's id, roles and unit; refresh tokens are opaque, stored hashed,
and rotated on every use."""
import hashlib
import secrets
import dataclasses
from datetime import datetime, timedelta, timezone

import falcon
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from psycopg import errors as pg

from gateway.problems import Problem
from services.common import config
from services.common.context import Caller

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
ROLES = ("member", "teacher", "venue_manager", "welfare_officer", "unit_admin", "admin")

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


def create_account(conn, phone, name, password, roles=("member",), unit_id=None):
    try:
        return conn.execute(
            "INSERT INTO accounts (phone, name, password_hash, roles, unit_id) VALUES (%s, %s, %s, %s, %s)"
            " RETURNING id, phone, name, roles, unit_id, created_at",
            (phone, name, _hasher.hash(password), list(roles), unit_id),
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
            (phone, _hasher.hash(password), ["admin"]),
        )


def check_password(conn, phone, password):
    row = conn.execute(
        "SELECT id, roles, unit_id, password_hash FROM accounts WHERE phone = %s AND deleted_at IS NULL",
        (phone,),
    ).fetchone()
    try:
        _hasher.verify(row["password_hash"] if row else _dummy_hash, password)
    except VerificationError:
        row = None
    if row is None:
        raise Problem(401, "bad-credentials", "the phone number or the password is wrong")
    return row


def issue_tokens(conn, secret, account_row):
    now = datetime.now(timezone.utc)
    claims = {
        "sub": str(account_row["id"]), "roles": list(account_row["roles"]),
        "unit": str(account_row["unit_id"]) if account_row["unit_id"] else None,
        "iat": now, "exp": now + ACCESS_TTL, "typ": "access",
    }
    refresh = secrets.token_urlsafe(32)
    conn.execute("INSERT INTO refresh_tokens (token_hash, account_id, expires_at) VALUES (%s, %s, %s)",
                 (_digest(refresh), account_row["id"], now + REFRESH_TTL))
    return {"access_token": jwt.encode(claims, secret, algorithm="HS256"), "refresh_token": refresh,
            "token_type": "Bearer", "expires_in": int(ACCESS_TTL.total_seconds())}


def use_refresh_token(conn, refresh):
    row = conn.execute(
        "UPDATE refresh_tokens t SET used_at = now() FROM accounts a"
        " WHERE t.token_hash = %s AND t.used_at IS NULL AND t.expires_at > now()"
        " AND a.id = t.account_id AND a.deleted_at IS NULL"
        " RETURNING a.id, a.roles, a.unit_id",
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
                  request_id=None, idempotency_key=None)


ANONYMOUS = Caller(id=None, roles=frozenset(), unit=None, request_id=None, idempotency_key=None)


def caller(req, idempotency_key=None):
    """The RPC context for this request: who calls, and under which request id."""
    return dataclasses.replace(req.context.account or ANONYMOUS, request_id=req.context.request_id,
                               idempotency_key=idempotency_key).to_context()


def require(*roles):
    """A falcon hook: the route needs a signed-in caller, holding one of `roles` if given."""

    def hook(req, resp, resource, params):
        account = req.context.account
        if account is None:
            raise Problem(401, "unauthenticated", "sign in first: send an Authorization: Bearer token",
                          headers={"WWW-Authenticate": "Bearer"})
        if roles and not account.has(*roles):
            raise Problem(403, "forbidden", f"this needs one of the roles: {', '.join(roles)}")

    return falcon.before(hook)


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()
