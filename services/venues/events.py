"""The events venues publishes, as it writes them: its side of the contract with the services that
listen (enrolment, welfare, notify). A listener checks what it needs with its own schema and never
imports this module (tests/test_service_borders.py); `cause` is the machine field it acts on."""
from marshmallow import Schema, fields, validate

from services.venues import domain


class BookingEventSchema(Schema):
    """booking_pending, booking_confirmed, booking_rejected, booking_cancelled, booking_released.
    A series booked at once is one event: `booking_ids` lists every booking, starts_at is the first."""
    booking_id = fields.UUID(required=True)
    booking_ids = fields.List(fields.UUID(), load_default=list)
    series_id = fields.UUID(allow_none=True)
    room_id = fields.UUID(required=True)
    room_name = fields.String(required=True)
    site_id = fields.UUID(required=True)
    site_name = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    starts_at = fields.String(required=True)
    ends_at = fields.String(required=True)
    occurrences = fields.Integer(load_default=1)
    holder_service = fields.String(required=True)
    holder_reference = fields.String(required=True)
    member_id = fields.UUID(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "why, in words for people"})
    cause = fields.String(allow_none=True, validate=validate.OneOf(domain.CAUSES), metadata={
        "description": "why a booking ended, for machines (booking_cancelled, booking_released); else null"})
    note = fields.String(allow_none=True, metadata={
        "description": "the words the person who ended it gave, if any (the cause says the rest)"})


class RoomClosedSchema(Schema):
    closure_id = fields.UUID(required=True)
    site_id = fields.UUID(required=True)
    site_name = fields.String(required=True)
    room_id = fields.UUID(allow_none=True)
    room_name = fields.String(allow_none=True)
    starts_at = fields.String(required=True)
    ends_at = fields.String(required=True)
    reason = fields.String(required=True)
    member_ids = fields.List(fields.UUID(), metadata={"description": "members whose bookings it cancelled"})
    cancelled = fields.Integer()
