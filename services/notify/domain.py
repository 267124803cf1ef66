"""What a member is told, when and on which channel: pure rules, no I/O.

- who: the members an event names (`member_id` or `member_ids`); an event naming none goes to nobody;
- where: the inbox always keeps it; outside the app, the first channel of the member's list for the
  event's category that the member can be reached on, then the next one if that fails (WeChat -> SMS);
- when: at once, unless it falls in the member's quiet hours and is not urgent: then held till morning;
- how often: at most `daily_cap` messages outside the app per member and local day (urgent ones always go),
  and not in a burst: each at least `gap` after the one before it to the same member (urgent ones go at once);
- retries: exponential backoff with jitter; a 429, a 5xx or a broken connection is retried, any other
  answer is final, and after the last attempt the delivery fails and the next channel takes over.
"""
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.common.zone import HOME_ZONE_NAME

CATEGORIES = ("classes", "rooms", "welfare", "reminders")
CHANNELS = ("wechat", "sms", "email")  # outside the app, in the default order of preference
LANGUAGES = ("en", "zh-CN")
DEFAULT_LANGUAGE = "zh-CN"  # the palace's members read Chinese; English is a member's choice
URGENT_WITHIN = timedelta(hours=12)  # a change to something starting this soon cannot wait for morning
QUIET_HOURS = {"start": "22:00", "end": "08:00"}


def default_preferences(quiet_hours=None):
    return {
        "language": DEFAULT_LANGUAGE,
        "timezone": HOME_ZONE_NAME,
        "quiet_hours": dict(quiet_hours or QUIET_HOURS),
        "daily_cap": 10,
        "categories": {category: ["wechat", "sms"] for category in CATEGORIES},
    }


def merge_preferences(stored, change, quiet_hours=None):
    """The stored preferences (or the defaults, with these default quiet hours) with the fields of
    `change` laid over them; categories are replaced one by one, so a member can change one alone."""
    merged = default_preferences(quiet_hours)
    for source in (stored or {}, change or {}):
        for key, value in source.items():
            if key == "categories":
                merged["categories"] = {**merged["categories"], **value}
            else:
                merged[key] = value
    return merged


def chosen(stored, change, quiet_hours=None):
    """What a member's preferences row keeps after `change`: only what differs from the defaults
    (categories one by one). A value equal to a default is the default, not a choice: kept, it would
    pin the member to today's default once it changes, as English stayed with everyone who saved any
    setting while English was the default (the app sends the whole form, language included)."""
    defaults = default_preferences(quiet_hours)
    merged = merge_preferences(stored, change, quiet_hours)
    kept = {key: value for key, value in merged.items() if key != "categories" and value != defaults.get(key)}
    categories = {category: channels for category, channels in merged["categories"].items()
                  if channels != defaults["categories"].get(category)}
    if categories:
        kept["categories"] = categories
    return kept


# who


def recipients(payload):
    """The members an event concerns, each once, in the order given; none when it names nobody."""
    found = []
    single = payload.get("member_id")
    if single:
        found.append(single)
    many = payload.get("member_ids")
    if isinstance(many, (list, tuple)):
        found.extend(many)
    seen, members = set(), []
    for member in found:
        key = str(uuid.UUID(str(member)))  # a malformed id is a malformed event: ValueError
        if key not in seen:
            seen.add(key)
            members.append(key)
    return members


# where


def route(channels, contacts):
    """The channels to try in order: those the member chose for the category that have an address."""
    contacts = contacts or {}
    address = {"wechat": contacts.get("wechat_openid"), "sms": contacts.get("phone"),
               "email": contacts.get("email")}
    chosen = []
    for channel in channels or ():
        if channel in address and address[channel] and channel not in chosen:
            chosen.append(channel)
    return [(channel, address[channel]) for channel in chosen]


# when


def _clock(text):
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_release(now, quiet_hours, zone=HOME_ZONE_NAME):
    """When a non-urgent message may go: None when `now` is outside the quiet hours, else the end
    of this quiet period (the next `end` o'clock local time). Hours may wrap midnight (22:00-08:00);
    start == end means no quiet hours."""
    if not quiet_hours:
        return None
    start, end = _clock(quiet_hours["start"]), _clock(quiet_hours["end"])
    if start == end:
        return None
    local = now.astimezone(ZoneInfo(zone))
    clock = local.time().replace(tzinfo=None)
    if start < end:
        quiet = start <= clock < end
    else:
        quiet = clock >= start or clock < end
    if not quiet:
        return None
    release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if release <= local:
        release += timedelta(days=1)
    return release


def soonest_start(payload, fields=("starts_at", "new_starts_at", "session_starts_at", "deadline",
                                   "expires_at", "respond_by")):
    """The earliest zone-aware time among the payload's time fields, or None."""
    found = []
    for field in fields:
        value = payload.get(field)
        if not isinstance(value, str):
            continue
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            continue
        if moment.tzinfo is not None:
            found.append(moment)
    return min(found) if found else None


def is_urgent(urgency, payload, now):
    """`urgency` of the event type: "always", "never", or "if_soon" (urgent when what it is about
    starts within URGENT_WITHIN, e.g. a class cancelled tonight)."""
    if urgency == "always":
        return True
    if urgency == "if_soon":
        start = soonest_start(payload)
        return start is not None and now - timedelta(hours=1) <= start <= now + URGENT_WITHIN
    return False


def send_at(now, urgent, quiet_hours, zone=HOME_ZONE_NAME):
    """When a message outside the app goes: now, or held until the quiet hours end."""
    if urgent:
        return now
    return quiet_release(now, quiet_hours, zone) or now


def local_day(moment, zone=HOME_ZONE_NAME):
    """[start, end) of the local day holding `moment`, as aware datetimes."""
    local = moment.astimezone(ZoneInfo(zone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def paced(due, last_slot, gap, urgent):
    """When a message outside the app goes so that a member's phone does not get a burst: not before
    `gap` after the last message to them (`last_slot`: when it was due; None: none lately). Several
    events about one class (moved, then its room changed) or the morning's release of the quiet
    hours' messages would otherwise land in the same minute, and the SMS providers refuse a number
    more than one message a minute (Aliyun's default flow control, isv.BUSINESS_LIMIT_CONTROL).
    Urgent ones go when due: an offer that lapses tonight does not queue behind a routine message."""
    if urgent or not gap or last_slot is None:
        return due
    return max(due, last_slot + gap)


def within_cap(sent_today, daily_cap, urgent):
    """May one more message go out to this member today? Urgent ones always may."""
    if urgent or daily_cap is None:
        return True
    return sent_today < daily_cap


# retries


def backoff(attempt, base, ceiling, rand):
    """Pause before retry number `attempt` (1, 2, ...): base * 2**(attempt-1), at most `ceiling`,
    with "equal jitter": half fixed, half random (`rand` in [0, 1)), so retries of many
    deliveries spread out instead of hitting a recovering provider together."""
    step = min(ceiling, base * (2 ** (attempt - 1)))
    return step / 2 + step / 2 * rand


def retryable(status=None, error=None):
    """A 429, a 5xx or a broken connection may pass later; any other refusal will not."""
    if error is not None:
        return True
    return status == 429 or (status is not None and status >= 500)


def after_failure(attempts, max_attempts, can_retry, base, ceiling, rand):
    """("retry", seconds) or ("failed", None) after a failed attempt (attempts counts it)."""
    if can_retry and attempts < max_attempts:
        return "retry", backoff(attempts, base, ceiling, rand)
    return "failed", None


def next_channel(channels, failed):
    """The channel after `failed` in the member's order (None when it was the last)."""
    names = [channel for channel, _ in channels]
    if failed not in names:
        return None
    rest = channels[names.index(failed) + 1:]
    return rest[0] if rest else None


# reminders


def reminder_due(starts_at, lead, now):
    """When to remind of something starting at `starts_at`: `lead` before it, or now if that has
    passed; None when it has already started."""
    if starts_at <= now:
        return None
    return max(now, starts_at - lead)



def follows_of(rows):
    """What a member follows, as the API shows it, from their (kind, target) rows."""
    return {"categories": [r["target"] for r in rows if r["kind"] == "category"],
            "site_ids": [r["target"] for r in rows if r["kind"] == "site"]}
