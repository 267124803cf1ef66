"""The envelope every event travels in: `<service>.<event_type>`, id, time, version, payload."""
import json
import logging
import uuid
from datetime import datetime, timezone

from kombu import Exchange, Queue
from marshmallow import Schema, fields

from services.common import config, trust
from services.common.errors import Invalid


class EnvelopeSchema(Schema):
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    version = fields.Integer(required=True)
    payload = fields.Dict(required=True)
    signature = fields.String(required=True)  # the producer's: trust.sign_event


_envelope = EnvelopeSchema()
log = logging.getLogger(__name__)


def closed_member(event):
    """The member a gateway.account_closed event names, as text; None (and a warning) when it names
    none, which no retry would mend."""
    try:
        return str(uuid.UUID(str(event["payload"].get("member_id"))))
    except ValueError:
        log.warning("account_closed %s without a member id: ignored", event["event_id"])
        return None


def read_envelope(body, accepted=None):
    """The validated envelope of a message body (JSON text, or already decoded). Raises what no
    retry can fix: a ValidationError for a bad envelope, Invalid for a body that is not JSON or (with
    `accepted`, a set of `<service>.<event_type>`) for an event its handler does not take, or for an
    event no part of the palace signed (or one changed since)."""
    if not isinstance(body, (dict, list)):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise Invalid(f"the message is not JSON: {exc}", errors={"_schema": ["not JSON"]}) from exc
    trust.check_event(body)
    event = _envelope.load(body)
    if accepted is not None and event["event_type"] not in accepted:
        raise Invalid(f"{event['event_type']} is not an event this handler takes",
                      errors={"event_type": [f"not one of {sorted(accepted)}"]})
    return event


def envelope(service, event_type, payload, version=1):
    """A new event, signed by the part that makes it."""
    return trust.sign_event({
        "event_id": str(uuid.uuid4()),
        "event_type": f"{service}.{event_type}",
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "version": version,
        "payload": payload,
    })


# RabbitMQ drops what no queue is bound for; an alternate exchange keeps those events instead
UNROUTED = Exchange("palace.unrouted", type="fanout", durable=True, auto_delete=False)


def unrouted_queue():
    """Where the events no queue was bound for wait (two weeks, a million at most); a quorum queue
    on a cluster (PALACE_QUORUM_QUEUES), like the handlers' queues."""
    arguments = {"x-max-length": 1_000_000, "x-message-ttl": 14 * 24 * 3600 * 1000}
    if config.quorum_queues():
        arguments["x-queue-type"] = "quorum"
    return Queue("palace.unrouted", exchange=UNROUTED, durable=True, queue_arguments=arguments)


def exchange(service):
    """The topic exchange a service's events go to; nameko's event handlers bind to it."""
    return Exchange(f"{service}.events", type="topic", durable=True, auto_delete=False,
                    arguments={"alternate-exchange": UNROUTED.name})


def declare_exchange(channel, service):
    """Declare a service's events exchange together with the place its unrouted events go."""
    UNROUTED(channel).declare()
    unrouted_queue()(channel).declare()
    exchange(service)(channel).declare()
