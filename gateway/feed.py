"""The gateway's own nameko service: it keeps the catalog read model fed from the enrolment
events, and relays the gateway's outbox (e.g. password reset codes for notify to send)."""
from gateway import catalog
from services.common.db import Database
from services.common.handlers import reliable_handler
from services.common.metrics import Metrics
from services.common.outbox import Outbox
from services.common.rpc import rpc


class GatewayFeed:
    name = "gateway"

    db = Database()
    metrics = Metrics()
    outbox = Outbox()

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}

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

    # events that move a course's seats and waitlist

    @reliable_handler("enrolment", "enrolment_confirmed")
    def on_enrolment_confirmed(self, conn, event):
        self._counts(conn, event["payload"])

    @reliable_handler("enrolment", "enrolment_waitlisted")
    def on_enrolment_waitlisted(self, conn, event):
        self._counts(conn, event["payload"])

    @reliable_handler("enrolment", "enrolment_promoted")
    def on_enrolment_promoted(self, conn, event):
        self._counts(conn, event["payload"])

    @reliable_handler("enrolment", "enrolment_cancelled")
    def on_enrolment_cancelled(self, conn, event):
        self._counts(conn, event["payload"])

    @reliable_handler("enrolment", "offer_made")
    def on_offer_made(self, conn, event):
        self._counts(conn, event["payload"])

    @reliable_handler("enrolment", "offer_expired")
    def on_offer_expired(self, conn, event):
        self._counts(conn, event["payload"])

    @reliable_handler("enrolment", "lottery_drawn")
    def on_lottery_drawn(self, conn, event):
        self._counts(conn, event["payload"])

    @staticmethod
    def _course(conn, payload):
        if isinstance(payload.get("course"), dict):
            catalog.put_course(conn, payload["course_id"], payload["course"])

    @staticmethod
    def _counts(conn, payload):
        if "course_version" in payload:
            catalog.put_counts(conn, payload["course_id"], payload["course_version"], payload.get("seats_left"),
                               payload.get("waitlist_length"))
