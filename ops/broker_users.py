"""Who may do what on a compose palace's broker: a RabbitMQ user per part, its permissions limited to
its own queues and exchanges. `python -m ops.broker_users` writes ops/rabbitmq/definitions.json from
the code (the queues each part declares, trust.ALLOWED for the calls it may make); the broker loads it
at boot (ops/rabbitmq/palace.conf) once ops/rabbitmq/entrypoint.sh has filled in each user's password
from the compose secrets. tests/test_compose.py fails on a stale file and tries it on a real broker.

What RabbitMQ checks (its access-control guide): configure on a queue or exchange to declare or
delete it (declaring one with an alternate or dead-letter exchange also needs write on that exchange
and read on the one declared); write on a queue to bind it and read on the exchange it is bound to;
write on an exchange to publish to it; read on a queue to consume from it. On a topic exchange, topic
permissions add which routing keys a user may publish with (write) and bind with (read).

Every nameko call goes through one topic exchange, nameko-rpc: a request with the key
`<service>.<method>`, the answer with the key of the caller's reply queue (a uuid4). So every part
that calls or answers needs write on nameko-rpc, and its topic permissions say what it may publish
there: a service, its answers and the requests trust.ALLOWED lets it make; the gateway, every request
trust lets the gateway make. A part binds only its own RPC queue (`<service>.*`) and reply queues.

Known limit: the default exchange (amq.default) routes to any queue by its name, and RabbitMQ checks
no permission of that queue on publish. A service with reliable handlers needs it (a failed event goes
to its retry or dead-letter queue by name, and its delay queues dead-letter back through it), so it
could drop a message into another part's queue by name: there the signed context (trust.py) is what
refuses a forged call. Consumers also declare the events exchanges they bind to, so configure on them
(which would let them delete one) cannot be taken away while nameko declares what it consumes."""
import inspect
import json
import sys
from pathlib import Path

from nameko import rpc as nameko_rpc
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from ops import topology
from services.common import trust

DEFINITIONS = Path(__file__).resolve().parent / "rabbitmq" / "definitions.json"
VHOST = "/"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
RPC_EXCHANGE = "nameko-rpc"
# compose part -> the nameko service it runs; the gateway's HTTP workers are an RPC client (gateway/rpc_client.py)
PARTS = {"enrolment": "enrolment", "venues": "venues", "welfare": "welfare", "notify": "notify",
         "gateway-feed": "gateway", "gateway": None}
STANDALONE = "standalone_rpc_proxy"  # nameko's name for a standalone client's reply queues, the gateway's too
OPS = "ops"  # migrate and the palace command: declare the whole topology, move dead letters; the console
ONLY_GATEWAY_AND_OPS = {"gateway", trust.OPS}  # trust.ANY_PART's ping and stats: no service asks another


def user(part):
    return f"palace-{part}"


def placeholder(part):
    """Where entrypoint.sh puts the password of the part's URI secret (amqp://<user>:<password>@...)."""
    return "{{" + user(part) + "}}"


def rpc_methods(service):
    """The RPC entrypoints of a nameko service, by name."""
    cls = topology.service_class(service)
    return sorted(name for name, method in inspect.getmembers(cls, inspect.isfunction)
                  for ep in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()) if isinstance(ep, nameko_rpc.Rpc))


def rpc_targets(part):
    """The services a part calls: the gateway every one; a service those of its RpcProxy dependencies."""
    service = PARTS[part]
    if service is None:
        return sorted(topology.SERVICE_CLASSES)
    cls = topology.service_class(service)
    return sorted({dep.target_service for dep in vars(cls).values() if isinstance(dep, nameko_rpc.RpcProxy)})


def may_call(part, service, method):
    """Whether trust lets `part` call `service.method` (the broker is stricter for ping and stats)."""
    signer = PARTS[part] or "gateway"
    if method in trust.ANY_PART:
        return signer in ONLY_GATEWAY_AND_OPS
    return signer in trust.ALLOWED.get(f"{service}.{method}", trust.GATEWAY_ONLY)


def requests(part):
    """The routing keys of the RPC requests a part may publish."""
    return [f"{service}.{method}" for service in rpc_targets(part) for method in rpc_methods(service)
            if may_call(part, service, method)]


def consumed_exchanges(service):
    """The events exchanges a nameko service's handlers bind their queues to."""
    names = set()
    for queue, _ in topology.handler_queues(topology.service_class(service)):
        names.update(b.exchange.name for b in queue.bindings) if queue.bindings else names.add(queue.exchange.name)
    return sorted(names)


def _escaped(name):
    return name.replace(".", r"\.")


def _any_of(*patterns):
    return "^(" + "|".join(patterns) + ")$"


def permissions(part):
    """configure, write and read regexes of a part's user, and its topic permissions on nameko-rpc."""
    service = PARTS[part]
    rpc_keys = [_escaped(key) for key in requests(part)]
    if service is None:  # the gateway's HTTP workers: requests out, answers back to their reply queues
        replies = rf"rpc\.reply-{STANDALONE}-{UUID}"
        regex = _any_of(RPC_EXCHANGE, replies)
        return {"configure": regex, "write": regex, "read": regex}, {"write": _any_of(*rpc_keys), "read": _any_of(UUID)}
    own_queues = [f"rpc-{service}", rf"rpc\.reply-{service}-{UUID}",
                  rf"evt-[a-z_]+(-[a-z_]+)?--{service}\.[a-z0-9_]+(\.retry\.[0-9]+ms|\.dead)?"]
    own_events = _escaped(f"{service}.events")
    sources = [_escaped(name) for name in consumed_exchanges(service)]
    unrouted = r"palace\.unrouted"  # the alternate exchange of every events exchange, and its queue
    resources = {
        "configure": _any_of(RPC_EXCHANGE, unrouted, own_events, *sources, *own_queues),
        "write": _any_of(RPC_EXCHANGE, r"amq\.default", unrouted, own_events, *own_queues),
        "read": _any_of(RPC_EXCHANGE, unrouted, own_events, *sources, *own_queues),
    }
    return resources, {"write": _any_of(UUID, *rpc_keys), "read": _any_of(UUID, _escaped(f"{service}.") + r"\*")}


def definitions():
    users = [{"name": user(part), "password": placeholder(part), "tags": []} for part in PARTS]
    users.append({"name": user(OPS), "password": placeholder(OPS), "tags": ["administrator"]})
    grants, topics = [], []
    for part in PARTS:
        resources, topic = permissions(part)
        grants.append({"user": user(part), "vhost": VHOST, **resources})
        topics.append({"user": user(part), "vhost": VHOST, "exchange": RPC_EXCHANGE, **topic})
    grants.append({"user": user(OPS), "vhost": VHOST, "configure": ".*", "write": ".*", "read": ".*"})
    return {"vhosts": [{"name": VHOST}], "users": users, "permissions": grants, "topic_permissions": topics}


def text():
    return json.dumps(definitions(), indent=2) + "\n"


def main(argv=()):
    if "--check" in argv:
        if DEFINITIONS.read_text() != text():
            print(f"{DEFINITIONS} is stale: run python -m ops.broker_users", file=sys.stderr)
            return 1
        return 0
    DEFINITIONS.write_text(text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
