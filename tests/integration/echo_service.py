"""A service for the gateway's RPC client to call (tests/integration/test_rpc_client.py): it answers
with what it was sent and whom the signed context names, takes its time, refuses, and fails."""
import time

from services.common.context import CallerProvider
from services.common.errors import Conflict
from services.common.rpc import rpc


class EchoService:
    name = "echo"

    caller = CallerProvider()

    @rpc
    def echo(self, value, tag=None):
        return {"value": value, "tag": tag, "caller": self.caller.id, "signed_by": self.caller.service}

    @rpc
    def slow(self, seconds, value):
        time.sleep(seconds)  # green: the runner monkey-patches time
        return value

    @rpc
    def refuse(self, detail):
        raise Conflict(detail, "seat-taken", {"course_id": ["full"]})

    @rpc
    def fail(self):
        raise ValueError("not a palace error")
