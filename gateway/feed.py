"""The gateway's own nameko service: it keeps the catalog read model fed from the enrolment
events, relays the gateway's outbox (e.g. password reset codes for notify to send), sweeps
the rate-limit windows that have ended, and tells notify who holds a staff role."""
from nameko.timer import timer

from gateway import catalog, limits, store
from services.common.batching import reliable_batch_handler
from services.common.db import Database
from services.common.handlers import reliable_handler
from services.common.metrics import Metrics
from services.common.outbox import Outbox
from services.common.retention import Retention, Rule
from services.common.roles import ROLES
from services.common.rpc import rpc

COUNT_EVENTS = ("enrolment_confirmed", "enrolment_waitlisted", "enrolment_promoted", "enrolment_cancelled",
                "offer_made", "offer_expired", "lottery_drawn")


class GatewayFeed:
    name = "gateway"

    db = Database()
    metrics = Metrics()
    outbox = Outbox()
    # an Idempotency-Key answers retries for PALACE_RETAIN_IDEMPOTENCY_DAYS, then goes
    retention = Retention(Rule("idempotency_keys", "created_at", "PALACE_RETAIN_IDEMPOTENCY_DAYS"))

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}

    @rpc
    def staff(self, roles):
        """The ids of the open accounts holding any of `roles`: whom notify tells of work waiting
        (a booking to approve, a class request). Asked when it is needed, so a role granted or an
        account closed counts at once, the bootstrap admin included."""
        with self.db.transaction() as conn:
            return store.staff_ids(conn, [r for r in roles if r in ROLES])

    # events that describe the whole course

    @reliable_handler("enrolment", "course_published")
    def on_course_published(self, conn, event):
        self._course(conn, event["payload"])

    @reliable_handler("enrolment", "course_updated")
    def on_course_updated(self, conn, event):
        self._course(conn, event["payload"])

    @reliable_handler("enrolment", "course_cancelled")
    def on_course_cancelled(self, conn, event):
        self._course(conn, event["payload"])

    # events that move a course's seats and waitlist: taken in groups, in a class launch a
    # thousand arrive in a few seconds and only the latest figures of each course matter (the
    # catalog's pages are cached for a quarter of a second anyway)

    @reliable_batch_handler("enrolment", COUNT_EVENTS, linger=0.1)
    def on_counts(self, conn, events):
        catalog.put_counts_many(conn, [e["payload"] for e in events if "course_version" in e["payload"]])

    @timer(interval=limits.SWEEP_SECONDS)
    def forget_old_rate_limits(self):
        """Without it `rate_limits` grows by a row per phone, address and member and window for ever."""
        with self.db.transaction() as conn:
            limits.forget_old(conn)

    @staticmethod
    def _course(conn, payload):
        if isinstance(payload.get("course"), dict):
            catalog.put_course(conn, payload["course_id"], payload["course"])
