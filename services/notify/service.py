"""The notify service's nameko entrypoints."""
import uuid

from services.common import reports, trust
from services.common.batching import reliable_batch_handler
from services.common.context import CallerProvider
from services.common.db import Database
from services.common.errors import EXPECTED, Conflict, Invalid, NotFound
from services.common.events import closed_member
from services.common.handlers import reliable_handler
from services.common.metrics import Metrics
from services.common.params import listed, load, object_id, page
from services.common.retention import Retention
from services.common.roles import ADMIN, STAFF, TEACHER, UNIT_ADMIN
from services.common.rpc import RpcProxy, rpc
from services.notify import domain, fanout, schemas, settings, store, templates, wechat
from services.notify.dispatch import Dispatcher

_entry_out = schemas.InboxEntrySchema()
_enrolment_outcome = schemas.EnrolmentOutcomeSchema()
_prefs = schemas.PreferencesSchema()
_contacts = schemas.ContactsSchema()
_preview = schemas.PreviewSchema()
_delivery_out = schemas.DeliverySchema()
_broadcast_in, _broadcast_out = schemas.BroadcastSchema(), schemas.BroadcastOutSchema()

ENROLMENT_EVENTS = templates.SOURCES["enrolment"]
VENUES_EVENTS = templates.SOURCES["venues"]
WELFARE_EVENTS = templates.SOURCES["welfare"]
CHANNEL_NAMES = ("wechat", "sms", "email", "console")
LINGER = 0.02  # seconds
OUTCOMES_CHECKED = ("enrolment.enrolment_confirmed", "enrolment.enrolment_waitlisted")


def _enrolment_check(event):
    if event["event_type"] in OUTCOMES_CHECKED:
        _enrolment_outcome.load(event["payload"])  # the member's own outcome: its fields must be there
    fanout.check(event)


class NotifyService:
    name = "notify"

    db = Database()
    metrics = Metrics()
    caller = CallerProvider()
    dispatcher = Dispatcher()
    gateway = RpcProxy("gateway")  # who holds a staff role, asked when an alert needs it
    reset_code_key = trust.CheckedAtStart(trust.code_key)  # opens the gateway's sealed reset codes
    retention = Retention(store.FINISHED_DELIVERIES)

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}

    # events

    # every handler takes the events waiting on its queue in groups, one transaction each, waiting
    # up to LINGER for a group to gather: 20 ms is nothing in an inbox and much for two cores

    @reliable_batch_handler("enrolment", ENROLMENT_EVENTS, check=_enrolment_check, linger=LINGER)
    def on_enrolment(self, conn, events):
        fanout.tell_many(conn, fanout.announced(conn, events), staff=self._staff)

    @reliable_batch_handler("venues", VENUES_EVENTS, check=fanout.check, linger=LINGER)
    def on_venues(self, conn, events):
        fanout.tell_many(conn, events, staff=self._staff)

    @reliable_batch_handler("welfare", WELFARE_EVENTS, check=fanout.check, linger=LINGER)
    def on_welfare(self, conn, events):
        fanout.tell_many(conn, events, staff=self._staff)

    def _staff(self, roles):
        return self.gateway.staff(list(roles))

    @reliable_handler("gateway", "password_reset_requested")
    def on_password_reset(self, conn, event):
        fanout.send_code(conn, event)

    @reliable_handler("gateway", "phone_change_requested")  # its own queue: the reset codes' stays as it was
    def on_phone_code(self, conn, event):
        fanout.send_code(conn, event)

    @reliable_handler("gateway", "account_phone_changed")
    def on_phone_changed(self, conn, event):
        fanout.follow_phone(conn, event)

    @reliable_handler("gateway", "account_registered")
    def on_account_registered(self, conn, event):
        fanout.seed_member(conn, event)

    @reliable_handler("gateway", "unit_invitation_sent")
    def on_unit_invitation(self, conn, event):
        """A unit administrator invited the member to join the unit: they hear it (inbox, and the
        channels they chose for welfare news: a unit's workers are covered by its mutual-aid plans)."""
        fanout.tell_many(conn, [event])

    @reliable_handler("gateway", "account_closed")
    def on_account_closed(self, conn, event):
        """A closed account: its contacts, preferences, inbox and reminders go, its deliveries keep
        only when and how (nothing still waiting goes out)."""
        member_id = closed_member(event)
        if member_id is not None:
            store.lock_member(conn, member_id)
            store.erase_member(conn, member_id)

    # a member's own

    @rpc(expected_exceptions=EXPECTED)
    def my_inbox(self, limit=50, offset=0, unread_only=False, read_only=False, with_total=False):
        with self.db.transaction() as conn:
            rows = store.inbox(conn, self.caller.id, *page(limit, offset), bool(unread_only), bool(read_only))
        return listed(_entry_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def mark_read(self, entry_id):
        entry_id = object_id(entry_id, "notification")
        with self.db.transaction() as conn:
            return _entry_out.dump(store.mark_read(conn, self.caller.id, entry_id))

    @rpc(expected_exceptions=EXPECTED)
    def get_preferences(self):
        with self.db.transaction() as conn:
            return domain.merge_preferences(store.preferences(conn, self.caller.require()), None, settings.quiet_hours())

    @rpc(expected_exceptions=EXPECTED)
    def put_preferences(self, body):
        """Fields given replace the stored ones (categories one by one); the rest stay. Only what
        differs from the defaults is stored (domain.chosen); the answer is what applies."""
        change = load(_prefs, body)
        member = self.caller.require()
        with self.db.transaction() as conn:
            store.lock_member(conn, member)
            stored = store.preferences(conn, member)
            store.put_preferences(conn, member, domain.chosen(stored, change, settings.quiet_hours()))
        return domain.merge_preferences(stored, change, settings.quiet_hours())

    @rpc(expected_exceptions=EXPECTED)
    def get_contacts(self):
        with self.db.transaction() as conn:
            return _contacts.dump(store.contacts(conn, self.caller.require()))

    @rpc(expected_exceptions=EXPECTED)
    def put_contacts(self, body):
        """The member's phone and email; one left out (or null) is cleared. The WeChat openid stays:
        only WeChat tells it (wechat_bind)."""
        data = load(_contacts, body)
        member = self.caller.require()
        with self.db.transaction() as conn:
            store.lock_member(conn, member)
            row = store.put_contacts(conn, member, data.get("phone"), data.get("email"), store.keep_wechat(conn, member))
        return _contacts.dump(row)

    @rpc(expected_exceptions=EXPECTED)
    def wechat_authorize(self, callback):
        """Where the member's browser goes to bind their WeChat: WeChat's authorize address with a
        state made for this member (good once, for minutes)."""
        member = self.caller.require()
        state, digest = wechat.new_state()
        with self.db.transaction() as conn:
            store.add_wechat_state(conn, digest, member, settings.wechat_state_seconds())
        return {"url": wechat.authorize_url(state, callback)}

    @rpc(expected_exceptions=EXPECTED)
    def wechat_bind(self, code, state):
        """WeChat sent the member back: the state names who started it (used up here, bound or not),
        the code is exchanged for their openid, which becomes their WeChat contact."""
        bad = {name: ["is missing"] for name, value in (("code", code), ("state", state))
               if not isinstance(value, str) or not 0 < len(value) <= 128}
        if bad:
            raise Invalid("WeChat's answer is incomplete", errors=bad)
        with self.db.transaction() as conn:
            member = store.take_wechat_state(conn, wechat.digest(state))
        if member is None:
            raise Invalid("this WeChat binding was not started here, is used or has lapsed", "wechat-state-refused",
                          errors={"state": ["unknown, used or lapsed: start the binding again"]})
        openid = wechat.openid(code)
        with self.db.transaction() as conn:
            store.lock_member(conn, member)
            return _contacts.dump(store.bind_wechat(conn, member, openid))

    @rpc(expected_exceptions=EXPECTED)
    def wechat_unbind(self):
        member = self.caller.require()
        with self.db.transaction() as conn:
            store.lock_member(conn, member)
            return _contacts.dump(store.bind_wechat(conn, member, None))

    # what a member follows

    @rpc(expected_exceptions=EXPECTED)
    def my_follows(self):
        with self.db.transaction() as conn:
            return domain.follows_of(store.follows(conn, self.caller.require()))

    @rpc(expected_exceptions=EXPECTED)
    def set_follow(self, kind, target, following):
        """Follow (or stop following) a course category or a site."""
        member = self.caller.require()
        target = _follow_target(kind, target)
        with self.db.transaction() as conn:
            (store.follow if following else store.unfollow)(conn, member, kind, target)
            return domain.follows_of(store.follows(conn, member))

    @rpc(expected_exceptions=EXPECTED)
    def site_followers(self, site_id):
        """Who follows a site: the audience of a broadcast to it."""
        self.caller.require(ADMIN)
        target = _follow_target("site", site_id)
        with self.db.transaction() as conn:
            return store.followers(conn, [("site", target)])

    # staff and ops

    def _ops(self):
        # an admin through the gateway, or ops tooling signing as itself (trust.OPS); no one else
        if self.caller.service != trust.OPS:
            self.caller.require(ADMIN)

    @rpc(expected_exceptions=EXPECTED)
    def preview(self, body):
        """The message an event would give, in one language, for every channel."""
        data = load(_preview, body)
        if not templates.known(data["event_type"]):
            raise Invalid("no template for this event type", errors={"event_type": [
                f"must be one of {sorted(templates.CATALOGUE)}"]})
        return templates.render(data["event_type"], data["payload"], data["language"])

    @rpc(expected_exceptions=EXPECTED)
    def failed_deliveries(self, limit=50, offset=0, with_total=False):
        self._ops()
        with self.db.transaction() as conn:
            rows = store.failed(conn, *page(limit, offset))
        return listed(_delivery_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def replay_delivery(self, delivery_id):
        """Send a failed delivery again from its first attempt."""
        self._ops()
        delivery_id = object_id(delivery_id, "delivery")
        with self.db.transaction() as conn:
            row = store.replay(conn, delivery_id)
            if row is None:
                if store.delivery(conn, delivery_id) is None:
                    raise NotFound(f"delivery {delivery_id} does not exist", "delivery-not-found")
                raise Conflict("only a failed delivery can be replayed", "delivery-not-failed")
        return _delivery_out.dump(row)

    # broadcasts: the gateway finds the audience (accounts and units are its own, a course's students
    # enrolment's) and checks that the caller may speak to it; notify tells each member once

    @rpc(expected_exceptions=EXPECTED)
    def broadcast_preview(self, body, recipients):
        self.caller.require(ADMIN, TEACHER, UNIT_ADMIN)
        data = load(_broadcast_in, body)
        message = templates.render(fanout.BROADCAST_TYPE, {"broadcast_title": data["title"],
                                                           "broadcast_body": data["body"]}, domain.DEFAULT_LANGUAGE)
        return {"recipients": len(set(recipients)), "message": message}

    @rpc(expected_exceptions=EXPECTED)
    def broadcast(self, body, member_ids):
        """Record a broadcast; the dispatcher tells its members a group at a time."""
        sender = self.caller.require(ADMIN, TEACHER, UNIT_ADMIN)
        data = load(_broadcast_in, body)
        members = domain.recipients({"member_ids": member_ids})
        if not members:
            raise Invalid("nobody to tell", errors={"audience": ["has no members"]})
        with self.db.transaction() as conn:
            return _broadcast_out.dump(store.add_broadcast(conn, data, sender, members))

    @rpc(expected_exceptions=EXPECTED)
    def get_broadcast(self, broadcast_id):
        return _broadcast_out.dump(self._broadcast(object_id(broadcast_id, "broadcast")))

    @rpc(expected_exceptions=EXPECTED)
    def cancel_broadcast(self, broadcast_id):
        """Stop a broadcast midway: the members not told yet are not told."""
        broadcast_id = object_id(broadcast_id, "broadcast")
        self._broadcast(broadcast_id)
        with self.db.transaction() as conn:
            if store.cancel_broadcast(conn, broadcast_id) is None:
                raise Conflict("the broadcast has finished", "broadcast-finished")
        return _broadcast_out.dump(self._broadcast(broadcast_id))

    def _broadcast(self, broadcast_id):
        """The broadcast, for its sender or an admin (to anyone else it does not exist)."""
        caller = self.caller.require(ADMIN, TEACHER, UNIT_ADMIN)
        with self.db.transaction() as conn:
            row = store.broadcast(conn, broadcast_id)
        if row is None or (str(row["sent_by"]) != caller and not self.caller.has(ADMIN)):
            raise NotFound(f"broadcast {broadcast_id} does not exist", "broadcast-not-found")
        return row

    @rpc
    def stats(self):
        with self.db.transaction() as conn:
            per_channel, inbox_row, total = store.stats(conn)
        figures = {"inbox_entries": total["n"], "inbox_unread": total["unread"],
                   "inbox_latency_p50_ms": _ms(inbox_row["p50"]), "inbox_latency_p99_ms": _ms(inbox_row["p99"])}
        found = {row["channel"]: row for row in per_channel}
        for channel in CHANNEL_NAMES:
            row = found.get(channel, {})
            for key in ("sent", "failed", "retried", "waiting", "capped"):
                figures[f"{channel}_{key}"] = int(row.get(key) or 0)
            figures[f"{channel}_latency_p50_ms"] = _ms(row.get("p50"))
            figures[f"{channel}_latency_p99_ms"] = _ms(row.get("p99"))
        return figures

    @rpc(expected_exceptions=EXPECTED)
    def report_figures(self, since, until, by=None):
        """Messages sent over [since, until) per channel, and inbox entries, for GET
        /v1/reports/summary: by month, or in total (a message is not recorded by site, unit...)."""
        self.caller.require(*STAFF)
        start, end = reports.checked(since, until, by)
        with self.db.transaction() as conn:
            reports.plain_plans(conn)
            sent, inbox = store.report_sent(conn, start, end, CHANNEL_NAMES, by)
        keyed = by == "month"
        figures = {**reports.collect(sent, tuple(f"sent_{c}" for c in CHANNEL_NAMES), keyed),
                   **reports.collect(inbox, ("inbox_entries",), keyed)}
        if by is not None and not keyed:
            reports.not_applicable(figures, f"messages are not recorded by {by}")
        return {"figures": figures, "labels": {}}


FOLLOWED = ("category", "site")


def _follow_target(kind, target):
    """The target of a follow as it is kept: a category's name trimmed, a site's id; else Invalid."""
    if kind not in FOLLOWED:
        raise Invalid("one follows a category or a site", errors={"kind": [f"must be one of {list(FOLLOWED)}"]})
    if kind == "site":
        try:
            return str(uuid.UUID(str(target)))
        except ValueError:
            raise Invalid("not a site id", errors={"site_id": ["must be a UUID"]}) from None
    text = target.strip() if isinstance(target, str) else ""
    if not 0 < len(text) <= 100 or not text.isprintable():  # no NUL (PostgreSQL refuses it) nor control characters
        raise Invalid("not a category", errors={"category": ["must be 1 to 100 printable characters"]})
    return text


def _ms(seconds):
    return None if seconds is None else round(float(seconds) * 1000, 1)
