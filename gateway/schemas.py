"""Request and response bodies the gateway owns itself (accounts and tokens)."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.common.fields import Phone, Text
from services.common.roles import ROLES
from services.enrolment.schemas import MemberEnrolmentSchema, SessionSchema

PASSWORD = validate.Length(min=8, max=128)


class IdLast4(Text):
    """The last 4 characters of a national ID (the 18th may be X): the front desk finds a walk-in by
    them. Never the whole ID: a longer value is refused, not cut."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Regexp(r"^[0-9]{3}[0-9Xx]\Z", error="must be the last 4 characters of"
                                                  " the national ID (digits, the last may be X), never the whole ID"),
                         metadata={"pattern": "^[0-9]{3}[0-9Xx]$", "example": "002X"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).upper()


class WalkInSchema(Schema):
    """A member's account; opened by the front desk for a walk-in, it has no password (the member
    sets one with a reset code sent to their phone)."""
    phone = Phone(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    birth_date = fields.Date(load_default=None, allow_none=True, validate=validate.Range(
        min=date(1900, 1, 1), max=date(2100, 1, 1)),
        metadata={"description": "checked against the age limits of classes"})
    id_last4 = IdLast4(allow_none=True)


class RegisterSchema(WalkInSchema):
    password = Text(required=True, load_only=True, validate=PASSWORD)


class StaffAccountSchema(RegisterSchema):
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True,
                        validate=validate.Length(min=1))
    unit_id = fields.UUID(allow_none=True)


class RolesChangeSchema(Schema):
    """An account's roles, all of them, as they are to be (a unit admin's unit with them, unless the
    account has one already)."""
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True,
                        validate=validate.Length(min=1))
    unit_id = fields.UUID(allow_none=True, load_default=None)


class AccountSchema(Schema):
    id = fields.UUID()
    phone = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())
    unit_id = fields.UUID(allow_none=True)
    birth_date = fields.Date(allow_none=True)
    id_last4 = fields.String(allow_none=True, metadata={"description": "the last 4 of the national ID"})
    created_at = fields.AwareDateTime()


class MemberFoundSchema(Schema):
    """What a clerk needs to tell members apart at the counter."""
    id = fields.UUID()
    name = fields.String()
    phone = fields.String()
    id_last4 = fields.String(allow_none=True)
    birth_date = fields.Date(allow_none=True)
    unit_id = fields.UUID(allow_none=True)
    unit_name = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class TokenRequestSchema(Schema):
    """Either phone and password, or a refresh token."""
    phone = Phone()
    password = Text(load_only=True, validate=validate.Length(max=128))
    refresh_token = Text(validate=validate.Length(max=200))

    @validates_schema
    def one_way(self, data, **kwargs):
        if "refresh_token" in data:
            return
        missing = {f: ["is required without refresh_token"] for f in ("phone", "password") if f not in data}
        if missing:
            raise ValidationError(missing)


class TokenSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class PasswordChangeSchema(Schema):
    current_password = Text(required=True, load_only=True, validate=validate.Length(max=128))
    new_password = Text(required=True, load_only=True, validate=PASSWORD)


class ResetRequestSchema(Schema):
    phone = Phone(required=True)


class ResetConfirmSchema(Schema):
    phone = Phone(required=True)
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{8}\Z", error="must be the 8-digit code"))
    new_password = Text(required=True, load_only=True, validate=PASSWORD)


class PhoneChangeSchema(Schema):
    phone = Phone(required=True, metadata={"description": "the new phone: a code is sent to it"})


class PhoneConfirmSchema(Schema):
    phone = Phone(required=True)
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{8}\Z", error="must be the 8-digit code"))


class ResetCodeSchema(Schema):
    """A reset code handed to the member by staff at the counter, after checking who they are."""
    code = fields.String()
    expires_at = fields.AwareDateTime()


class UnitCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))


class UnitSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    members = fields.Integer(metadata={"description": "member accounts in the unit"})
    created_at = fields.AwareDateTime()


class UnitMemberAddSchema(Schema):
    phone = Phone(required=True)


class UnitMemberSchema(Schema):
    """A worker as their unit's administrator sees them: no birth date, no ID digits (issue 18)."""
    id = fields.UUID()
    phone = fields.String()
    name = fields.String()
    unit_id = fields.UUID(allow_none=True)
    created_at = fields.AwareDateTime()


class UnitInvitationSchema(Schema):
    id = fields.UUID()
    unit_id = fields.UUID()
    unit_name = fields.String()
    phone = fields.String(metadata={"description": "the invited member's"})
    status = fields.String(metadata={"description": "pending, accepted or declined"})
    created_at = fields.AwareDateTime()
    answered_at = fields.AwareDateTime(allow_none=True)


class BirthDateSchema(Schema):
    birth_date = fields.Date(required=True, validate=validate.Range(min=date(1900, 1, 1), max=date(2100, 1, 1)),
                             metadata={"description": "set once by the member (the age limits of classes are"
                                                      " checked against it); a mistake is corrected by staff"})


class ProblemSchema(Schema):
    type = fields.String(metadata={"format": "uri", "description": "the address of a page saying what the problem"
                                   " means and what to do; its last part is the kind of problem, a stable slug"
                                   " (`.../problems/room-clash`)"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict()
    request_id = fields.String()


class TimetableItemSchema(Schema):
    kind = fields.String(validate=validate.OneOf(["class", "booking", "counselling"]),
                         metadata={"description": "class: a session of a course with a confirmed seat; booking: a room"
                                   " the member booked; counselling: an appointment of their counselling case"})
    id = fields.UUID(metadata={"description": "the session, booking or appointment"})
    title = fields.String()
    starts_at = fields.AwareDateTime(metadata={"description": "Asia/Shanghai time, +08:00"})
    ends_at = fields.AwareDateTime(metadata={"description": "Asia/Shanghai time, +08:00"})
    room_id = fields.String(allow_none=True)
    room_name = fields.String(allow_none=True)
    site_name = fields.String(allow_none=True)
    site_address = fields.String(allow_none=True, metadata={"description": "the street address of the room's site"})
    course_id = fields.UUID(metadata={"description": "class: the course to open"})
    application_id = fields.UUID(metadata={"description": "counselling: the case to open"})


class EnrolledCourseSchema(Schema):
    title = fields.String()
    state = fields.String(metadata={"description": "published or cancelled"})
    site_id = fields.UUID(allow_none=True)
    site_name = fields.String(allow_none=True)
    room_id = fields.UUID(allow_none=True)
    room_name = fields.String(allow_none=True)
    next_session = fields.Nested(SessionSchema, allow_none=True,
                                 metadata={"description": "the first not cancelled that has not ended (+08:00)"})
    checkin_session = fields.Nested(SessionSchema, allow_none=True, metadata={
        "description": "the session a member may check in to now (from an hour before its start to 12 hours after)"})


class MyEnrolmentSchema(MemberEnrolmentSchema):
    course = fields.Nested(EnrolledCourseSchema, allow_none=True)
