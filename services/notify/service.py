"""The notify service's nameko entrypoints."""
from nameko.rpc import rpc

from services.common.context import CallerProvider
from services.common.db import Database
from services.common.metrics import Metrics
from services.common.errors import EXPECTED
from services.common.handlers import reliable_handler
from services.common.params import object_id, page
from services.enrolment.schemas import EnrolmentEventSchema
from services.notify import domain, schemas, store

_entry_out = schemas.InboxEntrySchema()
_enrolment_event = EnrolmentEventSchema()


class NotifyService:
    name = "notify"

    db = Database()
    metrics = Metrics()
    caller = CallerProvider()

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}

    @reliable_handler("enrolment", "enrolment_confirmed")
    def on_enrolment_confirmed(self, conn, event):
        self._tell_member(conn, event)

    @reliable_handler("enrolment", "enrolment_waitlisted")
    def on_enrolment_waitlisted(self, conn, event):
        self._tell_member(conn, event)

    def _tell_member(self, conn, event):
        payload = _enrolment_event.load(event["payload"])
        message = domain.enrolment_message(event["event_type"], payload)
        store.add_to_inbox(conn, payload["member_id"], event, message)

    @rpc(expected_exceptions=EXPECTED)
    def my_inbox(self, limit=50, offset=0, unread_only=False):
        with self.db.transaction() as conn:
            rows = store.inbox(conn, self.caller.id, *page(limit, offset), bool(unread_only))
        return _entry_out.dump(rows, many=True)

    @rpc(expected_exceptions=EXPECTED)
    def mark_read(self, entry_id):
        entry_id = object_id(entry_id, "notification")
        with self.db.transaction() as conn:
            return _entry_out.dump(store.mark_read(conn, self.caller.id, entry_id))
