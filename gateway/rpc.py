"""RPC from gateway threads to the services.

nameko's standalone proxy is single-threaded and costs ~10 ms to start, so each gateway thread
keeps one started proxy for its whole life (never one per request, never one shared)."""
import collections
import contextlib
import logging
import socket
import sys
import threading
import time

from amqp.exceptions import ChannelError
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko.constants import NON_PERSISTENT
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.rpc import ServiceProxy
from nameko.standalone.rpc import ClusterProxy, ClusterRpcProxy, PollingQueueConsumer, SingleThreadedReplyListener

from gateway.metrics import RPC
from gateway.problems import Problem, unavailable
from services.common import config, trust
from services.common.errors import PalaceError
from services.common.rpc import reply_queue

log = logging.getLogger("palace.gateway.rpc")

# ChannelError: a node of a cluster lost while the proxy re-declared its reply queue there (404)
BROKER_DOWN = (OSError, socket.error, AmqpConnectionError, ChannelError, OperationalError, RuntimeError)

_local = threading.local()

# kombu tries to import the librabbitmq C client for every Connection it makes, and nameko makes
# one per publish to look up its producer pool. The import fails and walks sys.path each time:
# 0.19 ms of the 0.63 ms a call cost the gateway in the profile. A None entry fails it at once.
sys.modules.setdefault("librabbitmq", None)


def nameko_config():
    return {"AMQP_URI": config.amqp_uri(), "serializer": "json"}


class _TransientCluster(ClusterProxy):
    """nameko's cluster proxy, except that requests are not persistent messages. A request waits
    for its answer for seconds at most, so the broker has no reason to write it to disk; after a
    broker restart the caller has had its 503 and retries (with its Idempotency-Key)."""

    def __getattr__(self, name):
        if name not in self._proxies:
            self._proxies[name] = ServiceProxy(self._worker_ctx, name, self._reply_listener,
                                               delivery_mode=NON_PERSISTENT)
        return self._proxies[name]


class _ReplyConsumer(PollingQueueConsumer):
    def register_provider(self, provider):
        provider.queue = reply_queue(provider.queue)  # before it is declared: transient on a cluster
        super().register_provider(provider)


class _ReplyListener(SingleThreadedReplyListener):
    def __init__(self, timeout=None):
        super().__init__(timeout=timeout)
        self.queue_consumer = _ReplyConsumer(timeout=timeout)


class RpcClient(ClusterRpcProxy):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, reply_listener_cls=_ReplyListener, **kwargs)
        self._proxy = _TransientCluster(self._worker_ctx, self._reply_listener)


def _proxy():
    standalone = getattr(_local, "standalone", None)
    if standalone is None:
        standalone = RpcClient(nameko_config(), timeout=config.rpc_timeout())
        _local.proxy = standalone.start()
        _local.standalone = standalone
    return standalone, _local.proxy


def _discard():
    standalone = getattr(_local, "standalone", None)
    _local.standalone = _local.proxy = None
    if standalone is not None:
        with contextlib.suppress(Exception):  # already broken: nothing more to release
            standalone.stop()


class Breaker:
    """Stops calling a service that keeps timing out: after TRIPS timeouts in a row, calls to it
    answer 503 at once for COOL seconds, so its callers do not hold every gateway thread for a
    whole timeout while other routes wait. Then one call is let through to try it again."""

    TRIPS = 3
    COOL = float(config.env("PALACE_BREAKER_SECONDS"))

    def __init__(self):
        self._lock = threading.Lock()
        self.timeouts, self.open_until = 0, 0.0

    def allow(self):
        with self._lock:
            now = time.monotonic()
            if self.open_until > now:
                return False
            if self.timeouts >= self.TRIPS:  # half open: this call tries, the others wait for it
                self.open_until = now + config.rpc_timeout()
            return True

    def record(self, timed_out):
        with self._lock:
            self.timeouts = self.timeouts + 1 if timed_out else 0
            if self.timeouts >= self.TRIPS:
                self.open_until = time.monotonic() + self.COOL
            elif not timed_out:
                self.open_until = 0.0  # the trial call got through: the others may call again now


_breakers = collections.defaultdict(Breaker)


def call(service, method, *args, context=None, **kwargs):
    """Call `service.method`; a service that is down, unknown or too slow becomes a 503."""
    breaker = _breakers[service]
    if not breaker.allow():
        raise unavailable(f"the {service} service is not answering; try again shortly", int(Breaker.COOL))
    started, outcome = time.perf_counter(), "failed"
    try:
        result = _call(service, method, *args, context=context, **kwargs)
        outcome = "ok"
        return result
    except PalaceError:
        outcome = "refused"
        raise
    except Problem:
        outcome = "unavailable"
        raise
    finally:
        breaker.record(timed_out=outcome == "unavailable")
        RPC.labels(service, method, outcome).observe(time.perf_counter() - started)


def _call(service, method, *args, context=None, **kwargs):
    try:
        standalone, proxy = _proxy()
        # the caller and the request id travel as nameko context headers, signed by the gateway
        standalone._worker_ctx.data = trust.sign(context or {}, "gateway")
        return getattr(getattr(proxy, service), method)(*args, **kwargs)
    except RpcTimeout:
        log.warning("%s.%s did not answer within %ss", service, method, config.rpc_timeout())
        _discard()  # nameko re-opens a channel after a timeout and keeps the late reply: start afresh
        raise unavailable(f"the {service} service did not answer in time") from None
    except UnknownService:
        raise unavailable(f"the {service} service is not running") from None
    except BROKER_DOWN as exc:
        log.warning("broker connection lost calling %s.%s: %s", service, method, exc)
        _discard()
        raise unavailable("the message broker is not reachable") from None


def ping_all(services):
    """{service: "ok" or what is wrong}: all pinged at once, so one down costs one timeout, not all."""
    try:
        standalone, proxy = _proxy()
        standalone._worker_ctx.data = trust.sign({}, "gateway")  # not on behalf of the thread's previous caller
    except BROKER_DOWN as exc:
        _discard()
        return {s: f"unreachable: {exc}" for s in services}
    replies, results = {}, {}
    for service in services:
        try:
            replies[service] = getattr(proxy, service).ping.call_async()
        except UnknownService:
            results[service] = "not running"
        except BROKER_DOWN as exc:
            results[service] = f"unreachable: {exc}"
    for service, reply in replies.items():
        try:
            results[service] = reply.result().get("database", "no database")
        except RpcTimeout:
            results[service] = "no answer"
        except Exception as exc:  # a service that answers with an error is not ready either
            results[service] = f"error: {exc}"
    if "no answer" in results.values():
        _discard()  # as in call(): a proxy that timed out is not reused
    return results


def call_all(calls, context=None):
    """[(service, method, args, kwargs)] sent at once on this thread's proxy and their answers in
    order: the slowest sets the time, not their sum, and each answer is awaited at most the RPC
    timeout (the bound). Errors as call(): a refusal passes through, a silent service is a 503."""
    for service, *_ in calls:
        if not _breakers[service].allow():
            raise unavailable(f"the {service} service is not answering; try again shortly", int(Breaker.COOL))
    started = time.perf_counter()
    try:
        standalone, proxy = _proxy()
        standalone._worker_ctx.data = trust.sign(context or {}, "gateway")
        replies = [getattr(getattr(proxy, service), method).call_async(*args, **kwargs)
                   for service, method, args, kwargs in calls]
    except UnknownService as exc:
        raise unavailable(f"a service is not running: {exc}") from None
    except BROKER_DOWN:
        _discard()
        raise unavailable("the message broker is not reachable") from None
    answers = []
    for (service, method, _, _), reply in zip(calls, replies):
        outcome = "failed"
        try:
            answers.append(reply.result())
            outcome = "ok"
        except PalaceError:
            outcome = "refused"
            _discard()  # the replies still due would wait on this proxy: start afresh
            raise
        except RpcTimeout:
            outcome = "unavailable"
            _discard()
            raise unavailable(f"the {service} service did not answer in time") from None
        except BROKER_DOWN:
            outcome = "unavailable"
            _discard()
            raise unavailable("the message broker is not reachable") from None
        finally:
            _breakers[service].record(timed_out=outcome == "unavailable")
            RPC.labels(service, method, outcome).observe(time.perf_counter() - started)
    return answers
