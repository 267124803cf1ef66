"""The events enrolment publishes, as it writes them: its side of the contract with the services
that listen (notify, the gateway's catalog). A listener checks what it needs with its own schema and
never imports this module (tests/test_service_borders.py)."""
from marshmallow import Schema, fields


class CountsSchema(Schema):
    """The course's figures after the change; always sent, not required of older events."""
    course_id = fields.UUID(required=True)
    course_version = fields.Integer()
    seats_left = fields.Integer()
    waitlist_length = fields.Integer()


class EnrolmentEventSchema(CountsSchema):
    """enrolment_confirmed, enrolment_waitlisted, enrolment_promoted, enrolment_cancelled,
    offer_made, offer_expired."""
    enrolment_id = fields.UUID(required=True)
    course_title = fields.String(required=True)
    member_id = fields.UUID(required=True)
    status = fields.String(required=True)
    position = fields.Integer(allow_none=True)
    seats = fields.Integer()
    first_session_at = fields.String(allow_none=True)
    offer_expires_at = fields.String(allow_none=True)
    expires_at = fields.String(allow_none=True, metadata={"description": "offer_made: the same as offer_expires_at"})
    reason = fields.String(allow_none=True)
    draw_at = fields.String(allow_none=True, metadata={"description": "lottery_interest_registered: the draw"})


class LotteryDrawnSchema(CountsSchema):
    course_title = fields.String(required=True)
    member_ids = fields.List(fields.UUID(), required=True)
    confirmed_member_ids = fields.List(fields.UUID())
    waitlisted_member_ids = fields.List(fields.UUID())
    seed = fields.String()
    result = fields.String(metadata={"description": "for the message; each member's own outcome comes as"
                                                    " enrolment_confirmed or enrolment_waitlisted"})


class CoursePublishedSchema(Schema):
    """course_published, course_updated and course_cancelled (this one with member_ids)."""
    course_id = fields.UUID(required=True)
    course = fields.Dict(required=True)
    title = fields.String()
    capacity = fields.Integer()
    member_ids = fields.List(fields.UUID())
    reason = fields.String(allow_none=True)


class CourseRescheduledSchema(Schema):
    """course_rescheduled: a published course got its timetable or room, or changed them."""
    course_id = fields.UUID(required=True)
    course_title = fields.String(required=True)
    member_ids = fields.List(fields.UUID(), required=True)
    announced = fields.Boolean(metadata={"description": "the course had no timetable to come before"})
    first_session_at = fields.String(allow_none=True)
    sessions = fields.Integer(metadata={"description": "sessions still to come"})
    room_id = fields.UUID(allow_none=True)
    room_name = fields.String(allow_none=True)
    site_name = fields.String(allow_none=True)
    dropped_member_ids = fields.List(fields.UUID(), metadata={
        "description": "members whose seat was given up because the new times overlap another class of theirs"})


class SessionEventSchema(Schema):
    """session_upcoming, session_moved (to another room) and session_cancelled."""
    session_id = fields.UUID(required=True)
    course_id = fields.UUID(required=True)
    course_title = fields.String(required=True)
    member_ids = fields.List(fields.UUID(), required=True)
    starts_at = fields.String(required=True)
    ends_at = fields.String(required=True)
    old_starts_at = fields.String(allow_none=True, metadata={"description": "session_moved: when it was"})
    state = fields.String()
    reason = fields.String(allow_none=True)
    cause = fields.String(allow_none=True, metadata={
        "description": "session_moved/cancelled: venues' cause for the lost booking (room_closed...)"})
    note = fields.String(allow_none=True, metadata={"description": "the words given with that cause, if any"})
    room_id = fields.UUID(allow_none=True, metadata={"description": "session_moved: the room it moved to"})
    room_name = fields.String(allow_none=True)
    old_room_name = fields.String(allow_none=True)


class CertificateIssuedSchema(Schema):
    member_id = fields.UUID(required=True)
    enrolment_id = fields.UUID(required=True)
    course_id = fields.UUID(required=True)
    course_title = fields.String(required=True)
    code = fields.String(required=True)


class ClassRequestSubmittedSchema(Schema):
    """A unit asked for a class: the admins who decide are told."""
    request_id = fields.UUID(required=True)
    unit_id = fields.UUID(required=True)
    requested_by = fields.UUID(required=True)
    title = fields.String(required=True)
    capacity = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)


class ClassRequestDecidedSchema(Schema):
    member_id = fields.UUID(required=True)
    request_id = fields.UUID(required=True)
    unit_id = fields.UUID(required=True)
    title = fields.String(required=True)
    decision = fields.String(required=True)
    reason = fields.String(allow_none=True)
    course_id = fields.UUID(allow_none=True)
