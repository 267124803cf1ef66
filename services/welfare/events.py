"""The events welfare publishes, as it writes them: its side of the contract with the services that
listen (notify). A listener checks what it needs with its own schema and never imports this module
(tests/test_service_borders.py). Money is a decimal string of yuan, as on every wire of welfare's."""
from marshmallow import Schema, fields

from services.welfare.schemas import Money


class ApplicationSubmittedSchema(Schema):
    application_id = fields.UUID(required=True)
    reference = fields.String(required=True)
    member_id = fields.UUID(required=True)
    programme = fields.String(required=True)
    programme_title = fields.String(required=True, metadata={"description": "the programme as members know it"})
    amount_requested = Money(required=True)
    submitted_at = fields.String(required=True)


class ApplicationDecidedSchema(Schema):
    application_id = fields.UUID(required=True)
    reference = fields.String(required=True)
    member_id = fields.UUID(required=True)
    programme = fields.String(required=True)
    programme_title = fields.String(required=True, metadata={"description": "the programme as members know it"})
    decision = fields.String(required=True)
    state = fields.String(required=True)
    amount = Money(allow_none=True)
    note = fields.String(required=True)
    decided_at = fields.String(required=True)


class InfoRequestedSchema(Schema):
    application_id = fields.UUID(required=True)
    reference = fields.String(required=True)
    member_id = fields.UUID(required=True)
    programme_title = fields.String(required=True, metadata={"description": "the programme as members know it"})
    note = fields.String(required=True, metadata={"description": "what information is missing"})
    requested_at = fields.String(required=True)


class CaseEscalatedSchema(Schema):
    application_id = fields.UUID(required=True)
    reference = fields.String(required=True)
    member_id = fields.UUID(required=True)
    programme_title = fields.String(required=True, metadata={"description": "the programme as members know it"})
    state = fields.String(required=True)
    waiting_since = fields.String(required=True)
    sla_hours = fields.Integer(required=True)
    assigned_officer = fields.UUID(allow_none=True)


class CaseAssignedSchema(Schema):
    """A case given to an officer: the officer is told (not the member: triage is internal)."""
    application_id = fields.UUID(required=True)
    reference = fields.String(required=True)
    programme_title = fields.String(required=True, metadata={"description": "the programme as members know it"})
    officer_id = fields.UUID(required=True)
    priority = fields.String(required=True)


class PayoutMadeSchema(Schema):
    payout_id = fields.UUID(required=True)
    reference = fields.String(required=True)
    member_id = fields.UUID(required=True)
    amount = Money(required=True)
    application_id = fields.UUID(allow_none=True)
    claim_id = fields.UUID(allow_none=True)
    programme_title = fields.String(required=True, metadata={"description": "the programme as members know it"})
    paid_at = fields.String(required=True)


class ClaimDecidedSchema(Schema):
    claim_id = fields.UUID(required=True)
    member_id = fields.UUID(required=True)
    plan_title = fields.String(required=True)
    kind = fields.String(required=True)
    decision = fields.String(required=True)
    amount = Money(required=True)
    note = fields.String(required=True)
    decided_at = fields.String(required=True)


class MutualAidEnrolledSchema(Schema):
    member_ids = fields.List(fields.UUID(), required=True, metadata={"description": "the enrolled with an account"})
    plan_id = fields.UUID(required=True)
    plan_title = fields.String(required=True)
    year = fields.Integer(required=True)
    unit_id = fields.UUID(required=True)
    enrolled = fields.Integer(required=True)
    covered_from = fields.String(allow_none=True, metadata={
        "description": "ISO date cover starts; null until the unit's contribution is recorded"})


class CounsellingCancelledSchema(Schema):
    application_id = fields.UUID(required=True)
    reference = fields.String(required=True)
    member_id = fields.UUID(required=True)
    programme_title = fields.String(required=True, metadata={"description": "the programme as members know it"})
    starts_at = fields.String(required=True, metadata={"description": "the session that will not take place"})
    ends_at = fields.String(required=True)
    reason = fields.String(required=True, metadata={"description": "why venues cancelled it (may be empty)"})
    cause = fields.String(allow_none=True, metadata={"description": "venues' cause (room_closed...), if it gave one"})
    note = fields.String(allow_none=True, metadata={"description": "the words given with that cause, if any"})


class SessionSchema(Schema):
    starts_at = fields.String(required=True)
    ends_at = fields.String(required=True)


class CounsellingBookedSchema(Schema):
    application_id = fields.UUID(required=True)
    reference = fields.String(required=True)
    member_id = fields.UUID(required=True)
    programme_title = fields.String(required=True, metadata={"description": "the programme as members know it"})
    starts_at = fields.String(required=True, metadata={"description": "the first session booked"})
    ends_at = fields.String(required=True)
    sessions = fields.List(fields.Nested(SessionSchema), required=True, metadata={"description": "every session"})
    session_count = fields.Integer(required=True)
    room_name = fields.String(allow_none=True)
    site_name = fields.String(allow_none=True)
    address = fields.String(allow_none=True, metadata={"description": "the site's address, if venues has it"})


class CaseOverdueSchema(Schema):
    """For staff: a case waits longer than its programme allows."""
    application_id = fields.UUID(required=True)
    reference = fields.String(required=True)
    member_ids = fields.List(fields.UUID(), required=True, metadata={
        "description": "the staff to tell that welfare knows of: the assigned officer (none when unassigned)"})
    roles = fields.List(fields.String(), required=True, metadata={
        "description": "and every account with these roles (the admins): for notify's staff alerts"})
    programme_title = fields.String(required=True)
    state = fields.String(required=True)
    waiting_since = fields.String(required=True)
    sla_hours = fields.Integer(required=True)
    assigned_officer = fields.UUID(allow_none=True)



class CaseDueSoonSchema(CaseOverdueSchema):
    """For staff: a case has used most of its time limit (PALACE_WELFARE_SLA_WARNING) and still waits."""
    due_at = fields.String(required=True, metadata={"description": "when its time limit is over"})


class ImportHadErrorsSchema(Schema):
    """For the unit administrator who uploaded a roster: the import finished, some rows (or all) not taken."""
    job_id = fields.UUID(required=True)
    plan_id = fields.UUID(required=True)
    plan_title = fields.String(required=True)
    unit_id = fields.UUID(required=True)
    uploaded_by = fields.UUID(allow_none=True)
    total_rows = fields.Integer(required=True)
    enrolled_rows = fields.Integer(required=True)
    bad_rows = fields.Integer(required=True)
    failed = fields.Boolean(required=True, metadata={"description": "the import stopped on an error of its own"})