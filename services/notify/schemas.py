"""The notify service's RPC payloads, and what it needs of the events it hears."""
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

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
    """Where a member is reached outside the app."""
    phone = Phone(allow_none=True)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    wechat_openid = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "bound through WeChat (GET /v1/me/wechat/authorize), never set here"})


class WeChatAuthorizeSchema(Schema):
    url = fields.String(required=True, metadata={"description": "WeChat's authorize address with our app id, callback and a state"
                                                 " made for this member (good once, for minutes): send the browser there"})


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


AUDIENCES = ("course", "unit", "site", "all")


def _not_blank(text):
    if not text.strip():
        raise ValidationError("must not be empty")


class BroadcastSchema(Schema):
    """A message from staff to many members: a course's students, a unit's members, a site's followers,
    or all members."""
    audience = fields.String(required=True, validate=validate.OneOf(AUDIENCES))
    course_id = fields.UUID(metadata={"description": "audience `course`: its students (confirmed seats)"})
    unit_id = fields.UUID(metadata={"description": "audience `unit`: its members"})
    site_id = fields.UUID(metadata={"description": "audience `site`: the members following it (admins)"})
    title = Text(required=True, validate=[validate.Length(min=1, max=60), _not_blank])
    body = Text(required=True, validate=[validate.Length(min=1, max=500), _not_blank])

    @validates_schema
    def _names_its_audience(self, data, **kwargs):
        for audience, field in (("course", "course_id"), ("unit", "unit_id"), ("site", "site_id")):
            if data.get("audience") == audience and not data.get(field):
                raise ValidationError(f"is needed for the audience {audience}", field)


class BroadcastOutSchema(Schema):
    id = fields.UUID()
    audience = fields.String()
    course_id = fields.UUID(allow_none=True)
    unit_id = fields.UUID(allow_none=True)
    site_id = fields.UUID(allow_none=True)
    title = fields.String()
    body = fields.String()
    sent_by = fields.UUID()
    recipients = fields.Integer(metadata={"description": "members it goes to, each once"})
    told = fields.Integer(metadata={"description": "members told so far (inbox, and their channels)"})
    state = fields.String(metadata={"description": "sending, done or cancelled"})
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)


class BroadcastPreviewSchema(Schema):
    recipients = fields.Integer(metadata={"description": "members it would go to, each once"})
    message = fields.Nested(RenderedSchema, metadata={"description": "the message, as a member reading Chinese gets it"})


CATEGORY = validate.Length(min=1, max=100)


class FollowsSchema(Schema):
    """What a member follows: a course published in one of these is announced to them."""
    categories = fields.List(fields.String(), metadata={"description": "course categories, as courses name them"})
    site_ids = fields.List(fields.UUID(), metadata={"description": "venues sites"})
