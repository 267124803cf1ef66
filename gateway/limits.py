"""Rate limits counted in the gateway's database, so every gateway process shares them.

A fixed window per key: one upsert answers how many hits the window has seen so far. Windows
that have ended are swept away now and then by the gateway-feed process (gateway/feed.py)."""
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
    def from_env(cls, name, variable, default):
        """`PALACE_..._LIMIT=hits/seconds`, e.g. 5/900: five hits per 15 minutes."""
        hits, _, seconds = config.env(variable, default).partition("/")
        return cls(name, int(hits), int(seconds))

    def window(self, now=None):
        now = time.time() if now is None else now
        start = int(now // self.seconds) * self.seconds
        return start, int(start + self.seconds - now) + 1


FAILED_SIGN_INS_PER_PHONE = Limit.from_env("sign-in-phone", "PALACE_SIGNIN_PHONE_LIMIT", "5/900")
FAILED_SIGN_INS_PER_ADDRESS = Limit.from_env("sign-in-address", "PALACE_SIGNIN_ADDRESS_LIMIT", "30/900")
ENROLMENTS_PER_MEMBER = Limit.from_env("enrol", "PALACE_ENROL_LIMIT", "10/60")
RESETS_PER_PHONE = Limit.from_env("reset-phone", "PALACE_RESET_PHONE_LIMIT", "3/3600")
# a check-in code has 6 digits and stays open 13 hours: unlimited tries would find it
WRONG_CHECKIN_CODES = Limit.from_env("checkin-code", "PALACE_CHECKIN_CODE_LIMIT", "5/900")
LIMITS = (FAILED_SIGN_INS_PER_PHONE, FAILED_SIGN_INS_PER_ADDRESS, ENROLMENTS_PER_MEMBER, RESETS_PER_PHONE,
          WRONG_CHECKIN_CODES)
SWEEP_SECONDS = float(config.env("PALACE_RATE_LIMIT_SWEEP", "300"))


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


def refuse(limit, what):
    _, retry_after = limit.window()
    raise Problem(429, "rate-limited", f"too many {what}: try again in {retry_after} s",
                  headers={"Retry-After": str(retry_after)})


def forget_old(conn):
    """Drop the windows that have ended: older than the longest window, none can count again.
    Returns how many went."""
    longest = max(limit.seconds for limit in LIMITS)
    return conn.execute("DELETE FROM rate_limits WHERE window_start < now() - make_interval(secs => %s)",
                        (longest,)).rowcount
