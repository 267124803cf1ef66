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
a transient queue goes with its node and is declared afresh on another.

Trust (services/common/trust.py): an RPC whose context is unsigned, tampered with, stale or signed
by a part that may not call it is answered with Unauthorized or Forbidden before a worker starts;
the calls a service makes carry its own signature, and the caller it serves when that was signed."""
import logging
import socket
import sys

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Queue
from kombu.exceptions import OperationalError
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    CALL_ID_STACK_CONTEXT_KEY,
    LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)

from services.common import config, trust
from services.common.errors import PalaceError

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


class _SignedWorker:
    """A worker's context as the service it calls sees it: signed by this service, naming the caller
    this worker serves only when that caller came signed (never an event's or a timer's headers)."""

    def __init__(self, worker_ctx, part):
        self._worker_ctx, self._part = worker_ctx, part

    def __getattr__(self, name):
        return getattr(self._worker_ctx, name)

    @property
    def context_data(self):
        data = trust.onward(self._worker_ctx.data, self._part)
        data[CALL_ID_STACK_CONTEXT_KEY] = self._worker_ctx.call_id_stack
        return data


class RpcProxy(nameko_rpc.RpcProxy):
    """nameko's RpcProxy, with a reply queue that a cluster can lose with its node, and calls signed
    by this service."""
    rpc_reply_listener = ReplyListener()

    def setup(self):
        trust.key()  # no key, no calls: the service stops at start with the reason
        super().setup()

    def get_dependency(self, worker_ctx):
        return nameko_rpc.ServiceProxy(_SignedWorker(worker_ctx, self.container.service_name),
                                       self.target_service, self.rpc_reply_listener, **self.options)


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = RpcConsumer()

    def setup(self):
        trust.key()  # no key, nothing could be believed: the service stops at start with the reason
        super().setup()

    def handle_message(self, body, message):
        try:
            trust.admit(self.container.service_name, self.method_name, self.unpack_message_headers(message))
        except PalaceError as refusal:
            log.warning("refused a call to %s: %s", self.method_name, refusal.detail)
            self._refuse(message, sys.exc_info())
            return
        super().handle_message(body, message)

    def _refuse(self, message, exc_info):
        """Answer the refusal at once, no worker spawned (a flood of forgeries costs no database)."""
        try:
            self._answer(message, None, exc_info)
        except BROKER_LOST as error:
            log.warning("the refusal of %s was not sent (%s)", self.method_name, error)
            return
        self.rpc_consumer.queue_consumer.ack_message(message)

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
