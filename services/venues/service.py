"""The venues service: sites, rooms and bookings (issue 5). For now it answers the readiness ping."""
from nameko.rpc import rpc

from services.common.db import Database
from services.common.metrics import Metrics
from services.common.outbox import Outbox


class VenuesService:
    name = "venues"

    db = Database()
    metrics = Metrics()
    outbox = Outbox()

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}
