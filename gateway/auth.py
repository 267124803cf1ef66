"""Accounts, passwords and tokens. Passwords are argon2 hashes; access tokens are short-lived
signed JWTs carrying the caller's id, roles and unit; refresh tokens are opaque, stored hashed,
and rotated on every use."""
import contextlib
import dataclasses
import hashlib
import logging
import secrets
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import falcon
import jwt
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from gateway import store
from gateway.problems import Problem
from services.common import config
from services.common.context import Caller
from services.common.roles import ADMIN, MEMBER

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
RESET_TTL = timedelta(minutes=15)
RESET_ATTEMPTS = 5
RESET_DIGITS = 8
ISSUER = config.env("PALACE_TOKEN_ISSUER")
AUDIENCE = config.env("PALACE_TOKEN_AUDIENCE")

log = logging.getLogger(__name__)


def password_hasher(choice):
    """argon2's default (64 MiB, 3 passes: 0.3-0.4 s of a core per hash), or, for test and benchmark
    stacks only, which open thousands of accounts, its cheapest profile (PALACE_PASSWORD_HASHING=cheapest).
    Hashes carry their own parameters, so either verifies the other's."""
    if choice == "standard":
        return PasswordHasher()
    if choice == "cheapest":
        log.warning("PALACE_PASSWORD_HASHING=cheapest: passwords are hashed for tests, not for members")
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    raise ValueError(f"PALACE_PASSWORD_HASHING is standard or cheapest, not {choice!r}")


_hasher = password_hasher(config.env("PALACE_PASSWORD_HASHING"))
_dummy_hash = _hasher.hash("not a password")  # verify against it so unknown phones cost the same

# Each argon2 hash or check takes 64 MiB and a core for tens of milliseconds: a process does at most
# ARGON2_SLOTS at once (more would not go faster on the gateway's two cores, and 16 threads each
# hashing would need 1 GiB, the container's whole limit), and a request that cannot get a slot within ARGON2_WAIT seconds is told to come
# back (503) instead of piling up threads and memory.
ARGON2_SLOTS = int(config.env("PALACE_ARGON2_SLOTS"))
ARGON2_WAIT = float(config.env("PALACE_ARGON2_WAIT"))
_argon2_slots = threading.BoundedSemaphore(ARGON2_SLOTS)


@contextlib.contextmanager
def _argon2_slot():
    if not _argon2_slots.acquire(timeout=ARGON2_WAIT):
        raise Problem(503, "busy", "too many sign-ins at once: try again in a few seconds",
                      headers={"Retry-After": "5"})
    try:
        yield
    finally:
        _argon2_slots.release()


def hash_secret(text):
    with _argon2_slot():
        return _hasher.hash(text)


def matches(stored_hash, text):
    """Whether `text` is what `stored_hash` was made from."""
    with _argon2_slot():
        try:
            return _hasher.verify(stored_hash, text)
        except (VerificationError, InvalidHashError):  # an account made for tests has no real hash
            return False


def checked_token_secret(secret):
    return config.checked_secret("PALACE_TOKEN_SECRET", secret, 32,
                                 "(python -c 'import secrets;print(secrets.token_urlsafe(32))'), or unset")


def token_secret(db):
    """PALACE_TOKEN_SECRET when set; else a random key made once and kept in the gateway database."""
    secret = config.env("PALACE_TOKEN_SECRET")
    if secret:
        return checked_token_secret(secret)
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


def create_account(conn, phone, name, password, roles=(MEMBER,), unit_id=None, birth_date=None, id_last4=None):
    return store.insert_account(conn, phone, name, hash_secret(password), roles, unit_id, birth_date, id_last4)


def open_for_walk_in(conn, clerk_id, phone, name, birth_date=None, id_last4=None):
    """A member account opened at the counter by the clerk. Its password is a random secret nobody is
    told, so it signs in like any wrong password until the member sets their own with a reset code."""
    account = create_account(conn, phone, name, secrets.token_urlsafe(32), (MEMBER,), None, birth_date, id_last4)
    store.note_opened_by(conn, account["id"], clerk_id)
    return account


def ensure_admin(db, phone, password):
    """Make sure the bootstrap admin exists (PALACE_ADMIN_PHONE / PALACE_ADMIN_PASSWORD)."""
    with db.transaction() as conn:
        store.insert_account_unless_taken(conn, phone, "Administrator", hash_secret(password), [ADMIN])


def register(conn, phone, name, password, birth_date=None, id_last4=None):
    """A member account for this phone. A phone already registered gets the same answer as a new one
    (an account-like body that is not stored, after the same hashing), so registering does not tell a
    stranger who is a member; the real owner then fails to sign in with the new password, and the
    member app points them to signing in or resetting. Returns the account and whether it is new."""
    password_hash = hash_secret(password)
    row = store.insert_account_unless_taken(conn, phone, name, password_hash, [MEMBER], birth_date, id_last4)
    if row is None:
        return {"id": uuid.uuid4(), "phone": phone, "name": name, "roles": [MEMBER], "unit_id": None,
                "birth_date": birth_date, "id_last4": id_last4, "created_at": datetime.now(timezone.utc)}, False
    return row, True


def check_password(conn, phone, password):
    row = store.sign_in_row(conn, phone)
    if not matches(row["password_hash"] if row else _dummy_hash, password) or row is None:
        raise Problem(401, "bad-credentials", "the phone number or the password is wrong")
    return row


def change_password(conn, account_id, current, new):
    stored = store.password_hash(conn, account_id)
    if stored is None:
        raise Problem(401, "account-gone", "this account no longer exists")
    if not matches(stored, current):
        raise Problem(422, "validation-failed", "the current password is wrong",
                      {"current_password": ["is wrong"]})
    return set_password(conn, account_id, new)


def set_password(conn, account_id, new):
    """A new password signs the account out everywhere: every refresh token stops working, and every
    access token issued before it within SignedOut.REFRESH seconds. Returns the account's sign-in row."""
    row = store.set_password_hash(conn, account_id, hash_secret(new))
    store.revoke_refresh_tokens(conn, account_id)
    return row


def new_reset_code(conn, account_id):
    """An 8-digit code valid for RESET_TTL; earlier live codes of the account stop working."""
    code = _reset_code()
    expires_at = store.replace_reset_code(conn, account_id, hash_secret(code), datetime.now(timezone.utc) + RESET_TTL)
    return {"code": code, "expires_at": expires_at}


def no_reset_code():
    """The work of new_reset_code for a phone with no account (a code made and hashed, then dropped),
    so a request for an unknown phone takes as long as one for a member's."""
    hash_secret(_reset_code())


def _reset_code():
    return f"{secrets.randbelow(10**RESET_DIGITS):0{RESET_DIGITS}d}"


def use_reset_code(conn, phone, code, new_password):
    """Set the password if `code` is the account's live code; a code allows RESET_ATTEMPTS guesses.
    Every answer costs one argon2 check, so a wrong phone is not told apart by its speed."""
    row = store.live_reset_code(conn, phone)
    if not _code_spent(conn, row, code, store.count_reset_attempt, store.spend_reset_code):
        return False
    set_password(conn, row["account_id"], new_password)
    return True


def _code_spent(conn, row, code, count_attempt, spend):
    """Whether `code` matches the live code `row` (a reset's or a phone change's) with guesses left;
    a wrong one counts a guess, a right one is spent. One argon2 check either way, also without a row."""
    usable = row is not None and row["attempts"] < RESET_ATTEMPTS
    if not matches(row["code_hash"] if usable else _dummy_hash, code) or not usable:
        if usable:
            count_attempt(conn, row["id"])
        return False
    spend(conn, row["id"])
    return True


def new_phone_code(conn, account_id, phone):
    """An 8-digit code for moving the account to `phone`, valid for RESET_TTL."""
    code = _reset_code()
    expires_at = store.replace_phone_change(conn, account_id, phone, hash_secret(code),
                                            datetime.now(timezone.utc) + RESET_TTL)
    return {"code": code, "expires_at": expires_at}


def use_phone_code(conn, account_id, phone, code):
    """The account moved to `phone` if `code` is its live code for it (RESET_ATTEMPTS guesses), else None."""
    row = store.live_phone_change(conn, account_id, phone)
    if not _code_spent(conn, row, code, store.count_phone_change_attempt, store.spend_phone_change):
        return None
    return store.set_phone(conn, account_id, phone)


def access_token(secret, account_row, now=None):
    """The signed access token: who (sub, roles, unit), which generation of the account's password
    (gen: a new password makes older tokens void), and for whom (aud) by whom (iss)."""
    now = now or datetime.now(timezone.utc)
    claims = {
        "sub": str(account_row["id"]), "roles": list(account_row["roles"]),
        "unit": str(account_row["unit_id"]) if account_row["unit_id"] else None,
        "gen": account_row.get("token_generation", 0),
        "iat": now, "exp": now + ACCESS_TTL, "typ": "access", "iss": ISSUER, "aud": AUDIENCE,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def issue_tokens(conn, secret, account_row, chain=None):
    """An access token and a refresh token; `chain` is the sign-in the refresh token continues (a new
    chain starts at each sign-in with the password)."""
    now = datetime.now(timezone.utc)
    refresh = secrets.token_urlsafe(32)
    store.insert_refresh_token(conn, _digest(refresh), account_row["id"], now + REFRESH_TTL, chain or uuid.uuid4())
    return {"access_token": access_token(secret, account_row, now), "refresh_token": refresh,
            "token_type": "Bearer", "expires_in": int(ACCESS_TTL.total_seconds())}


def refresh(db, secret, token):
    """New tokens for a live refresh token. A token spent already means two holders: the member and a
    thief who copied it, and we cannot tell which is which. So the whole chain of that sign-in ends
    (the newest token too): the member signs in again, the thief cannot."""
    digest = _digest(token)
    with db.transaction() as conn:
        row = store.use_refresh_token(conn, digest)
        if row is not None:
            return issue_tokens(conn, secret, row, row["chain"])
        ended = store.end_chain_of_spent(conn, digest)
    raise Problem(401, "bad-refresh-token", "the refresh token was used already: sign in again" if ended
                  else "the refresh token is unknown, used or expired")


def read_access_token(secret, token):
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "aud", "iss"]})
    except jwt.PyJWTError as exc:
        raise Problem(401, "bad-token", f"the access token is not valid: {exc}",
                      headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    if claims.get("typ") != "access":
        raise Problem(401, "bad-token", "not an access token")
    caller = Caller(id=claims["sub"], roles=frozenset(claims.get("roles") or ()), unit=claims.get("unit"),
                    request_id=None, idempotency_key=None)
    return caller, claims.get("gen", 0)


class SignedOut:
    """Accounts whose access tokens may still be unexpired but must stop working: closed accounts (all
    their tokens) and accounts with a new password (tokens of an older generation). Re-read every
    REFRESH seconds by each gateway process, so such a token stops working within that time."""

    REFRESH = 2.0
    CLOSED = float("inf")  # the generation a closed account's tokens would need: none has it

    def __init__(self, db):
        self.db, self._generations, self._read_at = db, {}, float("-inf")
        self._lock = threading.Lock()

    def refusal(self, account_id, generation):
        """None when a token of this account and generation still works; else why not."""
        if time.monotonic() - self._read_at > self.REFRESH and self._lock.acquire(blocking=False):
            try:
                with self.db.transaction() as conn:
                    rows = store.signed_out_since(conn, ACCESS_TTL + timedelta(minutes=1))
                self._generations = {r["id"]: self.CLOSED if r["closed"] else r["generation"] for r in rows}
                self._read_at = time.monotonic()
            finally:
                self._lock.release()
        current = self._generations.get(account_id)
        if current is None or generation >= current:
            return None
        if current == self.CLOSED:
            return Problem(401, "account-closed", "this account has been closed",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return Problem(401, "signed-out", "the password was changed since this token was issued: sign in again",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


ANONYMOUS = Caller(id=None, roles=frozenset(), unit=None, request_id=None, idempotency_key=None)


def caller(req, idempotency_key=None, birth_date=None):
    """The RPC context for this request: who calls, and under which request id (with the account's
    birth date, read from the database, for the calls that check an age)."""
    return dataclasses.replace(req.context.account or ANONYMOUS, request_id=req.context.request_id,
                               idempotency_key=idempotency_key,
                               birth_date=birth_date.isoformat() if birth_date else None).to_context()


def as_member(req, member_id):
    """The RPC context of a member who is not signed in but holds their calendar feed's secret address:
    they read their own class sessions for the feed, and nothing else is asked with it."""
    return dataclasses.replace(ANONYMOUS, id=member_id, roles=frozenset({MEMBER}),
                               request_id=req.context.request_id).to_context()


def require(*roles):
    """A falcon hook: the route needs a signed-in caller, holding one of `roles` if given."""

    def hook(req, resp, resource, params):
        (req.context.account or ANONYMOUS).require(*roles)

    return falcon.before(hook)


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()
