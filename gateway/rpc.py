"""RPC from gateway threads to the services, through the process's one client (gateway/rpc_client.py):
a per-service circuit breaker, the caller's signed context on every call, and a service that is
down, unknown or too slow turned into a 503."""
import collections
import logging
import threading
import time

from nameko.exceptions import UnknownService

from gateway.metrics import RPC
from gateway.problems import Problem, unavailable
from gateway.rpc_client import BrokerLost, NoAnswer, RpcClient
from services.common import config, trust
from services.common.errors import PalaceError

log = logging.getLogger("palace.gateway.rpc")

_client = None
_client_lock = threading.Lock()


def client():
    """The process's RPC client, made on first use (after gunicorn has forked the worker)."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = RpcClient(config.amqp_uri(), config.rpc_timeout())
    return _client


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
        # the caller and the request id travel as nameko context headers, signed by the gateway
        return client().call(service, method, args, kwargs, trust.sign(context or {}, "gateway"))
    except NoAnswer:
        log.warning("%s.%s did not answer within %ss", service, method, config.rpc_timeout())
        raise unavailable(f"the {service} service did not answer in time") from None
    except UnknownService:
        raise unavailable(f"the {service} service is not running") from None
    except BrokerLost as exc:
        log.warning("broker connection lost calling %s.%s: %s", service, method, exc)
        raise unavailable("the message broker is not reachable") from None


def ping_all(services):
    """{service: "ok" or what is wrong}: all pinged at once, so one down costs one timeout, not all."""
    context = trust.sign({}, "gateway")  # on behalf of no one
    replies, results = {}, {}
    for service in services:
        try:
            replies[service] = client().send(service, "ping", context=context)
        except BrokerLost as exc:
            results[service] = f"unreachable: {exc}"
    deadline = time.monotonic() + config.rpc_timeout()
    for service, reply in replies.items():
        try:
            results[service] = reply.result(deadline).get("database", "no database")
        except NoAnswer:
            results[service] = "no answer"
        except UnknownService:
            results[service] = "not running"
        except BrokerLost as exc:
            results[service] = f"unreachable: {exc}"
        except Exception as exc:  # a service that answers with an error is not ready either
            results[service] = f"error: {exc}"
    return results


def call_all(calls, context=None):
    """[(service, method, args, kwargs)] sent at once and their answers in order: the slowest sets
    the time, not their sum, and all are awaited within one RPC timeout (the bound). Errors as
    call(): a refusal passes through, a silent service is a 503."""
    for service, *_ in calls:
        if not _breakers[service].allow():
            raise unavailable(f"the {service} service is not answering; try again shortly", int(Breaker.COOL))
    started = time.perf_counter()
    signed = trust.sign(context or {}, "gateway")
    replies = []
    try:
        for service, method, args, kwargs in calls:
            replies.append(client().send(service, method, args, kwargs, signed))
    except BrokerLost:
        raise unavailable("the message broker is not reachable") from None
    deadline = time.monotonic() + config.rpc_timeout()
    try:
        return [_answer(service, method, reply, deadline, started)
                for (service, method, _, _), reply in zip(calls, replies)]
    finally:
        for reply in replies:
            reply.forget()  # those still due after a failure are not waited for


def _answer(service, method, reply, deadline, started):
    outcome = "failed"
    try:
        answer = reply.result(deadline)
        outcome = "ok"
        return answer
    except PalaceError:
        outcome = "refused"
        raise
    except NoAnswer:
        outcome = "unavailable"
        raise unavailable(f"the {service} service did not answer in time") from None
    except UnknownService:
        outcome = "unavailable"
        raise unavailable(f"the {service} service is not running") from None
    except BrokerLost:
        outcome = "unavailable"
        raise unavailable("the message broker is not reachable") from None
    finally:
        _breakers[service].record(timed_out=outcome == "unavailable")
        RPC.labels(service, method, outcome).observe(time.perf_counter() - started)
