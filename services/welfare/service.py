"""The welfare service: relief, mutual aid, claims and payouts (issue 7). For now it answers the readiness ping."""
from nameko.rpc import rpc

from services.common.db import Database
from services.common.metrics import Metrics
from services.common.outbox import Outbox


class WelfareService:
    name = "welfare"

    db = Database()
    metrics = Metrics()
    outbox = Outbox()

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}
