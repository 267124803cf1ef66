"""The welfare service's RPC payloads (its events are in events.py).

Money on the wire is a decimal string of yuan with at most two decimals ("1500.00"); inside the
service and its database it is integer fen. Never a float."""
from datetime import datetime

from marshmallow import Schema, ValidationError, fields, missing, validate, validates_schema

from services.common.fields import Moment, Phone, Text
from services.common.zone import HOME_ZONE
from services.welfare import domain

PROGRAMMES = ("hardship_relief", "mutual_aid", "education_subsidy", "merit_scholarship", "legal_aid", "counselling")
MONEY_DOC = "yuan as a decimal string with at most two decimals, e.g. \"1500.00\""


class Money(fields.String):
    """A non-negative yuan amount as a string; loads to integer fen, dumps fen as '1234.50'."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("description", MONEY_DOC)
        super().__init__(*args, validate=validate.Regexp(domain.MONEY.pattern, error="must be yuan like 1500.00"),
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("must be a string of yuan like \"1500.00\" (not a number)")
        return super()._deserialize(value, attr, data, **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        text = super().deserialize(value, attr, data, **kwargs)
        if text is missing:  # left out stays left out (a partial update keeps the stored figure)
            return text
        return None if text is None else domain.parse_money(text)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else domain.yuan(int(value))


class SignedMoney(fields.String):
    """A ledger amount in yuan (negative for money leaving an account), dumped from fen."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else domain.yuan(int(value))


class Private(Schema):
    health = Text(validate=validate.Length(max=4000), allow_none=True)
    income = Text(validate=validate.Length(max=4000), allow_none=True)
    family = Text(validate=validate.Length(max=4000), allow_none=True)
    household_income = Money(allow_none=True, metadata={
        "description": f"the whole household's income a month ({MONEY_DOC}); checked by income rules"})
    household_size = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=30),
                                    metadata={"description": "people living on that income"})


# ---------------------------------------------------------------- programmes and applications

class ProgrammeSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "money (pays) or service (legal aid, counselling)"})
    fund_id = fields.String(allow_none=True)
    approval_threshold = Money(metadata={"description": "above this, approvals_required officers must sign"})
    approvals_required = fields.Integer()
    max_amount = Money(allow_none=True)
    sla_hours = fields.Integer()
    required_documents = fields.List(fields.String())
    eligibility = fields.String(metadata={"description": "who the programme is for, in words"})
    eligibility_rules = fields.Method("rules_out", metadata={
        "type": "array", "items": {"type": "object"},
        "description": "the rules checked when a case is submitted: min_membership_months {months}, "
                       "income_per_person_below {amount: yuan a month per person}, unit_in_plan, one_per_year"})

    def rules_out(self, programme):
        return [{**r, "amount": domain.yuan(r["amount"])} if isinstance(r.get("amount"), int) else r
                for r in programme.get("eligibility_rules") or []]
    yearly_budget = Money()
    fixed_parts = fields.List(fields.Dict(), metadata={"description": "fixed amounts each from its own fund"})


class EligibilityRuleSchema(Schema):
    """One eligibility rule as welfare staff read and set it."""
    rule = fields.String(required=True, validate=validate.OneOf(tuple(domain.RULE_FIGURES)), metadata={
        "description": "min_membership_months (months), income_per_person_below (amount), unit_in_plan "
                       "(the member's unit is in this year's mutual-aid plan), one_per_year"})
    months = fields.Integer(strict=True, validate=validate.Range(min=1, max=600),
                            metadata={"description": "min_membership_months: whole months a member at least"})
    amount = Money(metadata={"description": f"income_per_person_below: the household's monthly income per "
                                            f"person must be below it ({MONEY_DOC})"})

    @validates_schema
    def figures(self, data, **kwargs):
        errors = domain.figure_problems(data)
        if errors:
            raise ValidationError(errors)


class RulesUpdateSchema(Schema):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "the version of the rules you read: if someone changed them "
                                                      "since, nothing is saved and the answer is 409"})
    rules = fields.List(fields.Nested(EligibilityRuleSchema), required=True,
                        validate=validate.Length(max=len(domain.RULE_FIGURES)),
                        metadata={"description": "the programme's new rules, replacing all of them ([]: none)"})
    note = Text(load_default="", validate=validate.Length(max=1000),
                metadata={"description": "why, for the audit trail (e.g. the city's relief line for 2027)"})

    @validates_schema
    def each_rule_once(self, data, **kwargs):
        errors = domain.repeated_rules([r["rule"] for r in data.get("rules", [])])
        if errors:
            raise ValidationError({"rules": errors})


class RulesSchema(Schema):
    programme = fields.String()
    rules = fields.List(fields.Nested(EligibilityRuleSchema), attribute="eligibility_rules",
                        metadata={"description": "checked when a case is submitted; cases submitted before a "
                                                 "change keep the rules they were checked against"})
    version = fields.Integer(attribute="rules_version", metadata={"description": "send it back to change the rules"})
    updated_at = fields.AwareDateTime(attribute="rules_updated_at", allow_none=True,
                                      metadata={"description": "last changed over the API (null: as installed)"})


class RuleChangeSchema(Schema):
    version = fields.Integer(metadata={"description": "the version the rules became"})
    old_rules = fields.List(fields.Nested(EligibilityRuleSchema))
    new_rules = fields.List(fields.Nested(EligibilityRuleSchema))
    actor_id = fields.UUID(metadata={"description": "the officer who changed them"})
    note = fields.String()
    request_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class RuleChangesSchema(Schema):
    programme = fields.String()
    changes = fields.List(fields.Nested(RuleChangeSchema), metadata={"description": "newest first"})


class ApplicationCreateSchema(Schema):
    programme = fields.String(required=True, validate=validate.OneOf(PROGRAMMES))
    amount_requested = Money(load_default="0", metadata={"description": f"{MONEY_DOC}; 0 for services"})
    reason = Text(required=True, validate=validate.Length(min=1, max=4000))
    member_id = fields.UUID(metadata={"description": "an officer applying on a member's behalf"})
    national_id = Text(validate=validate.Length(equal=18),
                       metadata={"description": "resident ID number: stored encrypted, only ever shown masked"})
    private = fields.Nested(Private, metadata={"description": "health, income and family circumstances"})
    draft = fields.Boolean(load_default=False, metadata={
        "description": "keep it as a draft, attach its documents, then submit it (needed when the programme "
                       "requires documents)"})

    @validates_schema
    def national_id_valid(self, data, **kwargs):
        if data.get("national_id"):
            problem = domain.national_id_problem(data["national_id"])
            if problem:
                raise ValidationError(problem, "national_id")


class DecisionEntrySchema(Schema):
    action = fields.String()
    from_state = fields.String()
    to_state = fields.String()
    round = fields.Integer()
    actor_id = fields.UUID(allow_none=True)
    amount = Money(allow_none=True)
    note = fields.String()
    facts = fields.Dict(metadata={"description": "the facts the decision rested on, frozen"})
    created_at = fields.AwareDateTime()


class DocumentSchema(Schema):
    id = fields.UUID()
    application_id = fields.UUID()
    kind = fields.String(metadata={"description": "which document it is, e.g. income_statement"})
    filename = fields.String()
    content_type = fields.String(metadata={"description": "application/pdf, image/jpeg or image/png, "
                                                          "read from the file's bytes"})
    size = fields.Integer(metadata={"description": "bytes"})
    sha256 = fields.String()
    uploaded_by = fields.UUID()
    uploaded_at = fields.AwareDateTime()


class ApplicationSchema(Schema):
    id = fields.UUID()
    reference = fields.String()
    programme = fields.String()
    member_id = fields.UUID()
    submitted_by = fields.UUID()
    state = fields.String(metadata={"description": ", ".join(domain.STATES)})
    round = fields.Integer()
    amount_requested = Money()
    amount_approved = Money(allow_none=True)
    reason = fields.String()
    documents = fields.List(fields.Nested(DocumentSchema), metadata={"description": "the attached files (detail only)"})
    national_id = fields.String(allow_none=True, metadata={"description": "masked"})
    private = fields.Nested(Private, allow_none=True,
                            metadata={"description": "only for the applicant and the officers on the case"})
    assigned_officer = fields.UUID(allow_none=True)
    priority = fields.String()
    approvals = fields.Integer(metadata={"description": "sign-offs in this round"})
    escalated_at = fields.AwareDateTime(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    decisions = fields.List(fields.Nested(DecisionEntrySchema), metadata={"description": "in the detail only"})
    payout = fields.Dict(allow_none=True)
    appointments = fields.List(fields.Nested("AppointmentSchema"), metadata={"description": "counselling sessions"})


class DecisionCreateSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(domain.DECISIONS))
    amount = Money(allow_none=True, metadata={"description": f"{MONEY_DOC}; required to approve money"})
    note = Text(load_default="", validate=validate.Length(max=4000))


class ResubmitSchema(Schema):
    note = Text(load_default="", validate=validate.Length(max=4000),
                metadata={"description": "required when answering a return: the information added"})
    private = fields.Nested(Private)


class AssignmentSchema(Schema):
    officer_id = fields.UUID(required=True)
    priority = fields.String(load_default="normal", validate=validate.OneOf(("urgent", "normal", "low")))


class AppointmentCreateSchema(Schema):
    room_id = Text(required=True, validate=validate.Length(min=1, max=100))
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)
    weeks = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=12),
                           metadata={"description": "the same slot this many weeks in a row"})

    @validates_schema
    def span(self, data, **kwargs):
        if "starts_at" in data and "ends_at" in data:
            length = (data["ends_at"] - data["starts_at"]).total_seconds()
            if not 0 < length <= 4 * 3600:
                raise ValidationError("must be after starts_at, at most 4 hours later", "ends_at")


class AppointmentSchema(Schema):
    id = fields.UUID()
    application_id = fields.UUID()
    room_id = fields.String()
    booking_id = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    cancelled_at = fields.AwareDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class CounsellingAppointmentSchema(AppointmentSchema):
    """An appointment in the officers' counselling week: where, when, whose case and its state."""
    member_id = fields.UUID()
    member_name = fields.String(allow_none=True, metadata={"description": "from the accounts (null: closed since)"})
    room_name = fields.String(allow_none=True)
    site_name = fields.String(allow_none=True)
    reference = fields.String(metadata={"description": "the case's reference"})
    case_state = fields.String()
    state = fields.String(metadata={"description": "booked or cancelled"})


class DeskCaseSchema(Schema):
    """A member's case as the front desk sees it: its state, never its facts."""
    id = fields.UUID()
    reference = fields.String()
    programme = fields.String()
    state = fields.String()
    created_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)


class PayoutSchema(Schema):
    id = fields.UUID()
    reference = fields.String()
    amount = Money()
    application_id = fields.UUID(allow_none=True)
    claim_id = fields.UUID(allow_none=True)
    member_id = fields.UUID()
    created_at = fields.AwareDateTime()


class LedgerEntrySchema(Schema):
    transaction_id = fields.Integer()
    kind = fields.String(metadata={"description": "budget, commitment, payout or reversal"})
    year = fields.Integer()
    account = fields.String(metadata={"description": "allocation, available, committed or paid_out"})
    amount = SignedMoney(metadata={"description": "yuan; negative when money leaves the account"})
    memo = fields.String()
    application_id = fields.UUID(allow_none=True)
    claim_id = fields.UUID(allow_none=True)
    payout_id = fields.UUID(allow_none=True)
    created_at = fields.AwareDateTime()


class BalancesSchema(Schema):
    allocation = SignedMoney()
    available = SignedMoney()
    committed = SignedMoney()
    paid_out = SignedMoney()


class BudgetCreateSchema(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    amount = Money(required=True, metadata={"description": f"{MONEY_DOC}: added to the fund's available money"})
    note = Text(load_default="", validate=validate.Length(max=500))


class BudgetSchema(Schema):
    year = fields.Integer()
    amount = Money()


class LedgerSchema(Schema):
    fund_id = fields.String()
    name = fields.String()
    balances = fields.Nested(BalancesSchema)
    budgets = fields.List(fields.Nested(BudgetSchema), metadata={"description": "budget put in, per year"})
    total = SignedMoney(metadata={"description": "sum of the balances: always 0.00"})
    entries = fields.List(fields.Nested(LedgerEntrySchema))


class AuditSchema(Schema):
    application_id = fields.UUID()
    reads = fields.List(fields.Dict())


# ---------------------------------------------------------------- mutual aid

class AccidentRulesSchema(Schema):
    minor = Money(required=True)
    moderate = Money(required=True)
    severe = Money(required=True)
    disability = Money(required=True)


class PlanRulesSchema(Schema):
    hospital_daily = Money(required=True, metadata={"description": "allowance per day in hospital"})
    hospital_deductible_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=30))
    hospital_max_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=366))
    waiting_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=365),
                                  metadata={"description": "days after cover starts before illness is covered"})
    critical_illness = Money(required=True)
    accident = fields.Nested(AccidentRulesSchema, required=True)
    yearly_cap = Money(required=True, metadata={"description": "the most one member receives in the plan year"})


class PlanCreateSchema(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    contribution = Money(required=True, metadata={"description": "per member per year"})
    rules = fields.Nested(PlanRulesSchema, required=True)


class PlanSchema(Schema):
    id = fields.UUID()
    year = fields.Integer()
    name = fields.String()
    contribution = Money()
    rules = fields.Nested(PlanRulesSchema)
    enrolled = fields.Integer()
    created_at = fields.AwareDateTime()


class ContributionCreateSchema(Schema):
    unit_id = fields.UUID(required=True)
    amount = Money(required=True)


class ContributionSchema(Schema):
    plan_id = fields.UUID()
    unit_id = fields.UUID()
    amount = Money()
    headcount = fields.Integer(allow_none=True, metadata={"description": "the confirmed workers it pays for"})
    recorded_at = fields.AwareDateTime()


class RowErrorSchema(Schema):
    line = fields.Integer(metadata={"description": "line number in the file, the header is line 1"})
    errors = fields.List(fields.String())


class ImportJobSchema(Schema):
    id = fields.UUID()
    plan_id = fields.UUID()
    unit_id = fields.UUID()
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    total_rows = fields.Integer()
    processed_rows = fields.Integer()
    enrolled_rows = fields.Integer()
    bad_rows = fields.Integer()
    errors = fields.List(fields.Nested(RowErrorSchema))
    failure = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)


class PlanEnrolmentSchema(Schema):
    id = fields.Integer()
    plan_id = fields.UUID()
    unit_id = fields.UUID()
    member_id = fields.UUID(allow_none=True)
    name = fields.String()
    phone = fields.String(allow_none=True)
    national_id = fields.String(metadata={"description": "masked: never in full in a list"})
    enrolled_at = fields.AwareDateTime()
    cover_from = fields.AwareDateTime(allow_none=True, metadata={"description": "when the unit's contribution "
                                                                               "was recorded (null: no cover yet)"})
    confirmed_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "null: copied by a renewal from last year's roster, waiting for the unit to confirm it"})
    renewed_from = fields.Integer(allow_none=True, metadata={"description": "the row of last year it was copied from"})


class RosterRowUpdateSchema(Schema):
    name = Text(validate=validate.Length(min=1, max=100), metadata={"description": "the worker's name"})
    phone = Phone(allow_none=True, metadata={"description": "their mobile: a worker with no account yet is "
                                                            "linked to the account registered with it"})


class RenewalCreateSchema(Schema):
    from_plan_id = fields.UUID(required=True, metadata={"description": "last year's plan whose roster is copied"})
    unit_id = fields.UUID(metadata={"description": "officers only: the unit (a unit_admin renews their own)"})


class RosterConfirmationSchema(Schema):
    unit_id = fields.UUID(metadata={"description": "officers only: the unit (a unit_admin confirms their own)"})


class RosterSchema(Schema):
    plan_id = fields.UUID()
    unit_id = fields.UUID()
    copied = fields.Integer(metadata={"description": "rows this renewal copied (0 when asked again)"})
    confirmed = fields.Integer(metadata={"description": "workers on the roster, confirmed"})
    waiting = fields.Integer(metadata={"description": "copied rows waiting for the unit's confirmation"})


class ClaimCreateSchema(Schema):
    plan_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(domain.CLAIM_KINDS))
    event_date = fields.Date(required=True, metadata={"description": "admission, diagnosis or accident date"})
    details = fields.Dict(required=True, metadata={
        "description": "hospital: {days}; critical_illness: {diagnosis}; accident: {severity}"})
    member_id = fields.UUID(metadata={"description": "an officer claiming on a member's behalf"})
    enrolment_id = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "an officer claiming for a worker on the roster who has no account yet: their roster row"})

    @validates_schema
    def one_claimant(self, data, **kwargs):
        if "member_id" in data and "enrolment_id" in data:
            raise ValidationError("name the member or the roster row, not both", "enrolment_id")

    @validates_schema
    def details_fit(self, data, **kwargs):
        if "kind" in data and "details" in data:
            problem = domain.claim_details_problem(data["kind"], data["details"])
            if problem:
                raise ValidationError(problem["details"], "details")
        if "event_date" in data:
            today = datetime.now(HOME_ZONE).date()
            if data["event_date"] > today or data["event_date"].year < 2000:
                raise ValidationError("must be a day that has happened (not in the future, not before 2000)",
                                      "event_date")


class ExplanationLineSchema(Schema):
    text = fields.String()
    amount = SignedMoney()


class ClaimDocumentSchema(Schema):
    id = fields.UUID()
    claim_id = fields.UUID()
    kind = fields.String(metadata={"description": "which document it is, e.g. discharge_summary"})
    filename = fields.String()
    content_type = fields.String(metadata={"description": "application/pdf, image/jpeg or image/png, "
                                                          "read from the file's bytes"})
    size = fields.Integer(metadata={"description": "bytes"})
    sha256 = fields.String()
    uploaded_by = fields.UUID()
    uploaded_at = fields.AwareDateTime()


class ClaimSchema(Schema):
    id = fields.UUID()
    plan_id = fields.UUID()
    enrolment_id = fields.Integer(metadata={"description": "the worker's row on the plan's roster"})
    member_id = fields.UUID(allow_none=True, metadata={
        "description": "null while the worker (claimed for by an officer) has no account"})
    submitted_by = fields.UUID()
    approvals = fields.Integer(metadata={"description": "officers who approved it so far"})
    approvals_needed = fields.Integer(metadata={
        "description": "distinct officers who must approve it (two above the programme's threshold)"})
    documents = fields.List(fields.Nested(ClaimDocumentSchema), metadata={
        "description": "in a claim's own read only"})
    kind = fields.String()
    event_date = fields.Date()
    details = fields.Dict(allow_none=True, metadata={
        "description": "health details: for the member, the assigned officer and the officer who decided it; "
                       "never in staff lists"})
    state = fields.String(metadata={"description": "submitted, under_review (approved by fewer officers than it "
                                                   "needs), approved, rejected or paid"})
    amount = Money()
    explanation = fields.List(fields.Nested(ExplanationLineSchema))
    note = fields.String()
    decided_by = fields.UUID(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    assigned_officer = fields.UUID(allow_none=True, metadata={"description": "the officer triage gave it to"})
    assigned_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class ClaimAssignmentSchema(Schema):
    officer_id = fields.UUID(required=True, metadata={"description": "the officer who reviews the claim"})


class ClaimDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    note = Text(load_default="", validate=validate.Length(max=4000))


class PayoutListedSchema(PayoutSchema):
    """A payout in the officers' list: the programme it paid from and who paid it."""
    programme = fields.String()
    paid_by = fields.UUID(allow_none=True)
