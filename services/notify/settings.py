"""Notify's configuration from the environment (short pauses in tests, real ones in production)."""
from datetime import timedelta

from services.common.config import env


def backoff():
    """(base, ceiling) seconds of the retry backoff of one channel."""
    base, _, ceiling = env("PALACE_NOTIFY_BACKOFF").partition(",")
    return float(base), float(ceiling or 900)


def max_attempts():
    return int(env("PALACE_NOTIFY_MAX_ATTEMPTS"))


def sms_url():
    return env("PALACE_NOTIFY_SMS_URL")


def sms_account():
    """(access key id, access key secret, sign name) of the Aliyun SMS account."""
    return env("PALACE_NOTIFY_SMS_KEY_ID"), env("PALACE_NOTIFY_SMS_KEY_SECRET"), env("PALACE_NOTIFY_SMS_SIGN_NAME")


def _named(text):
    """{name: value} from `NAME=VALUE,NAME=VALUE`."""
    pairs = (item.partition("=") for item in text.split(",") if item.strip())
    return {name.strip(): value.strip() for name, _, value in pairs}


def sms_templates():
    """{our template name: the code Aliyun approved it under}."""
    return _named(env("PALACE_NOTIFY_SMS_TEMPLATES"))


def wechat_app():
    """(app id, app secret) of the official account."""
    return env("PALACE_NOTIFY_WECHAT_APP_ID"), env("PALACE_NOTIFY_WECHAT_APP_SECRET")


def wechat_templates():
    """{our template name: the template id the official account added it under}."""
    return _named(env("PALACE_NOTIFY_WECHAT_TEMPLATES"))


def wechat_url():
    return env("PALACE_NOTIFY_WECHAT_URL")


def wechat_authorize_url():
    return env("PALACE_NOTIFY_WECHAT_AUTHORIZE_URL")


def wechat_callback_url():
    """The callback registered with the official account, '' to use the gateway's own address."""
    return env("PALACE_NOTIFY_WECHAT_CALLBACK_URL")


def wechat_state_seconds():
    return int(env("PALACE_NOTIFY_WECHAT_STATE_SECONDS"))


def smtp():
    """host:port of the mail relay, '' for none."""
    return env("PALACE_NOTIFY_SMTP")


def smtp_security():
    """`starttls`, `ssl` (implicit TLS) or `none` (a relay on this machine only)."""
    return env("PALACE_NOTIFY_SMTP_SECURITY").lower()


def smtp_login():
    """(user, password) for the relay, or None to send without logging in."""
    user = env("PALACE_NOTIFY_SMTP_USER")
    return (user, env("PALACE_NOTIFY_SMTP_PASSWORD")) if user else None


def smtp_ca():
    return env("PALACE_NOTIFY_SMTP_CA")


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


def member_gap():
    """The shortest time between two messages outside the app to one member (urgent ones excepted)."""
    return timedelta(seconds=float(env("PALACE_NOTIFY_MEMBER_GAP")))


def rates():
    """{channel: most sends a second} of each notify instance, from `sms=20,wechat=50`."""
    pairs = (item.partition("=") for item in env("PALACE_NOTIFY_RATES").split(",") if item.strip())
    return {channel.strip(): float(rate) for channel, _, rate in pairs}


def poll_interval():
    return float(env("PALACE_NOTIFY_POLL"))


def lease_seconds():
    return float(env("PALACE_NOTIFY_LEASE"))
