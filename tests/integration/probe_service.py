"""A service that only runs slow queries through the Database dependency, to measure overlap."""
from nameko.rpc import rpc

from services.common.db import Database


class ProbeService:
    name = "probe"

    db = Database("enrolment")

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}

    @rpc
    def slow_query(self, seconds):
        with self.db.transaction() as conn:
            conn.execute("SELECT pg_sleep(%s)", (seconds,))
        return True
