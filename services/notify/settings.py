"""Notify's configuration from the environment (short pauses in tests, real ones in production)."""
from services.common.config import env


def backoff():
    """(base, ceiling) seconds of the retry backoff of one channel."""
    base, _, ceiling = env("PALACE_NOTIFY_BACKOFF").partition(",")
    return float(base), float(ceiling or 900)


def max_attempts():
    return int(env("PALACE_NOTIFY_MAX_ATTEMPTS"))


def sms_url():
    return env("PALACE_NOTIFY_SMS_URL")


def wechat_url():
    return env("PALACE_NOTIFY_WECHAT_URL")


def smtp():
    """host:port of the mail relay, '' for none."""
    return env("PALACE_NOTIFY_SMTP")


def mail_from():
    return env("PALACE_NOTIFY_MAIL_FROM")


def http_timeout():
    return float(env("PALACE_NOTIFY_HTTP_TIMEOUT"))


def reminder_lead_minutes():
    return int(env("PALACE_NOTIFY_REMINDER_LEAD_MINUTES"))


def quiet_hours():
    """The quiet hours a member has until they choose their own: `22:00-08:00` (Asia/Shanghai),
    or `off`."""
    start, _, end = env("PALACE_NOTIFY_QUIET_HOURS").partition("-")
    return {"start": start, "end": end} if end else {"start": "00:00", "end": "00:00"}  # equal: none


def poll_interval():
    return float(env("PALACE_NOTIFY_POLL"))


def lease_seconds():
    return float(env("PALACE_NOTIFY_LEASE"))
