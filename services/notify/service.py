"""The notify service's nameko entrypoints."""
from services.common.batching import reliable_batch_handler
from services.common.context import CallerProvider
from services.common.db import Database
from services.common.errors import EXPECTED, Conflict, Invalid, NotFound
from services.common.handlers import reliable_handler
from services.common.metrics import Metrics
from services.common.params import listed, load, object_id, page
from services.common.roles import ADMIN
from services.common.rpc import rpc
from services.notify import domain, fanout, schemas, settings, store, templates
from services.notify.dispatch import Dispatcher

_entry_out = schemas.InboxEntrySchema()
_enrolment_outcome = schemas.EnrolmentOutcomeSchema()
_prefs = schemas.PreferencesSchema()
_contacts = schemas.ContactsSchema()
_preview = schemas.PreviewSchema()
_delivery_out = schemas.DeliverySchema()

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

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}

    # events

    # every handler takes the events waiting on its queue in groups, one transaction each, waiting
    # up to LINGER for a group to gather: 20 ms is nothing in an inbox and much for two cores

    @reliable_batch_handler("enrolment", ENROLMENT_EVENTS, check=_enrolment_check, linger=LINGER)
    def on_enrolment(self, conn, events):
        fanout.tell_many(conn, events)

    @reliable_batch_handler("venues", VENUES_EVENTS, check=fanout.check, linger=LINGER)
    def on_venues(self, conn, events):
        fanout.tell_many(conn, events)

    @reliable_batch_handler("welfare", WELFARE_EVENTS, check=fanout.check, linger=LINGER)
    def on_welfare(self, conn, events):
        fanout.tell_many(conn, events)

    @reliable_handler("gateway", "password_reset_requested")
    def on_password_reset(self, conn, event):
        fanout.send_code(conn, event)

    @reliable_handler("gateway", "account_registered")
    def on_account_registered(self, conn, event):
        fanout.seed_member(conn, event)

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
        """Fields given replace the stored ones (categories one by one); the rest stay."""
        change = load(_prefs, body)
        member = self.caller.require()
        with self.db.transaction() as conn:
            store.lock_member(conn, member)
            merged = domain.merge_preferences(store.preferences(conn, member), change, settings.quiet_hours())
            store.put_preferences(conn, member, merged)
        return merged

    @rpc(expected_exceptions=EXPECTED)
    def get_contacts(self):
        with self.db.transaction() as conn:
            return _contacts.dump(store.contacts(conn, self.caller.require()))

    @rpc(expected_exceptions=EXPECTED)
    def put_contacts(self, body):
        """The member's phone, email and WeChat openid; one left out (or null) is cleared."""
        data = load(_contacts, body)
        with self.db.transaction() as conn:
            row = store.put_contacts(conn, self.caller.require(), data.get("phone"), data.get("email"), data.get("wechat_openid"))
        return _contacts.dump(row)

    # staff and ops

    def _ops(self):
        # the gateway always names its caller; a call with none comes from ops tooling inside
        if self.caller.id:
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


def _ms(seconds):
    return None if seconds is None else round(float(seconds) * 1000, 1)
