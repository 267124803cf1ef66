"""What a part of the palace may believe of a message: the gateway signs the caller of each RPC, a
service signs its own calls and its events, all with PALACE_CONTEXT_KEY, which only the gateway and
the services hold (not the broker's users, not the database).

A signed context is nameko's context headers (`caller_id`, `caller_roles`, ...) plus `signed_by`
(the part that signed: the gateway, a service or `ops` tooling), `expires` (unix seconds) and
`signature`, an HMAC-SHA256 over all of them. A service answers an RPC whose context is unsigned,
tampered with or stale with Unauthorized, and one whose signer may not call that RPC (ALLOWED) with
Forbidden, before any of its code runs. An event carries the HMAC of its envelope; a consumer
dead-letters one that does not match.

One key for every part: it proves that a message was made inside the palace, and the allow-list
limits what each part may ask of another. A part holding the key could sign as another part;
keys per pair of parts would close that, at the price of a key ring in every container."""
import functools
import hashlib
import hmac
import json
import time

from cryptography.fernet import Fernet, InvalidToken
from nameko.extensions import DependencyProvider

from services.common import config
from services.common.errors import Forbidden, Invalid, Unauthorized

CALLER_FIELDS = ("caller_id", "caller_roles", "caller_unit", "caller_birth_date", "request_id", "idempotency_key")
SIGNED_BY, EXPIRES, SIGNATURE = "signed_by", "expires", "signature"
TTL = 60  # seconds a signed context is believed: a call chain lasts seconds (PALACE_RPC_TIMEOUT)
OPS = "ops"  # palace's own tooling (the palace command, tests acting as it)

# the RPCs that take calls from parts other than the gateway, and which parts; every other RPC takes
# the gateway's calls only (on behalf of its signed-in caller), and ANY_PART's any part's
ALLOWED = {
    "venues.get_room": {"gateway", "enrolment", "welfare"},
    "venues.availability": {"gateway", "enrolment"},
    "venues.list_calendar": {"gateway", "enrolment"},  # classes follow the working calendar (调休)
    "venues.reserve_series": {"enrolment", "welfare"},
    "venues.release_series": {"enrolment", "welfare"},
    "venues.release_no_shows": {OPS},
    "gateway.staff": {"notify"},  # whom a staff alert goes to (gateway/feed.py)
    "enrolment.regenerate_timetables": {OPS},  # palace courses regenerate
    "notify.failed_deliveries": {"gateway", OPS},
    "notify.replay_delivery": {"gateway", OPS},
}
ANY_PART = {"ping", "stats"}
GATEWAY_ONLY = frozenset({"gateway"})


def key(secret=None):
    """The shared key (bytes); a missing or short one stops the part that needs it, with the reason."""
    return _checked(secret if secret is not None else config.env("PALACE_CONTEXT_KEY"))


@functools.lru_cache(maxsize=8)
def _checked(value):
    return config.checked_secret("PALACE_CONTEXT_KEY", value, 32, "the same in the gateway and every service"
                                 " (python -c 'import secrets;print(secrets.token_urlsafe(32))')").encode()


class CheckedAtStart(DependencyProvider):
    """Runs `check` (one that raises, e.g. code_key) as the service starts: a secret it lacks, or one
    that is a placeholder, stops the service there with the reason, not at the first message that
    needs it."""

    def __init__(self, check):
        self.check = check

    def setup(self):
        self.check()


SIGNED_FIELDS = (*CALLER_FIELDS, SIGNED_BY, EXPIRES)


def _mac(kind, fields, secret):
    """HMAC-SHA256 of `fields` as canonical JSON: a context's in SIGNED_FIELDS order (a list: half
    the cost of sorting keys, on every call), an event's with sorted keys (PostgreSQL's jsonb, which
    the outbox keeps, does not keep their order)."""
    if kind == "context":
        fields = [fields[name] for name in SIGNED_FIELDS]
    text = json.dumps([kind, fields], sort_keys=kind != "context", separators=(",", ":"), ensure_ascii=False)
    return hmac.digest(key(secret), text.encode(), hashlib.sha256).hex()


def _fields(data):
    return {name: str(data.get(name) or "") for name in SIGNED_FIELDS}


# RPC

def sign(context, part, ttl=TTL, secret=None, expires=None):
    """nameko context data for a call that `part` makes: the caller fields of `context` (the caller's
    id, roles, unit, birth date, request id and idempotency key; any may be missing), signed."""
    fields = _fields({**{n: context.get(n) for n in CALLER_FIELDS}, SIGNED_BY: part,
                      EXPIRES: int(expires if expires is not None else time.time() + ttl)})
    fields[SIGNATURE] = _mac("context", fields, secret)
    return fields


def verify(data, secret=None):
    """The signed fields of nameko context data, or Unauthorized: unsigned, tampered with or stale."""
    signature = data.get(SIGNATURE)
    if not isinstance(signature, str) or not signature:
        raise Unauthorized("the call carries no signed context", "context-unsigned")
    fields = _fields(data)
    if not hmac.compare_digest(signature, _mac("context", fields, secret)):
        raise Unauthorized("the call's signed context does not match its signature", "context-tampered")
    if not fields[EXPIRES].isdigit() or int(fields[EXPIRES]) < time.time():
        raise Unauthorized("the call's signed context has expired", "context-stale")
    return fields


def admit(service, method, data):
    """The signed fields of a call to `service.method`, if its signer may make it; else the error."""
    fields = verify(data)
    part = fields[SIGNED_BY]
    if method not in ANY_PART and part not in ALLOWED.get(f"{service}.{method}", GATEWAY_ONLY):
        raise Forbidden(f"{part} may not call {service}.{method}", "caller-not-allowed")
    return fields


def onward(data, part):
    """The context of a call that `part` makes while it serves `data`: the caller it serves, if that
    came signed and is still fresh (until the same expiry), else `part` alone (a timer, an event)."""
    try:
        fields = verify(data)
    except Unauthorized:
        return sign({"request_id": data.get("request_id")}, part)  # the id only names log lines
    return sign(fields, part, expires=int(fields[EXPIRES]))


# events

def _event_fields(event):
    return {name: event.get(name) for name in ("event_id", "event_type", "occurred_at", "version", "payload")}


def sign_event(event, secret=None):
    """The envelope with the producing part's signature over everything it says."""
    return {**event, SIGNATURE: _mac("event", _event_fields(event), secret)}


def check_event(event, secret=None):
    """Raise Invalid (the handler dead-letters it with the reason) for an unsigned or tampered event."""
    signature = event.get(SIGNATURE) if isinstance(event, dict) else None
    if not isinstance(signature, str) or not signature:
        raise Invalid("the event is not signed by a part of the palace", "event-unsigned",
                      {SIGNATURE: ["missing"]})
    if not hmac.compare_digest(signature, _mac("event", _event_fields(event), secret)):
        raise Invalid("the event does not match its signature", "event-tampered", {SIGNATURE: ["does not match"]})


# reset codes: sealed by the gateway for notify alone

FERNET_ADVICE = ("a Fernet key (32 random bytes, urlsafe base64: python -c 'import base64,os;"
                 "print(base64.urlsafe_b64encode(os.urandom(32)).decode())'), the same in the gateway and notify")

def code_key(secret=None):
    value = secret if secret is not None else config.env("PALACE_RESET_CODE_KEY")
    config.checked_secret("PALACE_RESET_CODE_KEY", value, 44, FERNET_ADVICE)
    try:
        return Fernet(value)
    except (ValueError, TypeError):
        raise RuntimeError("PALACE_RESET_CODE_KEY must be a Fernet key (32 random bytes, urlsafe base64),"
                           " the same in the gateway and notify") from None


def seal_code(code, secret=None):
    """The code as only notify can read it (AES-128-CBC + HMAC, cryptography's Fernet)."""
    return code_key(secret).encrypt(code.encode()).decode()


def open_code(sealed, secret=None):
    try:
        return code_key(secret).decrypt(sealed.encode()).decode()
    except (InvalidToken, AttributeError, UnicodeError) as exc:
        raise Invalid("the sealed reset code cannot be opened", "code-sealed-badly",
                      {"code_sealed": ["not sealed with this palace's key"]}) from exc
