"""nameko's @rpc, except that a broker lost while the answer is being sent does not kill the
service. nameko lets that error end the worker's container, so a broker restart in the middle of
a class launch took the enrolment service down with it (the broker-restart fault test). The
request message was not acknowledged, so the broker delivers it again once the service has
reconnected, and the caller that timed out meanwhile retries with its Idempotency-Key.

Answers are published without a publisher confirm and as transient messages: the caller's timeout
already covers an answer the broker lost, and its reply queue does not outlive a broker restart.
In the rush profile the confirm round trip was a fifth of the cost of sending each answer of the
enrolment service.

On a cluster (PALACE_QUORUM_QUEUES) a service's RPC queue is a quorum queue and the reply queue of
its RpcProxy is transient: RabbitMQ refuses to declare again a durable classic queue whose node is
down (404 "home node ... is down"), so a service that lost that node could not reconnect, while
a transient queue goes with its node and is declared afresh on another."""
import logging
import socket

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Queue
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

from services.common import config

log = logging.getLogger(__name__)

BROKER_LOST = (OSError, socket.error, AmqpConnectionError, OperationalError)


class UnconfirmedPublisher(Publisher):
    use_confirms = False
    delivery_mode = NON_PERSISTENT


class Responder(nameko_rpc.Responder):
    publisher_cls = UnconfirmedPublisher


class RpcConsumer(nameko_rpc.RpcConsumer):
    def setup(self):
        super().setup()
        if config.quorum_queues() and "x-queue-type" not in (self.queue.queue_arguments or {}):
            self.queue = Queue(self.queue.name, exchange=self.queue.exchange, routing_key=self.queue.routing_key,
                               durable=True, queue_arguments={"x-queue-type": "quorum"})


def reply_queue(queue):
    """nameko's reply queue as it is, or on a cluster transient (it goes with its node)."""
    if not config.quorum_queues() or not queue.durable:
        return queue
    return Queue(queue.name, exchange=queue.exchange, routing_key=queue.routing_key, durable=False,
                 queue_arguments=queue.queue_arguments)


class ReplyListener(nameko_rpc.ReplyListener):
    def setup(self):
        super().setup()  # nameko's QueueConsumer declares the queue later, when it connects
        self.queue = reply_queue(self.queue)


class RpcProxy(nameko_rpc.RpcProxy):
    """nameko's RpcProxy, with a reply queue that a cluster can lose with its node."""
    rpc_reply_listener = ReplyListener()


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = RpcConsumer()

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
