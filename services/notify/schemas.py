"""The notify service's RPC payloads."""
from marshmallow import Schema, fields


class InboxEntrySchema(Schema):
    id = fields.UUID()
    event_type = fields.String()
    title = fields.String()
    body = fields.String()
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)
