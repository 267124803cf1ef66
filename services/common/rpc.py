"""nameko's @rpc, except that a broker lost while the answer is being sent does not kill the
service. nameko lets that error end the worker's container, so a broker restart in the middle of
a class launch took the enrolment service down with it (the broker-restart fault test). The
request message was not acknowledged, so the broker delivers it again once the service has
reconnected, and the caller that timed out meanwhile retries with its Idempotency-Key."""
import logging
import socket

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko import rpc as nameko_rpc

log = logging.getLogger(__name__)

BROKER_LOST = (OSError, socket.error, AmqpConnectionError, OperationalError)


class Rpc(nameko_rpc.Rpc):
    def handle_result(self, message, worker_ctx, result, exc_info):
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_LOST as error:
            log.warning("the answer of %s was not sent (%s); the request will come again",
                        worker_ctx.entrypoint.method_name, error)
            return result, exc_info


rpc = Rpc.decorator
