"""From an event to inbox entries, scheduled reminders and deliveries, inside the handler's
transaction (so a redelivered event, skipped by the reliable handler, sends nothing twice)."""
import uuid
from datetime import datetime, timedelta, timezone

from services.common import closed_accounts
from services.common.errors import Invalid
from services.common.zone import HOME_ZONE_NAME
from services.notify import domain, settings, store, templates

REMINDER_TYPE = "notify.reminder"
REMINDER_IDS = uuid.UUID("6b7c2a5e-2f44-4c8e-9a51-2d0d3c1b7f00")  # namespace of reminder event ids
ALERT_IDS = uuid.UUID("1f3e5d7c-9b2a-4c6e-8f10-3a5b7c9d1e20")  # namespace of staff alert ids


def _moment(value):
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def check(event):
    """Refuse, before any work, an event notify cannot handle (it is dead-lettered with the reason).
    Returns the members its own message goes to (none for an event that only alerts staff)."""
    event_type = event["event_type"]
    if not templates.known(event_type) and event_type not in templates.ALERTS:
        raise Invalid(f"no message for {event_type}", errors={"event_type": ["has no template"]})
    try:
        _, _, field = templates.ALERTS.get(event_type, (None, None, None))
        if field and event["payload"].get(field) is not None:
            [_] = domain.recipients({"member_id": event["payload"][field]})
        return domain.recipients(event["payload"]) if templates.known(event_type) else []
    except (ValueError, TypeError, AttributeError) as exc:
        raise Invalid(f"bad member id in {event_type}: {exc}", errors={"member_id": ["not a uuid"]}) from exc


def alerts(events, staff):
    """(alert event, member of staff) for the events that mean work for staff: the alert is an event
    of its own (its id derived from the event's, so a redelivery tells nobody twice), with the
    event's payload. `staff(roles)` gives the ids of the accounts holding any of `roles`."""
    holders, found = {}, []
    for event in events:
        if event["event_type"] not in templates.ALERTS:
            continue
        alert_type, roles, field = templates.ALERTS[event["event_type"]]
        if roles and roles not in holders:
            holders[roles] = list(staff(roles))
        named = [event["payload"].get(field)] if field and event["payload"].get(field) else []
        told = domain.recipients({"member_ids": named + holders.get(roles, [])})  # each once
        alert = {**event, "event_type": alert_type,
                 "event_id": str(uuid.uuid5(ALERT_IDS, f"{event['event_id']}:{alert_type}"))}
        found.extend((alert, member) for member in told)
    return found


def announced(conn, events):
    """The events with each newly published course's announcement addressed to the members following
    its category or its site: once per course (a course published again, or the event redelivered,
    tells nobody twice); a course no one follows tells nobody."""
    kept = []
    for event in events:
        if event["event_type"] != "enrolment.course_published":
            kept.append(event)
            continue
        payload = event["payload"]
        course = payload.get("course") or {}
        try:
            course_id = str(uuid.UUID(str(payload.get("course_id"))))
        except ValueError as exc:
            raise Invalid("a published course needs its id", errors={"course_id": ["not a uuid"]}) from exc
        if not store.announce_once(conn, course_id):
            continue
        followers = store.followers(conn, [("category", (course.get("category") or "").strip()),
                                           ("site", course.get("site_id"))])
        kept.append({**event, "payload": {**payload, "member_ids": followers, "course_title": payload.get("title"),
                                          "category": course.get("category")}})
    return kept


def tell_many(conn, events, now=None, staff=None):
    """Inbox entries, reminders and deliveries for a group of events (and the staff alerts they
    mean, `staff` as in alerts()), with a handful of statements whatever the group's size. Raises
    Invalid for an event it has no message for."""
    now = now or datetime.now(timezone.utc)
    told = [(event, check(event)) for event in events]
    staffed = alerts(events, staff or _nobody)
    closed = _closed(conn, [m for _, members in told for m in members] + [m for _, m in staffed])
    work = []
    for event, members in told:
        members = [m for m in members if m not in closed]
        _reminders(conn, event["event_type"], event["payload"], members, now)
        if event["event_type"] != "enrolment.session_upcoming":  # told by its reminder, `lead` before
            work.extend((event, member) for member in members)
    work.extend((alert, member) for alert, member in staffed if member not in closed)
    if not work:
        return 0
    people = store.people(conn, sorted({member for _, member in work}))
    entries, deliveries = [], []
    for event, member in work:
        person = people.get(member) or {}
        prefs = domain.merge_preferences(person.get("settings"), None, settings.quiet_hours())
        rendered = templates.render(event["event_type"], event["payload"], prefs["language"], member)
        event_at = event.get("occurred_at") or now
        entries.append((member, str(event["event_id"]), event["event_type"], rendered["title"], rendered["body"],
                        event_at))
        channels = domain.route(prefs["categories"].get(rendered["category"], []), person)
        if channels:
            deliveries.append((member, event, prefs, rendered, channels, event_at))
    store.add_inbox_entries(conn, entries)
    for member, event, prefs, rendered, channels, event_at in sorted(deliveries, key=lambda d: d[0]):
        _deliver(conn, member, event, prefs, rendered, channels, event_at, now)
    return len(work)


def _nobody(roles):
    return []


def _closed(conn, members):
    """The closed accounts among these members, asked under their locks: an erasure running beside
    this transaction either is seen here or waits for it, and then deletes what it wrote."""
    if not members:
        return set()
    store.lock_members(conn, members)
    return closed_accounts.among(conn, set(members))


LATELY = timedelta(days=1)  # a member's last message further back than this paces nothing


def _deliver(conn, member_id, event, prefs, rendered, channels, event_at, now):
    """The first delivery of a message outside the app: now, held for the quiet hours or a gap after
    the member's last one (domain.paced), or skipped over the daily cap (counted under a lock of the
    member, so racing events cannot exceed it)."""
    urgent = domain.is_urgent(rendered["urgency"], event["payload"], now)
    store.lock_member(conn, member_id)
    zone = prefs.get("timezone") or HOME_ZONE_NAME
    day_start, day_end = domain.local_day(now, zone)
    sent, slot = store.lately(conn, member_id, day_start, day_end, now - LATELY)
    allowed = domain.within_cap(sent, prefs.get("daily_cap"), urgent)
    # paced under the same lock: racing events for one member take turns, a gap apart
    due = domain.paced(domain.send_at(now, urgent, prefs.get("quiet_hours"), zone), slot, settings.member_gap(), urgent)
    channel, address = channels[0]
    return store.add_delivery(conn, {
        "member_id": member_id, "event_id": event["event_id"], "event_type": event["event_type"],
        "category": rendered["category"], "urgent": urgent, "channel": channel, "address": address,
        "language": prefs["language"], "title": rendered["title"], "body": rendered["body"],
        "rendered": rendered, "route": [list(c) for c in channels],
        "state": "skipped" if not allowed else ("held" if due > now else "pending"),
        "last_error": None if allowed else "over the member's daily cap",
        "next_attempt_at": due, "event_at": event_at,
    })


HIDDEN_CODE = "********"


def send_code(conn, event, now=None):
    """A password reset code goes by SMS to the phone the account signs in with, at once, and
    nowhere else: not the inbox (whoever needs the code cannot sign in), not another channel."""
    payload = event["payload"]
    if not isinstance(payload.get("phone"), str) or not isinstance(payload.get("code_sealed"), str):
        raise Invalid("a reset code event needs the phone and the sealed code",
                      errors={"payload": ["phone, code_sealed"]})
    # the row keeps the message with the code hidden, and the code sealed: the dispatcher opens it
    # in memory as it sends (dispatch.opened), so no delivery, log or failure report shows it
    rendered = {**templates.render(event["event_type"], {**payload, "code": HIDDEN_CODE}, "zh-CN"),
                "code_sealed": payload["code_sealed"]}
    return store.add_delivery(conn, {
        "member_id": check(event)[0], "event_id": event["event_id"], "event_type": event["event_type"],
        "category": rendered["category"], "urgent": True, "channel": "sms", "address": payload["phone"],
        "language": "zh-CN", "title": rendered["title"], "body": rendered["body"], "rendered": rendered,
        "route": [["sms", payload["phone"]]], "state": "pending", "last_error": None,
        "next_attempt_at": now or datetime.now(timezone.utc), "event_at": event.get("occurred_at") or now,
    })


def follow_phone(conn, event):
    """The member proved a new phone and signs in with it: their texts go there from now on."""
    payload = event["payload"]
    try:
        [member] = domain.recipients({"member_id": payload.get("member_id")})
    except (ValueError, TypeError, AttributeError) as exc:
        raise Invalid(f"bad member id in {event['event_type']}", errors={"member_id": ["not a uuid"]}) from exc
    if not isinstance(payload.get("phone"), str):
        raise Invalid("a phone change needs the new phone", errors={"payload": ["phone"]})
    if not _closed(conn, [member]):
        store.set_phone(conn, member, payload["phone"])


def seed_member(conn, event):
    """A new account: the phone it signed up with becomes the member's SMS contact, and the language
    their browser asked for (when not the default) their messages' language. What the member set
    already stays: this only fills what is empty."""
    payload = event["payload"]
    try:
        [member] = domain.recipients({"member_id": payload.get("member_id")})
    except (ValueError, TypeError, AttributeError) as exc:  # none, or not a uuid
        raise Invalid(f"bad member id in {event['event_type']}", errors={"member_id": ["not a uuid"]}) from exc
    phone, language = payload.get("phone"), payload.get("language") or domain.DEFAULT_LANGUAGE
    if not isinstance(phone, str) or language not in domain.LANGUAGES:
        raise Invalid("an account event needs the member's phone and a known language",
                      errors={"payload": ["phone, language"]})
    if _closed(conn, [member]):
        return
    store.seed_contacts(conn, member, phone)
    if language != domain.DEFAULT_LANGUAGE:
        store.seed_preferences(conn, member, {"language": language})


def failover(conn, row):
    """After a final failure on one channel, the same message on the member's next channel."""
    route = [tuple(c) for c in row["route"]]
    nxt = domain.next_channel(route, row["channel"])
    if nxt is None:
        return None
    channel, address = nxt
    return store.add_delivery(conn, {
        **{k: row[k] for k in ("member_id", "event_id", "event_type", "category", "urgent", "language",
                               "title", "body", "rendered", "event_at")},
        "route": row["route"], "channel": channel, "address": address, "state": "pending",
        "next_attempt_at": datetime.now(timezone.utc), "failover_of": row["id"],
    })


# reminders


def _reminders(conn, event_type, payload, members, now):
    lead = timedelta(minutes=settings.reminder_lead_minutes())
    if event_type in ("enrolment.session_upcoming", "venues.booking_confirmed"):
        starts_at = _moment(payload.get("starts_at"))
        if starts_at is None:
            return
        due = domain.reminder_due(starts_at, lead, now)
        if due is None:
            return
        if event_type == "enrolment.session_upcoming":
            # a session is known by its id; without one, by its course and start
            subject = (f"session:{payload['session_id']}" if payload.get("session_id")
                       else f"session:{payload.get('course_id')}:{starts_at.isoformat()}")
            grp = f"course:{payload['course_id']}" if payload.get("course_id") else None
            title = payload.get("course_title") or payload.get("title") or ""  # the message says what it is
            place = payload.get("room_name") or payload.get("place")
        else:
            subject = f"booking:{payload.get('booking_id')}"
            grp = None
            title = payload.get("title") or payload.get("room_name") or ""
            place = payload.get("room_name") or payload.get("site_name")
        for member in members:
            store.add_reminder(conn, member, subject, grp, str(title)[:200], place, starts_at, due)
    elif event_type in ("venues.booking_cancelled", "venues.booking_released", "venues.booking_rejected"):
        if payload.get("booking_id"):
            store.cancel_reminders(conn, subject=f"booking:{payload['booking_id']}")
    elif event_type == "enrolment.session_moved":
        starts_at = _moment(payload.get("new_starts_at") or payload.get("starts_at"))
        if payload.get("session_id") and payload.get("state") in ("room_lost", "cancelled"):
            store.cancel_reminders(conn, subject=f"session:{payload['session_id']}")
        elif payload.get("session_id") and starts_at is not None:
            due = domain.reminder_due(starts_at, lead, now)
            if due is not None:
                store.move_reminders(conn, f"session:{payload['session_id']}", starts_at, due)
    elif event_type == "enrolment.session_cancelled":
        if payload.get("session_id"):
            store.cancel_reminders(conn, subject=f"session:{payload['session_id']}")
    elif event_type in ("enrolment.course_cancelled", "enrolment.course_rescheduled"):
        # a new timetable is announced afresh (session_upcoming) for the sessions it keeps or makes
        if payload.get("course_id"):
            store.cancel_reminders(conn, grp=f"course:{payload['course_id']}")
    elif event_type in ("enrolment.enrolment_cancelled", "enrolment.offer_expired"):
        if payload.get("course_id"):
            for member in members:
                store.cancel_reminders(conn, grp=f"course:{payload['course_id']}", member_id=member)


def send_due_reminders(conn, now=None, limit=200):
    """Turn due reminders into messages (category `reminders`), each once."""
    now = now or datetime.now(timezone.utc)
    due = store.claim_due_reminders(conn, limit)
    events = []
    for r in due:
        events.append({
            "event_id": str(uuid.uuid5(REMINDER_IDS, f"{r['id']}:{r['starts_at'].isoformat()}")),
            "event_type": REMINDER_TYPE, "occurred_at": now,
            "payload": {"member_id": str(r["member_id"]), "title": r["title"], "place": r["place"],
                        "starts_at": r["starts_at"].isoformat()},
        })
    tell_many(conn, events, now)
    return len(due)


# broadcasts

BROADCAST_TYPE = "notify.broadcast"
BROADCAST_GROUP = 500  # members told per round: a round is one transaction of the dispatcher


def send_broadcast_group(conn, now=None):
    """Tell the next group of a broadcast's members, through the same pipeline as any event (the
    broadcast's id is the event id: a member listed in two groups is still told once)."""
    found, members = store.claim_broadcast_group(conn, BROADCAST_GROUP)
    if found is None:
        store.finish_broadcasts(conn)
        return 0
    tell_many(conn, [{"event_id": str(found["id"]), "event_type": BROADCAST_TYPE, "occurred_at": found["created_at"],
                      "payload": {"member_ids": members, "broadcast_title": found["title"],
                                  "broadcast_body": found["body"]}}], now)
    return len(members)
