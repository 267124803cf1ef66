"""The enrolment service's RPC payloads and events."""
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.common.fields import Moment, Text


class CourseCreateSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    category = Text(validate=validate.Length(max=100))
    description = Text(validate=validate.Length(max=10_000))
    opens_at = Moment(metadata={"description": "when enrolment opens (default: at once)"})
    closes_at = Moment(metadata={"description": "when enrolment closes (default: never)"})

    @validates_schema
    def window(self, data, **kwargs):
        opens_at = data.get("opens_at") or datetime.now(timezone.utc)
        if data.get("closes_at") and data["closes_at"] <= opens_at:
            raise ValidationError("must be after opens_at (or after now, when opens_at is not given)", "closes_at")


class CourseSchema(Schema):
    id = fields.UUID()
    title = fields.String()
    category = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    capacity = fields.Integer()
    seats_left = fields.Integer()
    waitlist_length = fields.Integer()
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class EnrolmentSchema(Schema):
    id = fields.UUID()
    course_id = fields.UUID()
    member_id = fields.UUID()
    status = fields.String()
    position = fields.Integer(allow_none=True, metadata={"description": "place on the waitlist, 1 is next"})
    created_at = fields.AwareDateTime()


class EnrolmentEventSchema(Schema):
    """Payload of enrolment_confirmed and enrolment_waitlisted."""
    enrolment_id = fields.UUID(required=True)
    course_id = fields.UUID(required=True)
    course_title = fields.String(required=True)
    member_id = fields.UUID(required=True)
    status = fields.String(required=True)
    position = fields.Integer(allow_none=True)


class CoursePublishedSchema(Schema):
    course_id = fields.UUID(required=True)
    title = fields.String(required=True)
    capacity = fields.Integer(required=True)
