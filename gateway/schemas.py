"""Request and response bodies the gateway owns itself (accounts and tokens)."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.common.fields import Phone, Text
from services.common.roles import ROLES

PASSWORD = validate.Length(min=8, max=128)


class RegisterSchema(Schema):
    phone = Phone(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    password = Text(required=True, load_only=True, validate=PASSWORD)
    birth_date = fields.Date(load_default=None, allow_none=True, validate=validate.Range(
        min=date(1900, 1, 1), max=date(2100, 1, 1)),
        metadata={"description": "checked against the age limits of classes"})


class StaffAccountSchema(RegisterSchema):
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True,
                        validate=validate.Length(min=1))
    unit_id = fields.UUID(allow_none=True)


class AccountSchema(Schema):
    id = fields.UUID()
    phone = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())
    unit_id = fields.UUID(allow_none=True)
    birth_date = fields.Date(allow_none=True)
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


class ProblemSchema(Schema):
    type = fields.String()
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
    course_id = fields.UUID(metadata={"description": "class: the course to open"})
    application_id = fields.UUID(metadata={"description": "counselling: the case to open"})
