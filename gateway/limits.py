"""Rate limits counted in the gateway's database, so every gateway process shares them.

A fixed window per key: one upsert answers how many hits the window has seen so far. Windows
that have ended are swept away now and then by the gateway-feed process (gateway/feed.py)."""
import ipaddress
import time
from dataclasses import dataclass

from gateway.problems import Problem
from services.common import config


@dataclass(frozen=True)
class Limit:
    name: str
    hits: int
    seconds: int

    @classmethod
    def from_env(cls, name, variable):
        """`PALACE_..._LIMIT=hits/seconds`, e.g. 5/900: five hits per 15 minutes."""
        hits, _, seconds = config.env(variable).partition("/")
        return cls(name, int(hits), int(seconds))

    def window(self, now=None):
        now = time.time() if now is None else now
        start = int(now // self.seconds) * self.seconds
        return start, int(start + self.seconds - now) + 1


FAILED_SIGN_INS_PER_PHONE = Limit.from_env("sign-in-phone", "PALACE_SIGNIN_PHONE_LIMIT")
FAILED_SIGN_INS_PER_ADDRESS = Limit.from_env("sign-in-address", "PALACE_SIGNIN_ADDRESS_LIMIT")
ENROLMENTS_PER_MEMBER = Limit.from_env("enrol", "PALACE_ENROL_LIMIT")
# every registration costs an argon2 hash (64 MiB, tens of ms) and makes an account
REGISTERS_PER_ADDRESS = Limit.from_env("register-address", "PALACE_REGISTER_ADDRESS_LIMIT")
# a reset request sends an SMS (the union pays for it) and a code that can be guessed: limited per
# phone, per address and for the whole palace, on request and on confirm alike
RESETS_PER_PHONE = Limit.from_env("reset-phone", "PALACE_RESET_PHONE_LIMIT")
RESETS_PER_ADDRESS = Limit.from_env("reset-address", "PALACE_RESET_ADDRESS_LIMIT")
RESETS_OVERALL = Limit.from_env("reset-all", "PALACE_RESET_GLOBAL_LIMIT")
RESET_CONFIRMS_PER_PHONE = Limit.from_env("reset-confirm-phone", "PALACE_RESET_CONFIRM_PHONE_LIMIT")
RESET_CONFIRMS_PER_ADDRESS = Limit.from_env("reset-confirm-address", "PALACE_RESET_CONFIRM_ADDRESS_LIMIT")
RESET_CONFIRMS_OVERALL = Limit.from_env("reset-confirm-all", "PALACE_RESET_CONFIRM_GLOBAL_LIMIT")
# a check-in code has 6 digits and stays open 13 hours: unlimited tries would find it
WRONG_CHECKIN_CODES = Limit.from_env("checkin-code", "PALACE_CHECKIN_CODE_LIMIT")
LIMITS = (FAILED_SIGN_INS_PER_PHONE, FAILED_SIGN_INS_PER_ADDRESS, ENROLMENTS_PER_MEMBER, REGISTERS_PER_ADDRESS,
          RESETS_PER_PHONE, RESETS_PER_ADDRESS, RESETS_OVERALL, RESET_CONFIRMS_PER_PHONE,
          RESET_CONFIRMS_PER_ADDRESS, RESET_CONFIRMS_OVERALL, WRONG_CHECKIN_CODES)
EVERYONE = "all"  # the key of a limit counted for the whole palace
SWEEP_SECONDS = float(config.env("PALACE_RATE_LIMIT_SWEEP"))


def count(conn, limit, key, add=1):
    """Add `add` hits to this window of `key` and return the window's total."""
    start, _ = limit.window()
    return conn.execute(
        "INSERT INTO rate_limits (key, window_start, hits) VALUES (%s, to_timestamp(%s), %s)"
        " ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + excluded.hits"
        " RETURNING hits", (f"{limit.name}:{key}", start, add)).fetchone()["hits"]


def check(conn, limit, key, add=1, what="requests"):
    """Count a hit and refuse with 429 once the window is full."""
    if count(conn, limit, key, add) > limit.hits:
        refuse(limit, what)


def check_all(conn, keys, what="requests"):
    """Count a hit on each (limit, key) in turn, stopping at the first that is full: a caller refused
    by the phone's window does not use up the address's."""
    for limit, key in keys:
        check(conn, limit, key, what=what)


def give_back(conn, limit, key):
    """Take back one hit of this window of `key` (an attempt that turned out not to count). Nothing
    when the window has ended meanwhile: a new window never starts below zero."""
    start, _ = limit.window()
    conn.execute("UPDATE rate_limits SET hits = hits - 1 WHERE key = %s AND window_start = to_timestamp(%s)"
                 " AND hits > 0", (f"{limit.name}:{key}", start))


def forget(conn, limit, key):
    """Empty every window of `key` (a reset proved the owner: their failed sign-ins no longer count)."""
    conn.execute("DELETE FROM rate_limits WHERE key = %s", (f"{limit.name}:{key}",))


def refuse(limit, what):
    _, retry_after = limit.window()
    raise Problem(429, "rate-limited", f"too many {what}: try again in {retry_after} s",
                  headers={"Retry-After": str(retry_after)})


def forget_old(conn):
    """Drop the windows that have ended: older than the longest window, none can count again.
    Returns how many went."""
    longest = max(limit.seconds for limit in LIMITS)
    return conn.execute(  # a bounded batch: a backlog goes over the next sweeps, no lock held for long
        "DELETE FROM rate_limits WHERE ctid = ANY(ARRAY(SELECT ctid FROM rate_limits"
        " WHERE window_start < now() - make_interval(secs => %s) LIMIT %s))",
        (longest, int(config.env("PALACE_RETENTION_BATCH")))).rowcount


def trusted_proxies(text):
    """PALACE_TRUSTED_PROXIES: addresses or networks (CIDR), separated by commas or spaces."""
    return tuple(ipaddress.ip_network(part, strict=False) for part in text.replace(",", " ").split())


TRUSTED_PROXIES = trusted_proxies(config.env("PALACE_TRUSTED_PROXIES"))


def client_address(req, trusted=None):
    """Whose request this is, for the limits counted per address. The direct peer, unless it is one of
    our trusted proxies: then the hops they recorded (Forwarded, else X-Forwarded-For) are read from the
    right, and the first address no trusted proxy holds is the client's. Anyone can write the left
    part of these headers, so only what our own proxies appended counts."""
    trusted = TRUSTED_PROXIES if trusted is None else trusted
    peer = req.remote_addr
    if not _is_trusted(peer, trusted):
        return peer
    for hop in reversed(_hops(req)):
        if not _is_trusted(hop, trusted):
            return hop
    return peer


def _hops(req):
    forwarded = req.get_header("Forwarded")
    if forwarded:
        hops = []
        for element in forwarded.split(","):
            for pair in element.split(";"):
                name, _, value = pair.strip().partition("=")
                if name.lower() == "for":
                    hops.append(_bare(value.strip().strip('"')))
        return hops
    return [_bare(hop.strip()) for hop in (req.get_header("X-Forwarded-For") or "").split(",") if hop.strip()]


def _bare(address):
    """An address without its port or brackets: [2001:db8::1]:443 -> 2001:db8::1, 1.2.3.4:80 -> 1.2.3.4."""
    if address.startswith("["):
        return address[1:].partition("]")[0]
    return address.partition(":")[0] if address.count(":") == 1 else address


def _is_trusted(address, trusted):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # "unknown", an obfuscated identifier, garbage: never a proxy of ours
        return False
    return any(ip in network for network in trusted)
