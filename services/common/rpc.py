"""nameko's @rpc, except that a broker lost while the answer is being sent does not kill the
service. nameko lets that error end the worker's container, so a broker restart in the middle of
a class launch took the enrolment service down with it (the broker-restart fault test). The
request message was not acknowledged, so the broker delivers it again once the service has
reconnected, and the caller that timed out meanwhile retries with its Idempotency-Key.

Answers are published without a publisher confirm and as transient messages: the caller's timeout
already covers an answer the broker lost, and its reply queue does not outlive a broker restart.
In the rush profile the confirm round trip was a fifth of the cost of sending each answer of the
enrolment service."""
import logging
import socket

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)

log = logging.getLogger(__name__)

BROKER_LOST = (OSError, socket.error, AmqpConnectionError, OperationalError)


class UnconfirmedPublisher(Publisher):
    use_confirms = False
    delivery_mode = NON_PERSISTENT


class Responder(nameko_rpc.Responder):
    publisher_cls = UnconfirmedPublisher


class Rpc(nameko_rpc.Rpc):
    def handle_result(self, message, worker_ctx, result, exc_info):
        try:
            result, exc_info = self._answer(message, result, exc_info)
            self.rpc_consumer.queue_consumer.ack_message(message)
            return result, exc_info
        except BROKER_LOST as error:
            log.warning("the answer of %s was not sent (%s); the request will come again",
                        worker_ctx.entrypoint.method_name, error)
            return result, exc_info


    def _answer(self, message, result, exc_info):
        """nameko's RpcConsumer.handle_result, with the unconfirmed publisher."""
        config = self.container.config
        responder = Responder(config[AMQP_URI_CONFIG_KEY], nameko_rpc.get_rpc_exchange(config),
                              config.get(SERIALIZER_CONFIG_KEY, nameko_rpc.DEFAULT_SERIALIZER), message,
                              ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        return responder.send_response(result, exc_info)


rpc = Rpc.decorator
