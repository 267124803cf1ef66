"""The notify service's RPC payloads, and what it needs of the events it hears."""
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from services.common.fields import Phone, Text
from services.common.zone import HOME_ZONE_NAME
from services.notify.domain import CATEGORIES, CHANNELS, DEFAULT_LANGUAGE, LANGUAGES


class InboxEntrySchema(Schema):
    id = fields.UUID()
    event_type = fields.String()
    title = fields.String()
    body = fields.String()
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


CLOCK = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="must be HH:MM (24-hour clock)")


def zone(value):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(f"must be an IANA time zone such as {HOME_ZONE_NAME}") from None


class QuietHoursSchema(Schema):
    start = fields.String(required=True, validate=CLOCK, metadata={"example": "22:00"})
    end = fields.String(required=True, validate=CLOCK, metadata={"example": "08:00"})


class CategoriesSchema(Schema):
    """For each category, the channels outside the app to try in order (the inbox always keeps it)."""
    classes = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), validate=validate.Length(max=3))
    rooms = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), validate=validate.Length(max=3))
    welfare = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), validate=validate.Length(max=3))
    reminders = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), validate=validate.Length(max=3))


assert set(CategoriesSchema._declared_fields) == set(CATEGORIES)


class PreferencesSchema(Schema):
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    timezone = Text(validate=[validate.Length(min=1, max=64), zone])
    quiet_hours = fields.Nested(QuietHoursSchema, metadata={
        "description": "non-urgent messages in these hours wait until they end; start == end: none"})
    daily_cap = fields.Integer(strict=True, validate=validate.Range(min=0, max=1000), metadata={
        "description": "most messages outside the app per local day (urgent ones always go)"})
    categories = fields.Nested(CategoriesSchema)


class ContactsSchema(Schema):
    phone = Phone(allow_none=True)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    wechat_openid = Text(allow_none=True, validate=[validate.Length(min=1, max=128),
                                                    validate.Regexp(r"^[A-Za-z0-9_-]+$", error="not an openid")])


class PreviewSchema(Schema):
    event_type = fields.String(required=True)
    payload = fields.Dict(load_default=dict)
    language = fields.String(load_default=DEFAULT_LANGUAGE, validate=validate.OneOf(LANGUAGES))


class RenderedSchema(Schema):
    title = fields.String()
    body = fields.String()
    category = fields.String()
    urgency = fields.String()
    sms = fields.Dict()
    wechat = fields.Dict()


class DeliverySchema(Schema):
    id = fields.UUID()
    member_id = fields.UUID()
    event_id = fields.UUID()
    event_type = fields.String()
    category = fields.String()
    urgent = fields.Boolean()
    channel = fields.String()
    address = fields.String()
    title = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    failover_of = fields.UUID(allow_none=True)
    created_at = fields.AwareDateTime()
    next_attempt_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)


class EnrolmentOutcomeSchema(Schema):
    """What notify reads of enrolment's enrolment_confirmed and enrolment_waitlisted: its own
    check, not enrolment's schema (enrolment owns the event; a field it adds is no error here)."""
    class Meta:
        unknown = EXCLUDE

    member_id = fields.UUID(required=True)
    course_title = fields.String(required=True)
    status = fields.String(required=True)
    position = fields.Integer(allow_none=True)
    first_session_at = fields.String(allow_none=True)
