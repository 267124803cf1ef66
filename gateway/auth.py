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

from gateway import store
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
        return store.keep_setting(conn, "token_secret", secrets.token_urlsafe(48))


DEFAULT_LANGUAGE = "zh-CN"  # the language of a member's messages unless their browser prefers English


def language(accept_language):
    """The language a new member's messages take: English when the browser's first choice among
    Chinese and English (by Accept-Language weight, then order) is English, else Chinese."""
    best, best_weight = None, 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("en", "zh"):
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > best_weight:
            best, best_weight = primary, weight
    return "en" if best == "en" else DEFAULT_LANGUAGE


def create_account(conn, phone, name, password, roles=(MEMBER,), unit_id=None, birth_date=None):
    return store.insert_account(conn, phone, name, _hasher.hash(password), roles, unit_id, birth_date)


def ensure_admin(db, phone, password):
    """Make sure the bootstrap admin exists (PALACE_ADMIN_PHONE / PALACE_ADMIN_PASSWORD)."""
    with db.transaction() as conn:
        store.insert_account_unless_taken(conn, phone, "Administrator", _hasher.hash(password), [ADMIN])


def check_password(conn, phone, password):
    row = store.sign_in_row(conn, phone)
    try:
        _hasher.verify(row["password_hash"] if row else _dummy_hash, password)
    except VerificationError:
        row = None
    if row is None:
        raise Problem(401, "bad-credentials", "the phone number or the password is wrong")
    return row


def change_password(conn, account_id, current, new):
    stored = store.password_hash(conn, account_id)
    if stored is None:
        raise Problem(401, "account-gone", "this account no longer exists")
    try:
        _hasher.verify(stored, current)
    except VerificationError:
        raise Problem(422, "validation-failed", "the current password is wrong",
                      {"current_password": ["is wrong"]}) from None
    set_password(conn, account_id, new)


def set_password(conn, account_id, new):
    """A new password signs the account out everywhere: every refresh token stops working."""
    store.set_password_hash(conn, account_id, _hasher.hash(new))
    store.revoke_refresh_tokens(conn, account_id)


def new_reset_code(conn, account_id):
    """A 6-digit code valid for RESET_TTL; earlier live codes of the account stop working."""
    code = f"{secrets.randbelow(10**6):06d}"
    expires_at = store.replace_reset_code(conn, account_id, _hasher.hash(code), datetime.now(timezone.utc) + RESET_TTL)
    return {"code": code, "expires_at": expires_at}


def use_reset_code(conn, phone, code, new_password):
    """Set the password if `code` is the account's live code; a code allows RESET_ATTEMPTS guesses."""
    row = store.live_reset_code(conn, phone)
    if row is None or row["attempts"] >= RESET_ATTEMPTS:
        return False
    try:
        _hasher.verify(row["code_hash"], code)
    except VerificationError:
        store.count_reset_attempt(conn, row["id"])
        return False
    store.spend_reset_code(conn, row["id"])
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
    store.insert_refresh_token(conn, _digest(refresh), account_row["id"], now + REFRESH_TTL)
    return {"access_token": access_token(secret, account_row, now), "refresh_token": refresh,
            "token_type": "Bearer", "expires_in": int(ACCESS_TTL.total_seconds())}


def use_refresh_token(conn, refresh):
    row = store.use_refresh_token(conn, _digest(refresh))
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
                    ids = store.closed_since(conn, ACCESS_TTL + timedelta(minutes=1))
                self._ids, self._read_at = frozenset(ids), time.monotonic()
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
