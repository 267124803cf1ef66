"""Welfare rules, free of I/O: money, the case state machine, the approval policy, the
mutual-aid benefit arithmetic and the enrolment CSV rows.

Money is integer fen everywhere (1 yuan = 100 fen); it becomes a "1234.50" yuan string only on
the wire."""
import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from services.common.fields import MOBILE, MOBILE_PROBLEM

# ---------------------------------------------------------------- refusals
# Plain errors: the rules know nothing of RPC or HTTP. The service turns each into its answer
# (service.refusals), keeping `problem` (a stable slug) and `errors` (the fields at fault, why).

class Refused(Exception):
    problem = "refused"

    def __init__(self, detail, problem=None, errors=None):
        super().__init__(detail)
        self.detail, self.problem, self.errors = detail, problem or self.problem, errors or {}


class BadInput(Refused):
    """What was asked breaks a rule (an amount, a note, a rule not met)."""
    problem = "validation-failed"


class NotAllowed(Refused):
    """This person may not do this to this case."""
    problem = "forbidden"


class WrongState(Refused):
    """The case is not where this can happen (or others got there first)."""
    problem = "conflict"


class TooLarge(Refused):
    """A file over the size a case may keep."""
    problem = "payload-too-large"


class Unsupported(Refused):
    """A file of a kind a case does not keep."""
    problem = "unsupported-media-type"


# ---------------------------------------------------------------- money

MONEY = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$")


def parse_money(text):
    """'1234.5' -> 123450 fen; None when the text is not a plain non-negative yuan amount."""
    if not isinstance(text, str) or not MONEY.match(text):
        return None
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern already refused it
        return None


def yuan(fen):
    """123450 -> '1234.50' (negative amounts keep their sign)."""
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


# ---------------------------------------------------------------- the case state machine

DRAFT, SUBMITTED, UNDER_REVIEW, APPROVED, REJECTED, RETURNED, PAID, CLOSED = (
    "draft", "submitted", "under_review", "approved", "rejected", "returned", "paid", "closed")
STATES = (DRAFT, SUBMITTED, UNDER_REVIEW, APPROVED, REJECTED, RETURNED, PAID, CLOSED)
OPEN = (SUBMITTED, UNDER_REVIEW)

# Forward only. The one way back to `submitted` is a member answering a return with more
# information, and that starts a new round (earlier sign-offs no longer count).
TRANSITIONS = {
    DRAFT: {SUBMITTED},
    SUBMITTED: {UNDER_REVIEW, APPROVED, REJECTED, RETURNED},
    UNDER_REVIEW: {APPROVED, REJECTED, RETURNED},
    RETURNED: {SUBMITTED},
    APPROVED: {PAID, CLOSED},
    REJECTED: {CLOSED},
    PAID: {CLOSED},
    CLOSED: set(),
}


def can_move(from_state, to_state):
    return to_state in TRANSITIONS[from_state]


def move(from_state, to_state):
    """The state after a transition, or a Conflict that says why it cannot happen."""
    if not can_move(from_state, to_state):
        raise WrongState(f"a case that is {from_state} cannot become {to_state}", "illegal-transition",
                         {"state": [f"is {from_state}"]})
    return to_state


# ---------------------------------------------------------------- approval policy

@dataclass(frozen=True)
class Policy:
    """What a programme asks before money moves."""
    code: str
    kind: str                      # 'money' or 'service'
    approval_threshold: int        # fen; above it, `approvals_required` officers must sign
    approvals_required: int
    max_amount: int | None         # fen
    parts: tuple = ()              # fixed parts ((fund_id, amount, label), ...): education support

    @property
    def fixed_amount(self):
        return sum(p[1] for p in self.parts) if self.parts else None

    def signatures_needed(self, amount):
        return self.approvals_required if amount > self.approval_threshold else 1


@dataclass(frozen=True)
class Case:
    state: str
    member_id: str
    submitted_by: str
    round: int
    amount_requested: int


@dataclass(frozen=True)
class Outcome:
    to_state: str
    amount: int | None
    signatures_needed: int
    final: bool              # the decision closes the review (approved, rejected or returned)


DECISIONS = ("approve", "reject", "return", "close")


def decide(policy: Policy, case: Case, actor: str, decision: str, amount: int | None, note: str,
           approvals: list) -> Outcome:
    """The outcome of an officer's decision, or the reason it is refused.

    `approvals` are this round's earlier sign-offs as (officer_id, amount)."""
    if decision not in DECISIONS:
        raise BadInput(f"unknown decision {decision}", errors={"decision": [f"must be one of {', '.join(DECISIONS)}"]})
    if actor in (case.member_id, case.submitted_by):
        whose = "their own application" if actor == case.member_id else "an application they submitted"
        raise NotAllowed(f"an officer may not decide {whose}", "own-application",
                         {"decision": [f"you may not decide {whose}"]})
    if decision == "close":
        return Outcome(move(case.state, CLOSED), None, 0, True)
    if case.state not in OPEN:
        problem = "case-closed" if case.state in (CLOSED, PAID, REJECTED) else "case-not-open"
        raise WrongState(f"the case is {case.state}: only a submitted or reviewed case can be decided", problem,
                         {"state": [f"is {case.state}"]})
    if decision == "reject":
        return Outcome(move(case.state, REJECTED), None, 0, True)
    if decision == "return":
        if not note.strip():
            raise BadInput("say what information is missing", errors={"note": ["is required to return a case"]})
        return Outcome(move(case.state, RETURNED), None, 0, True)
    # approve
    if any(officer == actor for officer, _ in approvals):
        raise WrongState("this officer has already signed off this case; another officer must approve it",
                         "already-approved", {"decision": ["you already approved this case"]})
    amount = approved_amount(policy, case, amount, approvals)
    needed = policy.signatures_needed(amount) if policy.kind == "money" else 1
    final = len(approvals) + 1 >= needed  # this sign-off and the round's earlier ones
    to_state = move(case.state, APPROVED if final else UNDER_REVIEW) if (final or case.state != UNDER_REVIEW) \
        else UNDER_REVIEW
    return Outcome(to_state, amount, needed, final)


def approved_amount(policy: Policy, case: Case, amount, approvals):
    if policy.kind == "service":
        if amount not in (None, 0):
            raise BadInput("this programme pays no money", errors={"amount": ["must be left out for this programme"]})
        return 0
    if policy.fixed_amount is not None:
        if amount not in (None, policy.fixed_amount):
            raise BadInput(f"this programme pays exactly {yuan(policy.fixed_amount)}",
                           errors={"amount": [f"must be {yuan(policy.fixed_amount)}"]})
        amount = policy.fixed_amount
    if amount is None:
        if approvals:
            return approvals[0][1]
        raise BadInput("an approval needs the amount to pay", errors={"amount": ["is required to approve"]})
    if amount <= 0:
        raise BadInput("an approval pays more than nothing", errors={"amount": ["must be more than 0"]})
    if policy.max_amount is not None and amount > policy.max_amount:
        raise BadInput(f"this programme pays at most {yuan(policy.max_amount)}",
                       errors={"amount": [f"must be at most {yuan(policy.max_amount)}"]})
    if approvals and approvals[0][1] != amount:
        raise WrongState(f"the first officer approved {yuan(approvals[0][1])}; sign the same amount or return the case",
                         "amount-differs", {"amount": [f"must be {yuan(approvals[0][1])} like the first sign-off"]})
    return amount


def payment_parts(policy: Policy, fund_id, amount):
    """[(fund_id, amount, label)] that together pay `amount`, each from its own fund."""
    if policy.parts:
        return list(policy.parts)
    return [(fund_id, amount, policy.code.replace("_", " "))]


def payout_problem(state, kind):
    """Why a case cannot be paid now, or None."""
    if kind == "service":
        return ("nothing-to-pay", "this programme gives a service, not money")
    if state == PAID:
        return ("already-paid", "this application has already been paid")
    if state == REJECTED:
        return ("not-approved", "this application was rejected; a rejected application is never paid")
    if state != APPROVED:
        return ("not-approved", f"only an approved application can be paid; this one is {state}")
    return None


# ---------------------------------------------------------------- privacy

def parties(row):
    """Whose a case or a claim is: the member it is for and whoever filed it (an officer acting for
    them). Neither may triage, decide or resubmit it as an officer."""
    return {str(row["member_id"]), str(row["submitted_by"])}


def check_not_self_assigned(assigner_id, officer_id, what):
    """Triage is someone else's: an officer who took a case themselves would read its private facts
    on no one's word, so a welfare admin or another officer gives it to them (issue 18)."""
    if assigner_id == officer_id:
        raise NotAllowed(f"an officer cannot assign a {what} to themselves: a welfare admin or another officer "
                         "assigns it", "self-assignment",
                         {"officer_id": ["is you: ask a welfare admin or another officer to assign it"]})


def may_see_private(caller_id, member_id, assigned_officer, reviewers):
    """Health, income and family: the applicant, the assigned officer and the officers who decided."""
    return caller_id is not None and (
        caller_id == member_id or caller_id == assigned_officer or caller_id in reviewers)


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
NATIONAL_ID = re.compile(r"^[0-9]{17}[0-9X]$")


def national_id_problem(value):
    """Why this is not a resident identity card number (18 characters, valid birth date and check digit)."""
    if not isinstance(value, str) or not NATIONAL_ID.match(value):
        return "must be 18 characters: 17 digits and a digit or X"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "has no valid birth date"
    if ID_CHECK[sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS)) % 11] != value[17]:
        return "has a wrong check digit"
    return None


def national_id_check_digit(first17):
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def mask_national_id(value):
    """Only the last 4: the first digits are the region and, with the birth date a member's account
    holds, would give back most of the number (the desk finds members by these 4, as the gateway does)."""
    return "*" * (len(value) - 4) + value[-4:]


# ---------------------------------------------------------------- the mutual-aid plan

HOSPITAL, CRITICAL_ILLNESS, ACCIDENT = "hospital", "critical_illness", "accident"
CLAIM_KINDS = (HOSPITAL, CRITICAL_ILLNESS, ACCIDENT)
CLAIM_OPEN = ("submitted", "under_review")  # a claim still being reviewed (approved by fewer officers than needed)
SEVERITIES = ("minor", "moderate", "severe", "disability")


@dataclass(frozen=True)
class PlanRules:
    """The benefit rules of one plan year (amounts in fen)."""
    hospital_daily: int            # allowance per day in hospital
    hospital_deductible_days: int  # first days of each stay that are not paid
    hospital_max_days: int         # most days paid for one stay
    waiting_days: int              # after cover starts, illness (not accidents) is not covered yet
    critical_illness: int          # lump sum
    accident: dict = field(default_factory=dict)   # severity -> amount
    yearly_cap: int = 0            # most one member receives in the plan year


@dataclass(frozen=True)
class Assessment:
    amount: int
    lines: tuple    # ((text, amount), ...) that add up to `amount`


def assess_claim(rules: PlanRules, kind, event_date: date, details: dict, cover_start: date | None,
                 paid_this_year: int) -> Assessment:
    """What the plan pays for one claim, line by line. `paid_this_year` is what the member has
    already been granted in this plan year (approved or paid claims)."""
    if cover_start is None:
        return Assessment(0, (("no cover: the unit's contribution for this plan has not been recorded", 0),))
    if event_date < cover_start:
        return Assessment(0, ((f"no cover on {event_date.isoformat()}: cover starts {cover_start.isoformat()}", 0),))
    if kind in (HOSPITAL, CRITICAL_ILLNESS) and rules.waiting_days:
        waiting_ends = cover_start + timedelta(days=rules.waiting_days)
        if event_date < waiting_ends:
            return Assessment(0, ((f"within the {rules.waiting_days}-day waiting period for illness"
                                   f" (covered from {waiting_ends.isoformat()})", 0),))
    lines = []
    if kind == HOSPITAL:
        days = int(details["days"])
        paid_days = min(max(days - rules.hospital_deductible_days, 0), rules.hospital_max_days)
        text = f"{days} day(s) in hospital"
        if rules.hospital_deductible_days:
            text += f", the first {rules.hospital_deductible_days} not paid"
        if days - rules.hospital_deductible_days > rules.hospital_max_days:
            text += f", at most {rules.hospital_max_days} paid per stay"
        lines.append((f"{text}: {paid_days} x {yuan(rules.hospital_daily)}", paid_days * rules.hospital_daily))
    elif kind == CRITICAL_ILLNESS:
        lines.append(("critical illness lump sum", rules.critical_illness))  # the diagnosis stays in the details
    elif kind == ACCIDENT:
        severity = details["severity"]
        lines.append((f"accident benefit, {severity} injury", int(rules.accident.get(severity, 0))))
    gross = sum(amount for _, amount in lines)
    room = max(rules.yearly_cap - paid_this_year, 0)
    if gross > room:
        lines.append((f"yearly cap {yuan(rules.yearly_cap)}, {yuan(paid_this_year)} already granted this year",
                       room - gross))
    return Assessment(sum(amount for _, amount in lines), tuple(lines))


def claim_details_problem(kind, details):
    """{field: [reason]} for the details a claim of this kind needs, or {}."""
    if not isinstance(details, dict):
        return {"details": ["must be an object"]}
    if kind == HOSPITAL:
        days = details.get("days")
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 366:
            return {"details": ["days: a whole number of days in hospital, 1 to 366"]}
    elif kind == ACCIDENT:
        if details.get("severity") not in SEVERITIES:
            return {"details": [f"severity: one of {', '.join(SEVERITIES)}"]}
    elif kind == CRITICAL_ILLNESS:
        diagnosis = details.get("diagnosis")
        if not isinstance(diagnosis, str) or not 1 <= len(diagnosis) <= 200:
            return {"details": ["diagnosis: the diagnosis, 1 to 200 characters"]}
    return {}


# ---------------------------------------------------------------- enrolment CSV rows

CSV_COLUMNS = ("name", "national_id", "phone", "member_id")
REQUIRED_COLUMNS = ("name", "national_id")


def header_problem(header):
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing:
        return f"the header lacks the column(s) {', '.join(missing)} (columns: {', '.join(CSV_COLUMNS)})"
    if unknown:
        return f"unknown column(s) {', '.join(unknown)} (columns: {', '.join(CSV_COLUMNS)})"
    return None


def check_row(row):
    """(clean row, []) or (None, [reasons]) for one CSV record (a dict of its columns)."""
    reasons = []
    name = (row.get("name") or "").strip()
    if not 1 <= len(name) <= 100 or any(ord(c) < 32 for c in name):
        reasons.append("name: 1 to 100 characters, no control characters or line breaks")
    national_id = (row.get("national_id") or "").strip().upper()
    problem = national_id_problem(national_id)
    if problem:
        reasons.append(f"national_id: {problem}")
    phone = (row.get("phone") or "").strip() or None
    if phone is not None and not MOBILE.fullmatch(phone):
        reasons.append(f"phone: {MOBILE_PROBLEM}")
    member_id = (row.get("member_id") or "").strip() or None
    if member_id is not None:
        try:
            member_id = str(uuid.UUID(member_id))
        except ValueError:
            reasons.append("member_id: a palace account id (uuid)")
    if reasons:
        return None, reasons
    return {"name": name, "national_id": national_id, "phone": phone, "member_id": member_id}, []


def contribution_problem(amount, headcount, rate):
    """Why a unit's contribution is refused, naming both figures, or None: it is the roster's
    headcount times the plan's rate per member, to the fen."""
    expected = headcount * rate
    if headcount == 0:
        return "the unit has no confirmed workers on this plan's roster: enrol or confirm them first"
    if amount != expected:
        return (f"the contribution {yuan(amount)} does not match the roster: {headcount} worker(s) x "
                f"{yuan(rate)} = {yuan(expected)}")
    return None


def roster_column(text, column):
    """[(line, value)] of the records of an enrolment file with something in `column`."""
    found = []
    reader = csv.reader(io.StringIO(text))
    try:
        header = [c.strip().lower() for c in next(reader, [])]
        if column not in header:
            return []
        at, line = header.index(column), reader.line_num
        for record in reader:
            first_line, line = line + 1, reader.line_num
            if len(record) == len(header) and record[at].strip():
                found.append((first_line, record[at].strip()))
    except csv.Error:
        pass  # the import reports the unreadable part by its line
    return found


def member_ids_by_line(text):
    """[(line, member_id text)] of the records of an enrolment file that name an account."""
    return roster_column(text, "member_id")


def known_accounts(accounts_by_phone):
    """[(phone, member_id)] of a {phone: account id} map, each pair well formed, the rest left out."""
    pairs = []
    for phone, member_id in (accounts_by_phone or {}).items() if isinstance(accounts_by_phone, dict) else ():
        try:
            member_id = str(uuid.UUID(str(member_id)))
        except ValueError:
            continue
        if isinstance(phone, str) and MOBILE.fullmatch(phone):
            pairs.append((phone, member_id))
    return sorted(pairs)


def foreign_members(lines, unit_id, member_units):
    """{line: why} for the rows whose member_id is not a worker of this unit: no account, a worker of
    another unit, or an account in no unit (it joins by accepting an invitation, not by a file), as
    `member_units` ({member_id: the account's unit or None}) says. Such a row is an error row: a
    unit's file never links an account the unit does not hold (issue 18)."""
    problems = {}
    for line, text in lines:
        try:
            member_id = str(uuid.UUID(text))
        except ValueError:
            continue  # the import reports a malformed id by its line
        if member_id not in member_units:
            problems[line] = f"member_id: {member_id} is not a palace account (unknown member)"
        elif member_units[member_id] != unit_id:
            problems[line] = f"member_id: {member_id} is not a worker of this unit"
    return problems


def application_problems(policy: Policy, required_documents, amount_requested, documents):
    """{field: [reasons]} an application breaks of its programme's rules, or {}."""
    errors = {}
    if policy.kind == "service":
        if amount_requested:
            errors["amount_requested"] = ["this programme gives a service, not money: leave it out"]
    elif policy.fixed_amount is not None:
        if amount_requested not in (0, policy.fixed_amount):
            errors["amount_requested"] = [f"this programme pays exactly {yuan(policy.fixed_amount)}"]
    elif amount_requested <= 0:
        errors["amount_requested"] = ["must be more than 0"]
    elif policy.max_amount is not None and amount_requested > policy.max_amount:
        errors["amount_requested"] = [f"must be at most {yuan(policy.max_amount)}"]
    missing = [d for d in required_documents if d not in documents]
    if missing:
        errors["documents"] = [f"upload {', '.join(missing)} first (attach the files to a draft, then submit it)"]
    return errors


# ---------------------------------------------------------------- eligibility

@dataclass(frozen=True)
class Applicant:
    """What a programme's eligibility rules look at, as known when the case is submitted."""
    membership_months: int | None   # whole months a member; None: not known
    household_income: int | None    # fen a month, the whole household
    household_size: int | None
    unit_in_plan: bool              # their unit takes part in this year's mutual-aid plan
    earlier_this_year: int          # their other applications to the programme this year, not turned down


def months_between(start: date, end: date):
    """Whole months from `start` to `end` (31 Jan -> 28 Feb is 0, -> 1 Mar is 1)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def _membership(rule, who):
    months = rule.get("months", 0)
    if who.membership_months is None:
        return f"since when the member belongs to the union is not known; the programme asks {months} months"
    if who.membership_months < months:
        return f"a member for {who.membership_months} month(s); the programme asks at least {months}"
    return None


def _income(rule, who):
    line = rule.get("amount", 0)
    if who.household_income is None or not who.household_size:
        return ("give the household's monthly income and the number of people in it "
                "(private.household_income, private.household_size)")
    if who.household_income >= line * who.household_size:  # per person, without rounding
        return (f"{yuan(who.household_income // who.household_size)} a month per person; "
                f"the programme is for households below {yuan(line)}")
    return None


def _unit_in_plan(rule, who):
    return None if who.unit_in_plan else "the member's unit does not take part in this year's mutual-aid plan"


def _once_a_year(rule, who):
    return "the member already applied to this programme this year" if who.earlier_this_year else None


RULES = {"min_membership_months": _membership, "income_per_person_below": _income,
         "unit_in_plan": _unit_in_plan, "one_per_year": _once_a_year}
# The figures each rule takes, which welfare staff set (amounts in fen): a rule without a figure it
# needs would check against 0, and a figure a rule does not read would look like it counts.
RULE_FIGURES = {"min_membership_months": ("months",), "income_per_person_below": ("amount",),
                "unit_in_plan": (), "one_per_year": ()}


def figure_problems(rule):
    """{figure: [reason]} for a rule that lacks a figure it needs or carries one it does not read."""
    needs = RULE_FIGURES.get(rule.get("rule"))
    if needs is None:
        return {}  # an unknown rule is refused by its name
    errors = {}
    for figure in sorted({f for figures in RULE_FIGURES.values() for f in figures}):
        if figure in needs and rule.get(figure) is None:
            errors[figure] = [f"is required for {rule['rule']}"]
        elif figure not in needs and figure in rule:
            errors[figure] = [f"is not a figure of {rule['rule']} (it takes {', '.join(needs) or 'none'})"]
    if "amount" in needs and rule.get("amount") == 0:
        errors["amount"] = ["must be more than 0"]
    return errors


def repeated_rules(names):
    """{position: [reason]} for each rule a programme's list names a second time."""
    first, errors = {}, {}
    for position, name in enumerate(names):
        if name in first:
            errors[position] = [f"{name} is already rule {first[name]}: give each rule once"]
        else:
            first[name] = position
    return errors


def rules_at_submission(entries, current_rules, current_version):
    """(rules, version) a case was checked against when it was last submitted, from its decision
    ledger (oldest first); a case with no submission on record is held to the programme's rules."""
    for entry in reversed(entries):
        eligibility = entry["facts"].get("eligibility") if entry["action"] == "submit" else None
        if eligibility is not None and "rules" in eligibility:
            return eligibility["rules"], eligibility.get("rules_version")
    return current_rules, current_version


def unmet_rules(rules, who: Applicant):
    """[(rule, reason)] for every eligibility rule of a programme the applicant does not meet; a
    rule this code does not know is unmet (never waved through)."""
    unmet = []
    for rule in rules:
        check = RULES.get(rule.get("rule"))
        reason = check(rule, who) if check else "this rule is not known to the welfare service"
        if reason:
            unmet.append((rule.get("rule"), reason))
    return unmet


def refuse_unmet(unmet):
    """Refused, naming every rule not met, if any."""
    if unmet:
        raise BadInput(f"the programme's eligibility rule(s) {', '.join(name for name, _ in unmet)} are not met",
                       "not-eligible", {"eligibility": [f"{name}: {reason}" for name, reason in unmet]})


# ---------------------------------------------------------------- documents

MOST_DOCUMENT_BYTES = 10 * 1024 * 1024
# What the first bytes of a file say it is; the Content-Type a client sends is not believed.
# Three formats with fixed signatures: a lookup, not a job for libmagic.
SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\xff\xd8\xff", "image/jpeg"),
              (b"\x89PNG\r\n\x1a\n", "image/png"))
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
DOCUMENT_KIND = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def sniff(content: bytes):
    """'application/pdf', 'image/jpeg' or 'image/png' as the bytes show it, else None."""
    return next((kind for magic, kind in SIGNATURES if content.startswith(magic)), None)


def check_document(content: bytes, kind):
    """The type of a file that may be attached as document `kind`, or why it may not."""
    if not isinstance(kind, str) or not DOCUMENT_KIND.match(kind):
        raise BadInput("name the document", errors={"kind": ["a document name like income_statement (a-z, 0-9, _)"]})
    if not content:
        raise BadInput("the file is empty", errors={"file": ["is empty"]})
    if len(content) > MOST_DOCUMENT_BYTES:
        raise TooLarge(f"a document may be at most {MOST_DOCUMENT_BYTES} bytes",
                       errors={"file": [f"is larger than {MOST_DOCUMENT_BYTES // (1024 * 1024)} MiB"]})
    content_type = sniff(content)
    if content_type is None:
        raise Unsupported("a document is a PDF, JPEG or PNG file", errors={"file": ["must be a PDF, JPEG or PNG file"]})
    return content_type


def clean_filename(name, kind, content_type):
    """The name to show and download a file under: no folders, no control characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"<>|:*?').strip().strip(".")[:200]
    return name or f"{kind}.{EXTENSIONS[content_type]}"


def counselling_booked(application, bookings, place):
    """What the member is told of the sessions booked for them: when (each session) and where."""
    sessions = sorted(({"starts_at": _iso(b["starts_at"]), "ends_at": _iso(b["ends_at"])} for b in bookings),
                      key=lambda x: x["starts_at"])
    return {"application_id": application["id"], "reference": application["reference"],
            "member_id": application["member_id"], "programme_title": application["programme_name"],
            "starts_at": sessions[0]["starts_at"], "ends_at": sessions[0]["ends_at"], "sessions": sessions,
            "session_count": len(sessions),
            "room_name": place["room_name"], "site_name": place["site_name"], "address": place["site_address"]}


def _iso(moment):
    return moment if isinstance(moment, str) else moment.isoformat()


def weeks(n):
    """n weeks later (China keeps no daylight saving: a week is always 7 x 24 hours)."""
    return timedelta(weeks=n)


def csv_header(text):
    """The column names on the first line of a CSV text, lower-cased."""
    try:
        return [c.strip().lower() for c in next(csv.reader(io.StringIO(text[:10_000])), [])]
    except csv.Error:
        return []


def read_enrolment_csv(text, untrusted=None):
    """Check every record of an enrolment file: ([(line, clean row)], [{"line", "errors"}]).
    `untrusted`: {line: why} of the rows whose member_id is not the unit's (foreign_members).
    Lines are numbered as a spreadsheet shows them (the header is line 1; a record with a quoted
    line break is known by its first line); the same person twice is an error on the later line."""
    good, errors, seen = [], [], {}
    reader = csv.reader(io.StringIO(text))
    try:
        header = [c.strip().lower() for c in next(reader, [])]
        line = reader.line_num
        for record in reader:
            first_line, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                errors.append({"line": first_line, "errors": [f"has {len(record)} fields, the header {len(header)}"]})
                continue
            clean, reasons = check_row(dict(zip(header, record)))
            if clean and clean["national_id"] in seen:
                reasons = [f"national_id: the same person is on line {seen[clean['national_id']]}"]
            if clean and str(first_line) in (untrusted or {}):
                reasons = [untrusted[str(first_line)]]
            if reasons:
                errors.append({"line": first_line, "errors": reasons})
                continue
            seen[clean["national_id"]] = first_line
            good.append((first_line, clean))
    except csv.Error as exc:  # e.g. an unterminated quote: the rest of the file cannot be read
        errors.append({"line": reader.line_num, "errors": [f"the file cannot be read from here on: {exc}"]})
    return good, errors


# ---------------------------------------------------------------- roster files as units have them

XLSX_MAGIC = b"PK\x03\x04"


def roster_text(raw: bytes):
    """A unit's roster file as CSV text: an .xlsx workbook (its first sheet), or CSV text in UTF-8
    (with or without a BOM) or else GB18030, what Excel and WPS save in China. Refused (BadInput)
    when it is none of these."""
    if raw.startswith(XLSX_MAGIC):
        return xlsx_to_csv(raw)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadInput("the file is neither UTF-8 nor GB18030 text nor an .xlsx workbook",
                   errors={"file": ["must be CSV (UTF-8 or GB18030) or .xlsx"]})


def _cell(value):
    """A spreadsheet cell as the text a CSV would hold (a phone typed as a number has no '.0')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def xlsx_to_csv(raw: bytes):
    """The first sheet of a workbook as CSV text, one record per sheet row, so a row's line number
    is the row number a spreadsheet shows."""
    import zipfile

    from openpyxl import load_workbook  # only units that upload workbooks pay for its import
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise BadInput("the .xlsx workbook cannot be read", errors={"file": [f"is not a readable .xlsx: {exc}"]}) \
            from None
    try:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in book.worksheets[0].iter_rows(values_only=True):
            writer.writerow([_cell(v).replace("\r", " ").replace("\n", " ") for v in row])
        return out.getvalue()
    finally:
        book.close()
