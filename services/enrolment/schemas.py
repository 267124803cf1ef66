"""The enrolment service's RPC payloads (its events are in events.py)."""
from datetime import date, datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.common.fields import Moment, Text
from services.common.zone import HOME_ZONE_NAME

EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9999, 12, 30)
Day = lambda **kw: fields.Date(validate=validate.Range(min=EARLIEST_DAY, max=LATEST_DAY,  # noqa: E731
                                                       error="must be between 1900 and 9999"), **kw)


# terms

class TermCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    starts_on = Day(required=True)
    ends_on = Day(required=True)
    holidays = fields.List(Day(), load_default=list, validate=validate.Length(max=366))
    class_cap = fields.Integer(strict=True, load_default=3, validate=validate.Range(min=1, max=50),
                               metadata={"description": "classes a member may hold in this term"})

    @validates_schema
    def span(self, data, **kwargs):
        if data["ends_on"] < data["starts_on"]:
            raise ValidationError("must not be before starts_on", "ends_on")
        if (data["ends_on"] - data["starts_on"]).days > 400:
            raise ValidationError("a term lasts at most 400 days", "ends_on")


class TermSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    holidays = fields.List(fields.Date())
    class_cap = fields.Integer()
    created_at = fields.AwareDateTime()


# sessions

class WeeklySchema(Schema):
    weekdays = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=7)), required=True,
                           validate=validate.Length(min=1, max=7),
                           metadata={"description": "ISO weekdays, 1 = Monday"})
    start_time = fields.Time(required=True, metadata={"description": f"local time in {HOME_ZONE_NAME}, e.g. 19:00"})
    duration_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=10, max=720))
    starts_on = Day(metadata={"description": "default: the term's first day"})
    ends_on = Day(metadata={"description": "default: the term's last day"})


class SessionTimeSchema(Schema):
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)

    @validates_schema
    def order(self, data, **kwargs):
        if data["ends_at"] <= data["starts_at"]:
            raise ValidationError("must be after starts_at", "ends_at")


class ScheduleSchema(Schema):
    weekly = fields.Nested(WeeklySchema)
    dates = fields.List(fields.Nested(SessionTimeSchema), validate=validate.Length(min=1, max=400))

    @validates_schema
    def one_of(self, data, **kwargs):
        if ("weekly" in data) == ("dates" in data):
            raise ValidationError("give either weekly or dates", "_schema")


class SessionSchema(Schema):
    id = fields.UUID()
    course_id = fields.UUID()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    state = fields.String(metadata={"description": "scheduled, room_lost or cancelled"})
    room_id = fields.UUID(allow_none=True, metadata={"description": "rebooked in another room (default: the"
                                                                    " course's room)"})


class SessionCodeSchema(SessionSchema):
    checkin_code = fields.String(metadata={"description": "shown at the door for members to check in"})


# courses

MOST_TEACHERS = 20


def _no_repeats(items):
    if len(set(items)) != len(items):
        raise ValidationError("names a teacher twice")


class CourseFieldsSchema(Schema):
    title = Text(validate=validate.Length(min=1, max=200))
    capacity = fields.Integer(strict=True, validate=validate.Range(min=1, max=100_000))
    category = Text(allow_none=True, validate=validate.Length(max=100))
    description = Text(allow_none=True, validate=validate.Length(max=10_000))
    teacher = Text(allow_none=True, validate=validate.Length(max=100))
    site_id = fields.UUID(allow_none=True, metadata={"description": "a venues site"})
    district = Text(allow_none=True, validate=validate.Length(max=100))
    room_id = fields.UUID(allow_none=True, metadata={"description": "a venues room, reserved when published"})
    term_id = fields.UUID(allow_none=True)
    opens_at = Moment(metadata={"description": "when enrolment opens (default: at once)"})
    closes_at = Moment(allow_none=True, metadata={"description": "when enrolment closes (default: never)"})
    draw_at = Moment(allow_none=True, metadata={"description": "lottery courses: when the draw happens"})
    min_age = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=150))
    max_age = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=150))
    unit_ids = fields.List(fields.UUID(), allow_none=True, validate=validate.Length(max=500),
                           metadata={"description": "only members of these union branches may enrol"})
    group_limit = fields.Integer(strict=True, validate=validate.Range(min=1, max=20),
                                 metadata={"description": "seats one entry may take (me and my child)"})
    cancel_cutoff = Moment(allow_none=True,
                           metadata={"description": "members give up seats before this (default: first session)"})
    offer_hours = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=24 * 14),
                                 metadata={"description": "a freed seat is offered for this long instead of"
                                                          " promoting at once"})
    attendance_threshold = fields.Float(validate=validate.Range(min=0.01, max=1),
                                        metadata={"description": "share of sessions for a certificate"})
    schedule = fields.Nested(ScheduleSchema, allow_none=True)
    teacher_ids = fields.List(fields.UUID(), validate=(validate.Length(max=MOST_TEACHERS), _no_repeats), metadata={
        "description": "the teacher accounts who run the course (only they and admins see its staff side);"
                       " a teacher creating a course is always among them; changed by admins only"})

    @validates_schema
    def coherent(self, data, **kwargs):
        if data.get("min_age") is not None and data.get("max_age") is not None and data["max_age"] < data["min_age"]:
            raise ValidationError("must not be below min_age", "max_age")
        if data.get("group_limit") and data.get("capacity") and data["group_limit"] > data["capacity"]:
            raise ValidationError("must not exceed capacity", "group_limit")
        opens_at = data.get("opens_at")
        if data.get("closes_at") and opens_at and data["closes_at"] <= opens_at:
            raise ValidationError("must be after opens_at", "closes_at")


class CourseCreateSchema(CourseFieldsSchema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    allocation = fields.String(load_default="first_come", validate=validate.OneOf(["first_come", "lottery"]))
    publish = fields.Boolean(load_default=True, metadata={"description": "publish at once (default) or keep a draft"})

    @validates_schema
    def window(self, data, **kwargs):
        opens_at = data.get("opens_at") or datetime.now(timezone.utc)
        if data.get("closes_at") and data["closes_at"] <= opens_at:
            raise ValidationError("must be after opens_at (or after now, when opens_at is not given)", "closes_at")
        if data.get("allocation") == "lottery":
            if not data.get("draw_at"):
                raise ValidationError("a lottery course needs draw_at", "draw_at")
            if data.get("closes_at") and data["draw_at"] < data["closes_at"]:
                raise ValidationError("must not be before closes_at", "draw_at")


class CourseUpdateSchema(CourseFieldsSchema):
    """Any of the course's fields; a change is published as course_updated."""


class CourseSchema(Schema):
    id = fields.UUID()
    version = fields.Integer()
    state = fields.String(metadata={"description": "draft, published or cancelled"})
    title = fields.String()
    category = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    teacher = fields.String(allow_none=True)
    site_id = fields.UUID(allow_none=True)
    district = fields.String(allow_none=True)
    room_id = fields.UUID(allow_none=True)
    term_id = fields.UUID(allow_none=True)
    allocation = fields.String()
    capacity = fields.Integer()
    seats_left = fields.Integer()
    waitlist_length = fields.Integer()
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime(allow_none=True)
    draw_at = fields.AwareDateTime(allow_none=True)
    drawn_at = fields.AwareDateTime(allow_none=True)
    min_age = fields.Integer(allow_none=True)
    max_age = fields.Integer(allow_none=True)
    unit_ids = fields.List(fields.UUID(), allow_none=True)
    group_limit = fields.Integer()
    cancel_cutoff = fields.AwareDateTime(allow_none=True)
    offer_hours = fields.Integer(allow_none=True)
    attendance_threshold = fields.Float()
    sessions = fields.List(fields.Nested(SessionSchema))
    teacher_ids = fields.List(fields.UUID(), metadata={"description": "the teacher accounts who run the course"})
    teachers = fields.List(fields.Nested(lambda: TeacherSchema()), metadata={
        "description": "their names (from the gateway's accounts)"})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class TeacherSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class TeachingSchema(CourseSchema):
    next_session = fields.Nested(SessionSchema, allow_none=True, metadata={
        "description": "the next scheduled session, none when all are past"})


# enrolments

class EnrolRequestSchema(Schema):
    member_id = fields.UUID(metadata={"description": "the front desk (desk, admin): the member enrolled on their"
                                                     " behalf; anyone else may only name themselves"})
    seats = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=20),
                           metadata={"description": "a group entry (me and my child) is one entry"})
    birth_date = Day(metadata={"description": "needed when the course has an age restriction and the account"
                                             " has no birth date (the account's, when set, is used instead)"})


class ActorSchema(Schema):
    """Staff who acted on a member's entry: their account and their name then."""
    id = fields.UUID()
    name = fields.String(allow_none=True)


class EnrolmentSchema(Schema):
    id = fields.UUID()
    course_id = fields.UUID()
    member_id = fields.UUID()
    status = fields.String()
    position = fields.Integer(allow_none=True, metadata={"description": "place on the waitlist, 1 is next"})
    seats = fields.Integer()
    offer_expires_at = fields.AwareDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    enrolled_by = fields.Nested(ActorSchema, allow_none=True,
                                metadata={"description": "the clerk who enrolled the member on their behalf"})
    cancelled_by = fields.Nested(ActorSchema, allow_none=True,
                                 metadata={"description": "who cancelled it, when not the member (a clerk, staff)"})
    created_at = fields.AwareDateTime()


class MemberEnrolmentSchema(EnrolmentSchema):
    """An entry in a member's own list: with their certificate's code once it is issued."""
    certificate_code = fields.String(allow_none=True, metadata={
        "description": "the completion certificate's verification code, once issued: its PDF is at"
                       " /v1/certificates/{code}/certificate.pdf"})


class RosterEntrySchema(Schema):
    enrolment_id = fields.UUID()
    member_id = fields.UUID()
    name = fields.String(allow_none=True, metadata={"description": "from the member's account"})
    phone = fields.String(allow_none=True, metadata={"description": "from the member's account"})
    status = fields.String(metadata={"description": "confirmed, offered, registered (lottery) or waitlisted"})
    position = fields.Integer(allow_none=True, metadata={"description": "place on the waitlist, 1 is next"})
    seats = fields.Integer()
    attended = fields.Integer(metadata={"description": "sessions held so far that the member attended"})
    held = fields.Integer(metadata={"description": "sessions held so far (ended, not cancelled)"})


class CancelSchema(Schema):
    reason = Text(validate=validate.Length(max=500))


# attendance, strikes, certificates

class MarkSchema(Schema):
    member_id = fields.UUID(required=True)
    present = fields.Boolean(required=True)


class AttendanceRequestSchema(Schema):
    code = Text(validate=validate.Length(min=1, max=20), metadata={"description": "a member checking in"})
    marks = fields.List(fields.Nested(MarkSchema), validate=validate.Length(min=1, max=1000),
                        metadata={"description": "a teacher marking the register"})

    @validates_schema
    def one_of(self, data, **kwargs):
        if ("code" in data) == ("marks" in data):
            raise ValidationError("give either code (check-in) or marks (register)", "_schema")


class AttendanceSchema(Schema):
    session_id = fields.UUID()
    member_id = fields.UUID()
    present = fields.Boolean()
    source = fields.String()
    marked_at = fields.AwareDateTime()


class AttendanceResultSchema(Schema):
    session_id = fields.UUID()
    marked = fields.List(fields.Nested(AttendanceSchema))


class StrikeSchema(Schema):
    id = fields.UUID()
    member_id = fields.UUID()
    session_id = fields.UUID()
    course_id = fields.UUID()
    created_at = fields.AwareDateTime()
    cleared_at = fields.AwareDateTime(allow_none=True)
    clear_reason = fields.String(allow_none=True)


class StrikesSchema(Schema):
    member_id = fields.UUID()
    blocked_until = fields.AwareDateTime(allow_none=True)
    strikes = fields.List(fields.Nested(StrikeSchema))


class ClearStrikesSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=500))


class CertificateSchema(Schema):
    code = fields.String()
    enrolment_id = fields.UUID()
    course_id = fields.UUID()
    course_title = fields.String()
    attended = fields.Integer()
    sessions_count = fields.Integer()
    issued_at = fields.AwareDateTime()


class CertificateDocumentSchema(CertificateSchema):
    """The printable certificate's facts: the member it names too (never in the public check's answer)."""
    member_id = fields.UUID()
    hours = fields.Float(metadata={"description": "hours of the sessions the member was marked present at"})


class CertificateCheckSchema(Schema):
    """What anyone holding the code may learn: never who the member is beyond a masked name."""
    valid = fields.Boolean()
    code = fields.String()
    course_title = fields.String()
    attended = fields.Integer()
    sessions_count = fields.Integer()
    hours = fields.Float(metadata={"description": "hours of the sessions the member was marked present at"})
    issued_at = fields.AwareDateTime()
    holder = fields.String(allow_none=True, metadata={
        "description": "the member's name, masked (王*明): enough to match the person showing it, no more;"
                       " null for an account since closed"})


# lottery

class LotterySchema(Schema):
    course_id = fields.UUID()
    seed = fields.String()
    inputs = fields.List(fields.Dict(), metadata={"description": "the entries as drawn, with their priority"
                                                  " (the course's staff only; empty for anyone else)"})
    result = fields.List(fields.Dict(), metadata={"description": "draw order and outcome: every entry for the"
                                                  " course's staff, only the caller's own for a member"})
    entrants = fields.Integer(metadata={"description": "how many entries were drawn"})
    drawn_at = fields.AwareDateTime()
    reproduced = fields.Boolean(metadata={"description": "re-running the draw from seed and inputs gives the result"})


# class requests

class ClassRequestCreateSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    category = Text(validate=validate.Length(max=100))
    description = Text(validate=validate.Length(max=10_000))
    site_id = fields.UUID(required=True, metadata={"description": "the unit's own site"})
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10_000))
    note = Text(validate=validate.Length(max=2000))


class ClassRequestSchema(Schema):
    id = fields.UUID()
    unit_id = fields.UUID()
    requested_by = fields.UUID()
    title = fields.String()
    category = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    site_id = fields.UUID()
    capacity = fields.Integer()
    note = fields.String(allow_none=True)
    state = fields.String()
    reason = fields.String(allow_none=True)
    course_id = fields.UUID(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class ClassRequestDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "decline"]))
    reason = Text(validate=validate.Length(min=1, max=2000))
    course = fields.Nested(CourseUpdateSchema, metadata={"description": "approve: the course's details"})

    @validates_schema
    def reasoned(self, data, **kwargs):
        if data["decision"] == "decline" and not data.get("reason"):
            raise ValidationError("a decline needs a reason", "reason")
