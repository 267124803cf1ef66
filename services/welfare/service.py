"""The welfare service's nameko entrypoints: relief and other applications as cases, decisions,
payouts and the fund ledger, the mutual-aid plan (enrolment imports, claims), counselling rooms."""
import base64
import binascii
import hashlib
import logging
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timezone

from nameko.exceptions import RpcTimeout, UnknownService
from nameko.timer import timer

from services.common import config, reports
from services.common.context import CallerProvider
from services.common.db import Database
from services.common.errors import (
    EXPECTED,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PayloadTooLarge,
    Unavailable,
    UnsupportedMediaType,
)
from services.common.handlers import reliable_handler
from services.common.metrics import Metrics
from services.common.outbox import Outbox
from services.common.params import listed, load, object_id, page
from services.common.retention import Retention
from services.common.roles import ADMIN, DESK, IMPORTERS, OFFICERS, STAFF, UNIT_ADMIN
from services.common.rpc import RpcProxy, rpc
from services.common.trust import CheckedAtStart
from services.welfare import crypto, domain, events, schemas, store

log = logging.getLogger(__name__)

IMPORT_BATCH = 5000
MOST_ERRORS_KEPT = 10_000
MOST_CSV_CHARS = 40_000_000
SLA_CHECK_SECONDS = float(config.env("PALACE_WELFARE_SLA_CHECK"))
SLA_WARNING = float(config.env("PALACE_WELFARE_SLA_WARNING"))
IMPORT_POLL_SECONDS = float(config.env("PALACE_WELFARE_IMPORT_POLL"))
RESEAL_SECONDS = float(config.env("PALACE_WELFARE_RESEAL_SECONDS"))
RESEAL_BATCH = int(config.env("PALACE_WELFARE_RESEAL_BATCH"))

_app_in, _app_out = schemas.ApplicationCreateSchema(), schemas.ApplicationSchema()
_decision_in, _resubmit_in = schemas.DecisionCreateSchema(), schemas.ResubmitSchema()
_assign_in, _appointment_in = schemas.AssignmentSchema(), schemas.AppointmentCreateSchema()
_appointment_out, _payout_out = schemas.AppointmentSchema(), schemas.PayoutSchema()
_ledger_out, _programme_out = schemas.LedgerSchema(), schemas.ProgrammeSchema()
_budget_in = schemas.BudgetCreateSchema()
_rules_in, _rules_out = schemas.RulesUpdateSchema(), schemas.RulesSchema()
_rule_changes_out = schemas.RuleChangesSchema()
_plan_in, _plan_out = schemas.PlanCreateSchema(), schemas.PlanSchema()
_contribution_in, _contribution_out = schemas.ContributionCreateSchema(), schemas.ContributionSchema()
_job_out, _enrolment_out = schemas.ImportJobSchema(), schemas.PlanEnrolmentSchema(many=False)
_document_out = schemas.DocumentSchema()
_claim_in, _claim_out = schemas.ClaimCreateSchema(), schemas.ClaimSchema()
_claim_decision_in, _claim_assign_in = schemas.ClaimDecisionSchema(), schemas.ClaimAssignmentSchema()
_claim_document_out = schemas.ClaimDocumentSchema()
_renewal_in, _confirmation_in = schemas.RenewalCreateSchema(), schemas.RosterConfirmationSchema()
_roster_out, _row_edit_in = schemas.RosterSchema(), schemas.RosterRowUpdateSchema()
EVENTS = {
    "application_submitted": events.ApplicationSubmittedSchema(),
    "application_decided": events.ApplicationDecidedSchema(),
    "info_requested": events.InfoRequestedSchema(),
    "case_escalated": events.CaseEscalatedSchema(),
    "case_assigned": events.CaseAssignedSchema(),
    "payout_made": events.PayoutMadeSchema(),
    "claim_decided": events.ClaimDecidedSchema(),
    "mutual_aid_enrolled": events.MutualAidEnrolledSchema(),
    "counselling_cancelled": events.CounsellingCancelledSchema(),
    "counselling_booked": events.CounsellingBookedSchema(),
    "case_overdue": events.CaseOverdueSchema(),
    "case_due_soon": events.CaseDueSoonSchema(),
    "import_had_errors": events.ImportHadErrorsSchema(),
}


# the answer to each kind of refusal of the rules: same problem type, same fields at fault
ANSWERS = ((domain.BadInput, Invalid), (domain.NotAllowed, Forbidden), (domain.WrongState, Conflict),
           (domain.TooLarge, PayloadTooLarge), (domain.Unsupported, UnsupportedMediaType))


@contextmanager
def refusals():
    """Where the rules are applied: a refusal leaves as the error the gateway answers with."""
    try:
        yield
    except domain.Refused as refused:
        answer = next(error for kind, error in ANSWERS if isinstance(refused, kind))
        raise answer(refused.detail, refused.problem, refused.errors) from None


def now_iso():
    return datetime.now(timezone.utc).isoformat()


# the files of cases and claims: the same rules, each kind of case in its own table (store.Files)

def _arrived(content_b64):
    try:
        return base64.b64decode(content_b64 or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise Invalid("the file did not arrive whole", errors={"file": ["is not base64"]}) from None


def _still_open(what, state, open_states):
    if state not in open_states:
        raise Conflict(f"the {what} is {state}: its documents are settled", "case-decided", {"state": [f"is {state}"]})


def _attach(conn, files, owner_id, kind, filename, content, actor):
    """A PDF, JPEG or PNG (its type read from its bytes) kept with a clean name, once per content."""
    with refusals():
        content_type = domain.check_document(content, kind)
    return store.add_file(conn, files, owner_id, kind, domain.clean_filename(filename, kind, content_type),
                          content_type, hashlib.sha256(content).hexdigest(), content, actor)


class WelfareService:
    name = "welfare"

    db = Database()
    keys = CheckedAtStart(crypto.ring)  # no key ring, or a bad or placeholder key in it: no start, with the reason
    metrics = Metrics()
    outbox = Outbox()
    retention = Retention()
    caller = CallerProvider()
    venues = RpcProxy("venues")

    # ------------------------------------------------------------ helpers

    def emit(self, conn, event_type, payload):
        self.outbox(conn, event_type, EVENTS[event_type].dump(payload))

    @staticmethod
    def sealer():
        return crypto.ring()

    def is_staff(self):
        return self.caller.has(*OFFICERS)

    def readable_application(self, conn, app_id, lock=False):
        application = store.get_application(conn, app_id, lock=lock)
        if str(application["member_id"]) != self.caller.id and not self.is_staff():
            raise NotFound(f"application {app_id} does not exist", "application-not-found")
        return application

    def on_case(self, conn, application):
        """The applicant and the officers on the case: they see its private data and its files."""
        assigned = str(application["assigned_officer"]) if application["assigned_officer"] else None
        return domain.may_see_private(self.caller.id, str(application["member_id"]), assigned,
                                      store.reviewers(conn, application["id"]))

    def view(self, conn, application, detail=False):
        private_ok = detail and self.on_case(conn, application)
        doc = {**application, "national_id": application["national_id_mask"],
               "private": application["private"] if private_ok else None}
        if detail:
            entries = store.decisions(conn, application["id"])
            if not private_ok:
                entries = [{**e, "facts": {k: v for k, v in e["facts"].items() if k != "private"}} for e in entries]
            doc["decisions"] = entries
            payout = store.payout_for(conn, application_id=application["id"])
            doc["payout"] = _payout_out.dump(payout) if payout else None
            doc["appointments"] = store.appointments(conn, application["id"])
            doc["documents"] = store.files_of(conn, store.CASE_FILES, application["id"])
        return _app_out.dump(doc), private_ok

    def facts(self, conn, application, **more):
        """What a decision rests on, frozen with it (the files by their hashes)."""
        files = [{"id": str(d["id"]), "kind": d["kind"], "sha256": d["sha256"]}
                 for d in store.files_of(conn, store.CASE_FILES, application["id"])]
        return {"programme": application["programme"], "state": application["state"], "round": application["round"],
                "amount_requested": application["amount_requested"], "amount_approved": application["amount_approved"],
                "reason": application["reason"], "documents": files,
                "national_id": application["national_id_mask"], "private": application["private"],
                "assigned_officer": str(application["assigned_officer"]) if application["assigned_officer"] else None,
                **more}

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}

    # ------------------------------------------------------------ programmes

    @rpc(expected_exceptions=EXPECTED)
    def list_programmes(self):
        with self.db.transaction() as conn:
            return _programme_out.dump(store.list_programmes(conn), many=True)

    @staticmethod
    def programme_code(code):
        if not isinstance(code, str) or len(code) > 64:
            raise NotFound(f"no programme {code}", "programme-not-found")
        return code

    @rpc(expected_exceptions=EXPECTED)
    def get_rules(self, code):
        """A programme's eligibility rules and their version (public, like the programmes)."""
        code = self.programme_code(code)
        with self.db.transaction() as conn:
            return _rules_out.dump(store.programme_rules(conn, code))

    @rpc(expected_exceptions=EXPECTED)
    def replace_rules(self, code, data):
        """Welfare staff replace a programme's rules: checked whole, saved only over the version the
        officer read, recorded in the audit trail with the rules before and after. Cases already
        submitted keep the rules they were checked against (frozen in their decision ledger)."""
        actor = self.caller.require(*OFFICERS)
        code = self.programme_code(code)
        data = load(_rules_in, data)
        with self.db.transaction() as conn:
            return _rules_out.dump(store.replace_rules(conn, code, data["version"], data["rules"], actor,
                                                       data["note"], self.caller.request_id))

    @rpc(expected_exceptions=EXPECTED)
    def rule_changes(self, code, limit=50, offset=0):
        """Every change of a programme's rules, newest first (officers)."""
        self.caller.require(*OFFICERS)
        code = self.programme_code(code)
        limit, offset = page(limit, offset)
        with self.db.transaction() as conn:
            return _rule_changes_out.dump({"programme": code,
                                           "changes": store.rule_changes(conn, code, limit, offset)})

    # ------------------------------------------------------------ applications

    def eligibility(self, conn, application, rules, rules_version):
        """The applicant as these rules see them, the rules they do not meet, and what of it is
        frozen with a decision (the household figures stay in the private part)."""
        private, since = application["private"] or {}, application["member_since"]
        who = domain.Applicant(
            membership_months=domain.months_between(since, store.today(conn)) if since else None,
            household_income=private.get("household_income"), household_size=private.get("household_size"),
            unit_in_plan=store.unit_in_plan(conn, application["member_unit"], application["member_id"]),
            earlier_this_year=store.earlier_this_year(conn, application))
        unmet = domain.unmet_rules(rules, who)
        return unmet, {"rules": rules, "rules_version": rules_version, "membership_months": who.membership_months,
                       "unit_in_plan": who.unit_in_plan, "earlier_this_year": who.earlier_this_year,
                       "unmet": [name for name, _ in unmet]}

    @staticmethod
    def applicant_facts(applicant):
        """(member_since, unit) the gateway knows of the applicant's account; nothing if unreadable."""
        applicant = applicant if isinstance(applicant, dict) else {}
        try:
            since = date.fromisoformat(applicant["member_since"]) if applicant.get("member_since") else None
        except (TypeError, ValueError):
            since = None
        try:
            unit = str(uuid.UUID(str(applicant["unit_id"]))) if applicant.get("unit_id") else None
        except ValueError:
            unit = None
        return since, unit

    @rpc(expected_exceptions=EXPECTED)
    def create_application(self, data, applicant=None):
        """`applicant`: what the gateway knows of the member's account ({member_since, unit_id})."""
        submitted_by = self.caller.require()
        data = load(_app_in, data)
        if data.get("member_id") and str(data["member_id"]) != submitted_by:
            if not self.is_staff():
                raise Forbidden("only an officer may apply on a member's behalf", "not-an-officer",
                                {"member_id": ["leave it out to apply for yourself"]})
        member_id = str(data.get("member_id") or submitted_by)
        sealer = self.sealer()
        with self.db.transaction() as conn:
            replay = store.find_by_request(conn, submitted_by, self.caller.idempotency_key)
            if replay is not None:
                return self.view(conn, replay)[0]
            programme = store.get_programme(conn, data["programme"])
            errors = domain.application_problems(store.policy(programme), programme["required_documents"],
                                                 data["amount_requested"], [])
            if data["draft"]:  # the files are attached to the draft, then it is submitted
                errors.pop("documents", None)
            if errors:
                raise Invalid("the application does not meet the programme's rules", errors=errors)
            if programme["fixed_parts"]:
                data["amount_requested"] = sum(p["amount"] for p in programme["fixed_parts"])
            national_id = data.get("national_id")
            state = domain.DRAFT if data["draft"] else domain.SUBMITTED
            application = store.insert_application(
                conn, data, member_id, submitted_by, sealer.seal_text(national_id) if national_id else None,
                domain.mask_national_id(national_id) if national_id else None, self.caller.idempotency_key, state,
                *self.applicant_facts(applicant))
            if state == domain.SUBMITTED:
                self.submitted(conn, {**application, "state": domain.DRAFT}, submitted_by, "")
            return self.view(conn, application, detail=True)[0]

    @rpc(expected_exceptions=EXPECTED)
    def list_applications(self, limit=50, offset=0, programme=None, state=None, mine=False, assigned=False,
                          with_total=False):
        """A member's own applications; for officers all of them, or (assigned) the cases given to them."""
        reader = self.caller.require()
        limit, offset = page(limit, offset)
        member_filter = reader if (mine or not self.is_staff()) else None
        officer_filter = reader if (assigned and self.is_staff()) else None
        with self.db.transaction() as conn:
            rows = store.list_applications(conn, member_filter, programme, state, limit, offset, officer_filter)
            staff_reads = [r["id"] for r in rows if str(r["member_id"]) != reader]
            if staff_reads:
                store.log_reads(conn, staff_reads, reader, [False] * len(staff_reads), self.caller.request_id)
            return listed([self.view(conn, r)[0] for r in rows], rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def get_application(self, app_id):
        reader = self.caller.require()
        app_id = object_id(app_id, "application")
        with self.db.transaction() as conn:
            application = self.readable_application(conn, app_id)
            doc, saw_private = self.view(conn, application, detail=True)
            if str(application["member_id"]) != reader:
                store.log_reads(conn, [app_id], reader, [saw_private], self.caller.request_id)
            return doc

    @rpc(expected_exceptions=EXPECTED)
    def application_reads(self, app_id, limit=50, offset=0):
        """Who on the staff read this case, newest first (officers and the applicant may ask)."""
        self.caller.require()
        app_id = object_id(app_id, "application")
        with self.db.transaction() as conn:
            self.readable_application(conn, app_id)
            return {"application_id": app_id, "reads": store.case_reads(conn, app_id, *page(limit, offset))}

    @rpc(expected_exceptions=EXPECTED)
    def decide(self, app_id, data):
        actor = self.caller.require(*OFFICERS)
        app_id = object_id(app_id, "application")
        data = load(_decision_in, data)
        with self.db.transaction() as conn:
            application = store.get_application(conn, app_id, lock=True)
            programme = store.get_programme(conn, application["programme"])
            policy = store.policy(programme)
            approvals = store.approvals(conn, app_id, application["round"])
            case = domain.Case(application["state"], str(application["member_id"]), str(application["submitted_by"]),
                               application["round"], application["amount_requested"])
            with refusals():
                outcome = domain.decide(policy, case, actor, data["decision"], data.get("amount"), data["note"],
                                        approvals)
            # judged by the rules the case was submitted under, not rules changed since
            rules = domain.rules_at_submission(store.decisions(conn, app_id), programme["eligibility_rules"],
                                               programme["rules_version"])
            eligibility = self.eligibility(conn, application, *rules)[1]
            store.record_decision(conn, application, data["decision"], outcome.to_state, actor, outcome.amount,
                                  data["note"], self.facts(conn, application, approvals_before=len(approvals),
                                                           signatures_needed=outcome.signatures_needed,
                                                           eligibility=eligibility))
            self.apply_outcome(conn, application, programme, policy, data, outcome, actor)
            answer = self.view(conn, store.get_application(conn, app_id), detail=True)[0]
            held = {a["holder_reference"] for a in store.appointments(conn, app_id)
                    if a["holder_reference"] and not a["cancelled_at"]}
        if outcome.to_state == domain.CLOSED and held:
            self.release_rooms(app_id, sorted(held))
        return answer

    def apply_outcome(self, conn, application, programme, policy, data, outcome, actor):
        app_id, decision = application["id"], data["decision"]
        event = {"application_id": app_id, "reference": application["reference"],
                 "member_id": application["member_id"], "programme": programme["code"],
                 "programme_title": programme["name"], "decision": decision, "state": outcome.to_state,
                 "amount": outcome.amount, "note": data["note"], "decided_at": now_iso()}
        if decision == "approve" and not outcome.final:
            if outcome.to_state != application["state"]:
                store.set_state(conn, app_id, outcome.to_state)
            return
        if decision == "approve":
            parts = domain.payment_parts(policy, programme["fund_id"], outcome.amount) if outcome.amount else []
            store.commit_funds(conn, parts, f"approved {application['reference']}", actor, application_id=app_id)
            store.set_state(conn, app_id, domain.APPROVED, amount_approved=outcome.amount,
                            decided_at=application["decided_at"] or datetime.now(timezone.utc))
            self.emit(conn, "application_decided", event)
        elif decision == "reject":
            store.set_state(conn, app_id, domain.REJECTED,
                            decided_at=application["decided_at"] or datetime.now(timezone.utc))
            self.emit(conn, "application_decided", event)
        elif decision == "return":
            store.set_state(conn, app_id, domain.RETURNED)
            self.emit(conn, "info_requested", {**event, "requested_at": event["decided_at"]})
        elif decision == "close":
            if application["state"] == domain.APPROVED and application["amount_approved"]:
                # approved but never paid: the promised money goes back to the fund
                for fund_id, amount, _ in domain.payment_parts(policy, programme["fund_id"],
                                                               application["amount_approved"]):
                    store.post(conn, fund_id, "reversal", f"closed unpaid {application['reference']}",
                               [("committed", -amount), ("available", amount)], actor, application_id=app_id)
            store.set_state(conn, app_id, domain.CLOSED)

    def submitted(self, conn, application, actor, note):
        """Check the programme's eligibility rules (a 422 naming each rule not met, and nothing is
        written), record the submission with the facts it rested on, tell the member it arrived."""
        current = store.get_application(conn, application["id"])
        programme = store.get_programme(conn, application["programme"])
        unmet, eligibility = self.eligibility(conn, current, programme["eligibility_rules"], programme["rules_version"])
        with refusals():
            domain.refuse_unmet(unmet)
        store.record_decision(conn, application, "submit", domain.SUBMITTED, actor, None, note,
                              self.facts(conn, {**application, "private": current["private"]}, eligibility=eligibility))
        self.emit(conn, "application_submitted", {
            "application_id": application["id"], "reference": application["reference"],
            "member_id": application["member_id"], "programme": application["programme"],
            "programme_title": application["programme_name"],
            "amount_requested": application["amount_requested"], "submitted_at": now_iso()})

    @rpc(expected_exceptions=EXPECTED)
    def submit(self, app_id, data):
        """Submit a draft, or answer a return with more information (a new round of review)."""
        actor = self.caller.require()
        app_id = object_id(app_id, "application")
        data = load(_resubmit_in, data)
        with self.db.transaction() as conn:
            application = self.readable_application(conn, app_id, lock=True)
            if actor not in domain.parties(application):
                raise Forbidden("only the applicant submits an application", "not-the-applicant")
            with refusals():
                domain.move(application["state"], domain.SUBMITTED)
            returned = application["state"] == domain.RETURNED
            if returned and not data["note"].strip():
                raise Invalid("say what information you added", errors={"note": ["is required to answer a return"]})
            changes = {"round": application["round"] + 1} if returned else {}
            programme = store.get_programme(conn, application["programme"])
            missing = domain.application_problems(store.policy(programme), programme["required_documents"],
                                                  application["amount_requested"],
                                                  {d["kind"] for d in store.files_of(conn, store.CASE_FILES, app_id)})
            if missing:
                raise Invalid("the application does not meet the programme's rules", errors=missing)
            if "private" in data:
                store.merge_private(conn, app_id, data["private"])
            store.set_state(conn, app_id, domain.SUBMITTED, **changes)
            self.submitted(conn, application, actor, data["note"])
            return self.view(conn, store.get_application(conn, app_id), detail=True)[0]

    # ------------------------------------------------------------ documents

    def _download(self, conn, files, case, document_id):
        """One file of a case or claim, opened; a download by anyone but its member is logged as a read."""
        document = store.file_content(conn, files, case["id"], document_id)
        if self.caller.id != str(case["member_id"]):
            store.log_file_read(conn, files, case["id"], document_id, self.caller.id, self.caller.request_id)
        return document

    def case_for_files(self, conn, app_id, lock=False):
        """The case, if the caller is its applicant, the officer who applied for them, or an officer on it."""
        application = self.readable_application(conn, app_id, lock=lock)
        if self.caller.id != str(application["submitted_by"]) and not self.on_case(conn, application):
            raise Forbidden("only the applicant and the officers on the case handle its documents", "not-on-the-case")
        return application

    @rpc(expected_exceptions=EXPECTED)
    def attach_document(self, app_id, kind, filename, content_b64):
        """Attach a file (PDF, JPEG or PNG; its type read from its bytes) to a case still being decided."""
        actor = self.caller.require()
        app_id = object_id(app_id, "application")
        content = _arrived(content_b64)
        with self.db.transaction() as conn:
            application = self.case_for_files(conn, app_id, lock=True)
            _still_open("case", application["state"],
                        (domain.DRAFT, domain.SUBMITTED, domain.UNDER_REVIEW, domain.RETURNED))
            return _document_out.dump(_attach(conn, store.CASE_FILES, app_id, kind, filename, content, actor))

    @rpc(expected_exceptions=EXPECTED)
    def get_document(self, app_id, document_id):
        """One attached file, base64; a staff download is logged as a read of the case."""
        self.caller.require()
        app_id = object_id(app_id, "application")
        document_id = object_id(document_id, "document")
        with self.db.transaction() as conn:
            application = self.case_for_files(conn, app_id)
            document = self._download(conn, store.CASE_FILES, application, document_id)
        return {**_document_out.dump(document), "content": base64.b64encode(document["content"]).decode()}

    @rpc(expected_exceptions=EXPECTED)
    def assign(self, app_id, data):
        """Triage: give the case to an officer, with a priority (legal aid, counselling, any case)."""
        actor = self.caller.require(*OFFICERS)
        app_id = object_id(app_id, "application")
        data = load(_assign_in, data)
        officer_id = str(data["officer_id"])
        with refusals():
            domain.check_not_self_assigned(actor, officer_id, "case")
        with self.db.transaction() as conn:
            application = store.get_application(conn, app_id, lock=True)
            if officer_id in domain.parties(application):
                raise Invalid("an officer cannot be assigned their own case",
                              errors={"officer_id": ["is the applicant of this case"]})
            if application["state"] in (domain.CLOSED,):
                raise Conflict("the case is closed", "case-closed")
            store.record_decision(conn, application, "assign", application["state"], actor, None,
                                  f"assigned to {officer_id}, priority {data['priority']}",
                                  self.facts(conn, application, officer_id=officer_id, priority=data["priority"]))
            store.touch(conn, app_id, assigned_officer=officer_id, assigned_by=actor, priority=data["priority"])
            if officer_id != str(application["assigned_officer"] or ""):
                self.emit(conn, "case_assigned", {
                    "application_id": app_id, "reference": application["reference"], "officer_id": officer_id,
                    "programme_title": application["programme_name"], "priority": data["priority"]})
            return self.view(conn, store.get_application(conn, app_id), detail=True)[0]

    # ------------------------------------------------------------ payouts and the ledger

    @rpc(expected_exceptions=EXPECTED)
    def pay(self, app_id):
        """Pay an approved application once: the case row is locked, the payout's application is
        unique, so concurrent attempts give one payout and the others a Conflict."""
        actor = self.caller.require(*OFFICERS)
        app_id = object_id(app_id, "application")
        with self.db.transaction() as conn:
            application = store.get_application(conn, app_id, lock=True)
            if actor == str(application["member_id"]):
                raise Forbidden("an officer may not pay their own application", "own-application")
            programme = store.get_programme(conn, application["programme"])
            problem = domain.payout_problem(application["state"], programme["kind"])
            if problem:
                raise Conflict(problem[1], problem[0], {"state": [f"is {application['state']}"]})
            amount = application["amount_approved"]
            payout = store.insert_payout(conn, application["member_id"], amount, actor, application_id=app_id)
            parts = domain.payment_parts(store.policy(programme), programme["fund_id"], amount)
            store.pay_funds(conn, parts, f"payout {payout['reference']} for {application['reference']}", actor,
                            payout["id"], application_id=app_id)
            store.record_decision(conn, application, "pay", domain.PAID, actor, amount, payout["reference"],
                                  self.facts(conn, application, payout=payout["reference"]))
            store.set_state(conn, app_id, domain.PAID)
            self.emit(conn, "payout_made", {
                "payout_id": payout["id"], "reference": payout["reference"], "member_id": application["member_id"],
                "amount": amount, "application_id": app_id, "claim_id": None,
                "programme_title": programme["name"], "paid_at": payout["created_at"].isoformat()})
            return _payout_out.dump(payout)

    @rpc(expected_exceptions=EXPECTED)
    def fund_ledger(self, fund_id, limit=50, offset=0):
        self.caller.require(*OFFICERS)
        if not isinstance(fund_id, str) or len(fund_id) > 64:
            raise NotFound(f"fund {fund_id} does not exist", "fund-not-found")
        with self.db.transaction() as conn:
            fund = store.get_fund(conn, fund_id)
            fund["entries"] = store.ledger_entries(conn, fund_id, *page(limit, offset))
            return _ledger_out.dump(fund)

    @rpc(expected_exceptions=EXPECTED)
    def add_budget(self, fund_id, data):
        """The union puts a year's budget into a fund (admin): one balanced ledger transaction."""
        self.caller.require(ADMIN)
        data = load(_budget_in, data)
        if data["amount"] <= 0:
            raise Invalid("a budget is more than nothing", errors={"amount": ["must be more than 0"]})
        if not isinstance(fund_id, str) or len(fund_id) > 64:
            raise NotFound(f"fund {fund_id} does not exist", "fund-not-found")
        with self.db.transaction() as conn:
            store.get_fund(conn, fund_id)
            store.post(conn, fund_id, "budget", data["note"] or f"yearly budget {data['year']}",
                       [("allocation", -data["amount"]), ("available", data["amount"])], self.caller.id,
                       year=data["year"])
            fund = store.get_fund(conn, fund_id)
            fund["entries"] = store.ledger_entries(conn, fund_id, 10, 0)
            return _ledger_out.dump(fund)

    # ------------------------------------------------------------ counselling rooms

    @rpc(expected_exceptions=EXPECTED)
    def my_appointments(self, starts_from, starts_before):
        """The caller's own counselling appointments starting in [from, before), for their timetable."""
        with self.db.transaction() as conn:
            rows = store.member_appointments(conn, self.caller.require(), starts_from, starts_before)
        return [{"id": str(r["id"]), "application_id": str(r["application_id"]), "room_id": r["room_id"],
                 "room_name": r["room_name"], "site_name": r["site_name"], "address": r["site_address"],
                 "starts_at": r["starts_at"].isoformat(), "ends_at": r["ends_at"].isoformat()} for r in rows]

    @rpc(expected_exceptions=EXPECTED)
    def list_appointments(self, starts_from, starts_before, limit=50, offset=0, with_total=False):
        """The officers' counselling week: appointments starting in [from, before), cancelled ones too.
        Each case seen is logged as read (no private facts shown)."""
        reader = self.caller.require(*OFFICERS)
        with self.db.transaction() as conn:
            rows = store.appointments_between(conn, starts_from, starts_before, *page(limit, offset))
            cases = sorted({r["application_id"] for r in rows})
            if cases:
                store.log_reads(conn, cases, reader, [False] * len(cases), self.caller.request_id)
        items = [{**r, "state": "cancelled" if r["cancelled_at"] else "booked"} for r in rows]
        return listed(schemas.CounsellingAppointmentSchema().dump(items, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def member_cases(self, member_id, limit=50, offset=0, with_total=False):
        """A member's cases for the front desk: reference, programme and state, no facts (not logged as
        a read of the case: nothing of it is read)."""
        self.caller.require(DESK, ADMIN)
        member_id = object_id(member_id, "member")
        with self.db.transaction() as conn:
            rows = store.member_cases(conn, member_id, *page(limit, offset))
        return listed(schemas.DeskCaseSchema().dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def book_appointments(self, app_id, data):
        """Reserve a private room through venues for a counselling case (the same slot `weeks` weeks running)."""
        self.caller.require(*OFFICERS)
        app_id = object_id(app_id, "application")
        data = load(_appointment_in, data)
        with self.db.transaction() as conn:
            application = store.get_application(conn, app_id)
            if application["programme"] != "counselling":
                raise Invalid("appointments are for counselling cases", errors={"room_id": ["not a counselling case"]})
            if application["state"] not in (domain.SUBMITTED, domain.UNDER_REVIEW, domain.APPROVED):
                raise Conflict(f"the case is {application['state']}", "case-not-open")
            series = len({a["holder_reference"] for a in store.appointments(conn, app_id)})
        occurrences = [{"starts_at": (data["starts_at"] + domain.weeks(i)).isoformat(),
                        "ends_at": (data["ends_at"] + domain.weeks(i)).isoformat()} for i in range(data["weeks"])]
        holder = {"service": "welfare", "reference": f"{app_id}/{self.caller.idempotency_key or series + 1}"}
        try:
            room = self.venues.get_room(data["room_id"])  # where it is, for the member's message
            booked = self.venues.reserve_series(holder, data["room_id"], occurrences,
                                                f"Counselling {application['reference']}")
        except (UnknownService, RpcTimeout) as exc:
            raise Unavailable("the rooms service is not answering; try again shortly") from exc
        place = {"room_name": room.get("name"), "site_name": room.get("site_name"),
                 "site_address": room.get("site_address")}
        with self.db.transaction() as conn:
            application = store.get_application(conn, app_id, lock=True)
            added = [b for b in booked["bookings"]
                     if store.add_appointment(conn, app_id, data["room_id"], b, holder["reference"], place)]
            store.record_decision(conn, application, "appointment", application["state"], self.caller.id, None,
                                  f"{len(booked['bookings'])} session(s) in room {data['room_id']}",
                                  self.facts(conn, application, bookings=booked["bookings"]))
            if added:  # the member hears when and where to come (a retry tells nothing twice)
                self.emit(conn, "counselling_booked", domain.counselling_booked(application, added, place))
            return _appointment_out.dump(store.appointments(conn, app_id), many=True)

    @reliable_handler("venues", "booking_cancelled")
    def on_booking_cancelled(self, conn, event):
        """A counselling room booking was cancelled by venues (room closed...): the session is off,
        the case's ledger says so, and the member is told."""
        booking = event["payload"]
        if booking.get("holder_service") != "welfare":
            return
        reason = booking.get("reason") or ""
        cancelled = store.cancel_appointment(conn, str(booking["booking_id"]), reason)
        if cancelled is not None:
            application = store.get_application(conn, cancelled["application_id"])
            store.record_decision(conn, application, "appointment", application["state"], None, None,
                                  f"session of {cancelled['starts_at'].isoformat()} cancelled by venues: "
                                  f"{reason or 'no reason given'}", self.facts(conn, application))
            if cancelled["starts_at"] > datetime.now(timezone.utc):  # a session already held needs no message
                self.emit(conn, "counselling_cancelled", {
                    "application_id": application["id"], "reference": application["reference"],
                    "member_id": application["member_id"], "programme_title": application["programme_name"],
                    "starts_at": cancelled["starts_at"].isoformat(), "ends_at": cancelled["ends_at"].isoformat(),
                    "reason": reason, "cause": booking.get("cause"), "note": booking.get("note")})

    def release_rooms(self, app_id, references):
        """After a counselling case closes: give back its future room bookings."""
        for reference in references:
            try:
                self.venues.release_series({"service": "welfare", "reference": reference}, "counselling case closed")
            except (UnknownService, RpcTimeout):
                log.warning("could not release the rooms of case %s (%s); venues did not answer", app_id, reference)
                continue
            with self.db.transaction() as conn:
                store.release_appointments(conn, reference)

    # ------------------------------------------------------------ SLA

    @timer(interval=RESEAL_SECONDS)
    def reseal(self):
        """Rows still under an older key of the ring (or from before sealing): sealed again under
        the current key, a batch a transaction, until none are left or the round has done enough."""
        for _ in range(20):
            with self.db.transaction() as conn:
                if store.reseal(conn, RESEAL_BATCH) < RESEAL_BATCH:
                    return

    @timer(interval=SLA_CHECK_SECONDS)
    def escalate_overdue(self):
        """A case waiting longer than its programme allows: its officer and the admins are alerted
        (again each time it falls overdue in a new state); the applicant hears once that it is still
        in progress."""
        with self.db.transaction() as conn:
            for application in store.overdue_cases(conn):
                store.record_decision(conn, application, "escalate", application["state"], None, None,
                                      f"waiting longer than {application['sla_hours']} hours", self.facts(conn, application))
                now = datetime.now(timezone.utc)
                store.touch(conn, application["id"], escalated_at=now)
                facts = {"application_id": application["id"], "reference": application["reference"],
                         "programme_title": application["programme_name"], "state": application["state"],
                         "waiting_since": application["state_since"].isoformat(),
                         "sla_hours": application["sla_hours"], "assigned_officer": application["assigned_officer"]}
                officer = application["assigned_officer"]
                self.emit(conn, "case_overdue", {**facts, "member_ids": [officer] if officer else [],
                                                 "roles": [ADMIN]})
                if application["applicant_told_overdue_at"] is None:
                    store.touch(conn, application["id"], applicant_told_overdue_at=now)
                    self.emit(conn, "case_escalated", {**facts, "member_id": application["member_id"]})
            self.warn_due_soon(conn)

    def warn_due_soon(self, conn):
        """A case that has used most of its time (SLA_WARNING) warns its officer and the admins, once a wait."""
        for application in store.nearly_overdue_cases(conn, SLA_WARNING):
            store.touch(conn, application["id"], warned_at=datetime.now(timezone.utc))
            officer = application["assigned_officer"]
            self.emit(conn, "case_due_soon", {
                "application_id": application["id"], "reference": application["reference"],
                "programme_title": application["programme_name"], "state": application["state"],
                "waiting_since": application["state_since"].isoformat(), "sla_hours": application["sla_hours"],
                "due_at": application["due_at"].isoformat(), "assigned_officer": officer,
                "member_ids": [officer] if officer else [], "roles": [ADMIN]})

    # ------------------------------------------------------------ mutual aid: plans

    @rpc(expected_exceptions=EXPECTED)
    def create_plan(self, data):
        actor = self.caller.require(*OFFICERS)
        data = load(_plan_in, data)
        with self.db.transaction() as conn:
            return _plan_out.dump(store.create_plan(conn, data, actor))

    @rpc(expected_exceptions=EXPECTED)
    def list_plans(self, limit=50, offset=0, with_total=False):
        with self.db.transaction() as conn:
            rows = store.list_plans(conn, *page(limit, offset))
        return listed(_plan_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def get_plan(self, plan_id):
        plan_id = object_id(plan_id, "plan")
        with self.db.transaction() as conn:
            return _plan_out.dump(store.get_plan(conn, plan_id))

    @rpc(expected_exceptions=EXPECTED)
    def record_contribution(self, plan_id, data):
        """The unit's contribution has arrived: it must be the confirmed roster's headcount times the
        plan's rate (a mismatch is refused naming both figures, nothing written); it goes into the
        mutual-aid fund's ledger and its members' cover starts now."""
        actor = self.caller.require(*OFFICERS)
        plan_id = object_id(plan_id, "plan")
        data = load(_contribution_in, data)
        if data["amount"] <= 0:
            raise Invalid("a contribution is more than nothing", errors={"amount": ["must be more than 0"]})
        unit_id = str(data["unit_id"])
        with self.db.transaction() as conn:
            plan = store.get_plan(conn, plan_id)
            confirmed, waiting = store.headcount(conn, plan_id, unit_id)
            if waiting:
                raise Conflict(f"{waiting} renewed worker(s) of the unit wait for its confirmation: confirm or remove "
                               "them first", "roster-unconfirmed", {"unit_id": [f"{waiting} row(s) not confirmed"]})
            problem = domain.contribution_problem(data["amount"], confirmed, plan["contribution"])
            if problem:
                raise Invalid(problem, "contribution-mismatch", {"amount": [problem]})
            recorded = store.record_contribution(conn, plan_id, unit_id, data["amount"], actor, confirmed)
            store.post(conn, "mutual_aid", "contribution",
                       f"contribution of unit {unit_id} to {plan['name']}: {confirmed} x {domain.yuan(plan['contribution'])}",
                       [("allocation", -data["amount"]), ("available", data["amount"])], actor,
                       year=plan["year"], plan_id=plan_id, unit_id=unit_id)
            self.tell_enrolled(conn, plan, unit_id, store.unit_member_ids(conn, plan_id, unit_id))
            return _contribution_out.dump(recorded)

    def tell_enrolled(self, conn, plan, unit_id, members):
        """The unit's members with an account hear they are on the plan (and from when they are covered)."""
        if members:
            self.emit(conn, "mutual_aid_enrolled", {
                "member_ids": members, "plan_id": plan["id"], "plan_title": plan["name"], "year": plan["year"],
                "unit_id": unit_id, "enrolled": len(members),
                "covered_from": store.cover_date(conn, plan["id"], unit_id)})

    def roster_unit(self, unit_id):
        """The unit whose roster the caller handles: a unit administrator's own, or the one an officer names."""
        if self.caller.has(UNIT_ADMIN) and self.caller.unit:
            if unit_id and str(unit_id) != self.caller.unit:
                raise Forbidden("a unit administrator handles their own unit's roster only", "not-your-unit",
                                {"unit_id": ["is another unit"]})
            return self.caller.unit
        if self.caller.has(*OFFICERS):
            if not unit_id:
                raise Invalid("name the unit whose roster this is", errors={"unit_id": ["is required for officers"]})
            return object_id(unit_id, "unit")
        raise Forbidden("only a unit administrator (for their unit) or an officer handles a roster", "not-a-unit-admin")

    def roster(self, conn, plan_id, unit, copied=0):
        confirmed, waiting = store.headcount(conn, plan_id, unit)
        return _roster_out.dump({"plan_id": plan_id, "unit_id": unit, "copied": copied, "confirmed": confirmed,
                                 "waiting": waiting})

    def roster_still_open(self, conn, plan_id, unit):
        if store.contribution_of(conn, plan_id, unit):
            raise Conflict("the unit's contribution to this plan is recorded: its roster is settled",
                           "contribution-recorded", {"unit_id": ["has paid its contribution for this plan"]})

    @rpc(expected_exceptions=EXPECTED)
    def renew_roster(self, plan_id, data):
        """Renewal (续保): the unit's roster of an earlier plan year is copied into this plan, every row
        waiting for the unit administrator to confirm (or remove) it. Asked again, nothing more is copied."""
        self.caller.require(*IMPORTERS)
        plan_id = object_id(plan_id, "plan")
        data = load(_renewal_in, data)
        unit = self.roster_unit(data.get("unit_id"))
        from_plan_id = str(data["from_plan_id"])
        with self.db.transaction() as conn:
            plan, earlier = store.get_plan(conn, plan_id), store.get_plan(conn, from_plan_id)
            if earlier["year"] >= plan["year"]:
                raise Invalid(f"a renewal copies an earlier year's roster; plan {from_plan_id} is of {earlier['year']}",
                              errors={"from_plan_id": [f"must be a plan before {plan['year']}"]})
            self.roster_still_open(conn, plan_id, unit)
            store.headcount(conn, plan_id, unit)  # the unit's roster lock
            copied = store.renew_roster(conn, plan_id, from_plan_id, unit)
            return self.roster(conn, plan_id, unit, copied)

    @rpc(expected_exceptions=EXPECTED)
    def confirm_roster(self, plan_id, data):
        """The unit administrator confirms the renewed rows of their roster: those workers are enrolled."""
        self.caller.require(*IMPORTERS)
        plan_id = object_id(plan_id, "plan")
        unit = self.roster_unit(load(_confirmation_in, data).get("unit_id"))
        with self.db.transaction() as conn:
            store.get_plan(conn, plan_id)
            store.headcount(conn, plan_id, unit)
            store.confirm_roster(conn, plan_id, unit)
            return self.roster(conn, plan_id, unit)

    def open_roster_row(self, conn, plan_id, enrolment_id):
        """A row of a roster the caller handles (locked), whose unit's contribution is not recorded yet."""
        if not isinstance(enrolment_id, int) or isinstance(enrolment_id, bool) or enrolment_id < 1:
            raise NotFound(f"enrolment {enrolment_id} is not on this plan's roster", "enrolment-not-found")
        row = store.roster_row(conn, plan_id, enrolment_id)
        unit = str(row["unit_id"])
        if not self.is_staff() and self.caller.unit != unit:
            raise NotFound(f"enrolment {enrolment_id} is not on this plan's roster", "enrolment-not-found")
        store.headcount(conn, plan_id, unit)
        self.roster_still_open(conn, plan_id, unit)
        return unit

    @rpc(expected_exceptions=EXPECTED)
    def remove_enrolment(self, plan_id, enrolment_id):
        """Take a worker off the unit's roster (they left) while its contribution is not recorded."""
        self.caller.require(*IMPORTERS)
        plan_id = object_id(plan_id, "plan")
        with self.db.transaction() as conn:
            unit = self.open_roster_row(conn, plan_id, enrolment_id)
            if store.enrolment_has_claims(conn, enrolment_id):
                raise Conflict("a claim was filed for this worker: they stay on the roster", "enrolment-claimed")
            store.delete_enrolment(conn, enrolment_id)
            return self.roster(conn, plan_id, unit)

    @rpc(expected_exceptions=EXPECTED)
    def edit_enrolment(self, plan_id, enrolment_id, data):
        """Correct a worker's name or phone on the unit's roster (a renewed row, say) while its
        contribution is not recorded; the national ID is the person and is not edited."""
        self.caller.require(*IMPORTERS)
        plan_id = object_id(plan_id, "plan")
        data = load(_row_edit_in, data)
        with self.db.transaction() as conn:
            self.open_roster_row(conn, plan_id, enrolment_id)
            store.edit_enrolment(conn, enrolment_id, data)
            return _enrolment_out.dump(store.enrolment_row(conn, enrolment_id))

    @reliable_handler("gateway", "account_closed")
    def on_account_closed(self, conn, event):
        """A closed account: the person's private facts, national ID, files and roster rows are erased;
        their cases, claims and payouts stay (amounts, states, the ledger) under an id that names no one."""
        try:
            member_id = str(uuid.UUID(str(event["payload"].get("member_id"))))
        except ValueError:
            log.warning("account_closed %s without a member id: ignored", event["event_id"])
            return
        store.lock_member(conn, member_id)
        store.erase_member(conn, member_id)

    @reliable_handler("gateway", "account_registered")
    def on_account_registered(self, conn, event):
        """A worker registered: their rows on units' rosters (by phone, then the same person by
        national-ID hash) and the claims an officer filed for them become theirs."""
        self.follow_account(conn, event)

    @reliable_handler("gateway", "account_phone_changed")
    def on_phone_changed(self, conn, event):
        """A member proved a new phone and signs in with it: roster rows are matched to them by it from
        now on (their old phone may become another worker's account, who must not get their rows), and
        rows a unit typed with the new phone become theirs, as at registration."""
        self.follow_account(conn, event)

    def follow_account(self, conn, event):
        """The account's phone as of the event, unless the account is closed or welfare heard a newer
        one (the two events come on queues of their own); then the roster rows it names are linked."""
        payload = event["payload"]
        try:
            member_id, phone = str(uuid.UUID(str(payload.get("member_id")))), payload.get("phone")
        except ValueError:
            log.warning("%s %s without a member id: ignored", event["event_type"], event["event_id"])
            return
        if not isinstance(phone, str) or not domain.MOBILE.fullmatch(phone):
            return
        store.lock_member(conn, member_id)
        if not store.remember_member(conn, member_id, phone, event.get("occurred_at")):
            return
        for plan_id, unit_id in store.link_member(conn, member_id, phone):
            if store.contribution_of(conn, plan_id, unit_id):  # covered already: they hear so now
                self.tell_enrolled(conn, store.get_plan(conn, plan_id), unit_id, [member_id])

    # ------------------------------------------------------------ mutual aid: enrolment imports

    @rpc(expected_exceptions=EXPECTED)
    def start_import(self, plan_id, csv_text, unit_id=None, member_units=None, accounts_by_phone=None):
        """A unit administrator uploads the unit's members as CSV; it is checked and imported in the
        background, and the job shows the progress and every bad row with its line number.
        `member_units`: {member_id: unit_id or None} the gateway's accounts say of the file's member
        ids; a row whose id is no account, or not a worker of this unit, is an error row.
        `accounts_by_phone`: {phone: member_id} of the file's phones that have an account, so the
        accounts opened before welfare heard of registrations are linked too."""
        actor = self.caller.require(*IMPORTERS)
        plan_id = object_id(plan_id, "plan")
        unit = self.roster_unit(unit_id)
        if not isinstance(csv_text, str) or not csv_text.strip():
            raise Invalid("the CSV file is empty", errors={"file": ["is empty"]})
        if len(csv_text) > MOST_CSV_CHARS or "\x00" in csv_text:
            raise Invalid("the file is not a CSV file of at most 40 MB", errors={"file": ["is too big or binary"]})
        problem = domain.header_problem(domain.csv_header(csv_text))
        if problem:
            raise Invalid(problem, errors={"file": [f"line 1: {problem}"]})
        # a member_id the gateway's accounts do not place in this unit is an error row (no accounts
        # said: none is trusted)
        untrusted = domain.foreign_members(domain.member_ids_by_line(csv_text), str(unit), member_units or {})
        with self.db.transaction() as conn:
            store.get_plan(conn, plan_id)
            for phone, member_id in domain.known_accounts(accounts_by_phone):
                store.remember_member(conn, member_id, phone)
            job = store.create_job(conn, plan_id, str(unit), actor, csv_text, untrusted)
        return _job_out.dump(job)

    @rpc(expected_exceptions=EXPECTED)
    def list_enrolments(self, plan_id, limit=50, offset=0, with_total=False):
        """The plan's enrolments: a unit administrator sees the unit's, officers all; IDs masked."""
        self.caller.require(*IMPORTERS)
        plan_id = object_id(plan_id, "plan")
        if self.is_staff():
            unit = None
        elif self.caller.has(UNIT_ADMIN) and self.caller.unit:
            unit = self.caller.unit
        else:
            raise Forbidden("only the unit's administrator or an officer sees enrolments", "not-a-unit-admin")
        with self.db.transaction() as conn:
            store.get_plan(conn, plan_id)
            rows = store.list_enrolments(conn, plan_id, unit, *page(limit, offset))
        return listed(_enrolment_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def get_import(self, job_id):
        self.caller.require()
        job_id = object_id(job_id, "import")
        with self.db.transaction() as conn:
            job = store.get_job(conn, job_id)
        # the unit's administrators and the officers: a worker of the unit does not read its roster's errors
        unit_admin = self.caller.has(UNIT_ADMIN) and self.caller.unit == str(job["unit_id"])
        if not self.is_staff() and not unit_admin:
            raise NotFound(f"import {job_id} does not exist", "import-not-found")
        return _job_out.dump(job)

    @timer(interval=IMPORT_POLL_SECONDS)
    def run_imports(self):
        with self.db.transaction() as conn:
            job = store.claim_job(conn)
        if job is None:
            return
        try:
            self.import_enrolments(job)
        except Exception as exc:  # the job says what went wrong instead of staying 'running'
            log.exception("enrolment import %s failed", job["id"])
            with self.db.transaction() as conn:
                store.finish_job(conn, job["id"], failure=f"{type(exc).__name__}: {exc}"[:1000])
                self.tell_import_errors(conn, job["id"])

    def tell_import_errors(self, conn, job_id):
        """An import that did not take every row tells the unit administrator who uploaded it."""
        job = store.get_job(conn, job_id)
        if not job["bad_rows"] and not job["failure"]:
            return
        try:
            title = store.get_plan(conn, job["plan_id"])["name"]
        except NotFound:  # what the import failed on, maybe: the alert still goes
            title = ""
        self.emit(conn, "import_had_errors", {
            "job_id": job["id"], "plan_id": job["plan_id"], "plan_title": title, "unit_id": job["unit_id"],
            "uploaded_by": job["uploaded_by"], "total_rows": job["total_rows"] or 0,
            "enrolled_rows": job["enrolled_rows"] or 0, "bad_rows": job["bad_rows"] or 0,
            "failed": job["failure"] is not None})

    def import_enrolments(self, job):
        sealer = self.sealer()
        good, errors = domain.read_enrolment_csv(job["csv"], job["untrusted"])
        rows = [(line, r["name"], r["phone"], r["member_id"], sealer.fingerprint(r["national_id"]),
                 sealer.seal_text(r["national_id"]), domain.mask_national_id(r["national_id"])) for line, r in good]
        total, processed, enrolled = len(rows) + len(errors), len(errors), 0
        with self.db.transaction() as conn:
            plan = store.get_plan(conn, job["plan_id"])
            store.job_progress(conn, job["id"], total, processed, 0, len(errors), errors[:MOST_ERRORS_KEPT])
        for start in range(0, len(rows), IMPORT_BATCH):
            batch = rows[start:start + IMPORT_BATCH]
            with self.db.transaction() as conn:
                taken, members = store.insert_enrolments(conn, job["plan_id"], job["unit_id"], job["id"], batch)
                errors += [{"line": n, "errors": ["national_id: already enrolled in this plan"]} for n in taken]
                processed += len(batch)
                enrolled += len(batch) - len(taken)
                errors.sort(key=lambda e: e["line"])
                store.job_progress(conn, job["id"], total, processed, enrolled, len(errors), errors[:MOST_ERRORS_KEPT])
                self.tell_enrolled(conn, plan, str(job["unit_id"]), members)
        with self.db.transaction() as conn:
            store.finish_job(conn, job["id"])
            self.tell_import_errors(conn, job["id"])

    # ------------------------------------------------------------ mutual aid: claims

    @rpc(expected_exceptions=EXPECTED)
    def create_claim(self, data):
        """A member claims for themself; an officer claims for a member (member_id) or for a worker on
        a roster who has no account yet (enrolment_id: the claim becomes theirs when they register)."""
        submitted_by = self.caller.require()
        data = load(_claim_in, data)
        for_other = data.get("enrolment_id") or (data.get("member_id") and str(data["member_id"]) != submitted_by)
        if for_other and not self.is_staff():
            field = "enrolment_id" if data.get("enrolment_id") else "member_id"
            raise Forbidden("only an officer may claim on a member's behalf", "not-an-officer",
                            {field: ["leave it out to claim for yourself"]})
        data["plan_id"] = str(data["plan_id"])
        with self.db.transaction() as conn:
            plan = store.get_plan(conn, data["plan_id"])
            if data.get("enrolment_id"):
                enrolment = store.member_enrolment(conn, data["plan_id"], enrolment_id=data["enrolment_id"])
            else:
                enrolment = store.member_enrolment(conn, data["plan_id"], str(data.get("member_id") or submitted_by))
            member_id = str(enrolment["member_id"]) if enrolment["member_id"] else None
            assessment = domain.assess_claim(store.rules_of(plan), data["kind"], data["event_date"], data["details"],
                                             enrolment["cover_start"], store.granted_this_year(conn, enrolment["id"]))
            claim = store.insert_claim(conn, data, enrolment["id"], member_id, submitted_by, assessment)
            return _claim_out.dump({**claim, "documents": []})

    def claim_view(self, conn, claim):
        """A claim as the caller may see it: the health details and the files only for the member, the
        officer who filed it, the officer the claim is assigned to and the officers who approved or
        decided it."""
        assigned = str(claim["assigned_officer"]) if claim["assigned_officer"] else None
        reviewers = set(store.claim_approvers(conn, claim["id"]))
        if claim["decided_by"]:
            reviewers.add(str(claim["decided_by"]))
        on_it = domain.may_see_private(self.caller.id, str(claim["member_id"]), assigned, reviewers) \
            or self.caller.id == str(claim["submitted_by"])
        shown = {**claim, "documents": store.files_of(conn, store.CLAIM_FILES, claim["id"]) if on_it else []}
        return (shown if on_it else {**shown, "details": None}), on_it

    @rpc(expected_exceptions=EXPECTED)
    def list_claims(self, limit=50, offset=0, state=None, mine=False, assigned=False, with_total=False):
        """A member's own claims; for officers all of them, or (assigned) those given to them."""
        reader = self.caller.require()
        with self.db.transaction() as conn:
            rows = store.list_claims(conn, reader if (mine or not self.is_staff()) else None, state,
                                     *page(limit, offset), officer_id=reader if (assigned and self.is_staff()) else None)
            others = [r["id"] for r in rows if str(r["member_id"]) != reader]
            store.log_reads(conn, others, reader, [False] * len(others), self.caller.request_id, "claim_id")
        # health details are shown only in a claim's own (logged) read
        return listed(_claim_out.dump([r if str(r["member_id"]) == reader else {**r, "details": None}
                                       for r in rows], many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def get_claim(self, claim_id):
        reader = self.caller.require()
        claim_id = object_id(claim_id, "claim")
        with self.db.transaction() as conn:
            claim = store.get_claim(conn, claim_id)
            shown, saw_details = self.claim_view(conn, claim)
            if str(claim["member_id"]) != reader:
                if not self.is_staff():
                    raise NotFound(f"claim {claim_id} does not exist", "claim-not-found")
                store.log_reads(conn, [claim_id], reader, [saw_details], self.caller.request_id, "claim_id")
        return _claim_out.dump(shown)

    @rpc(expected_exceptions=EXPECTED)
    def assign_claim(self, claim_id, data):
        """Triage: give a submitted claim to the officer who reviews it (and so sees its health details)."""
        actor = self.caller.require(*OFFICERS)
        claim_id = object_id(claim_id, "claim")
        data = load(_claim_assign_in, data)
        officer_id = str(data["officer_id"])
        with refusals():
            domain.check_not_self_assigned(actor, officer_id, "claim")
        with self.db.transaction() as conn:
            claim = store.get_claim(conn, claim_id, lock=True)
            if officer_id in domain.parties(claim):
                raise Invalid("an officer cannot be assigned their own claim",
                              errors={"officer_id": ["is the claimant or filed this claim"]})
            if claim["state"] not in domain.CLAIM_OPEN:
                raise Conflict(f"the claim is {claim['state']}: only a claim under review is triaged", "claim-decided",
                               {"state": [f"is {claim['state']}"]})
            store.assign_claim(conn, claim_id, officer_id, actor)
            return _claim_out.dump(self.claim_view(conn, store.get_claim(conn, claim_id))[0])

    @rpc(expected_exceptions=EXPECTED)
    def decide_claim(self, claim_id, data):
        """Review: the amount is computed again under the member's enrolment lock, so two claims
        approved at once never pass the yearly cap together. Above the mutual-aid programme's
        threshold a claim needs that many distinct officers' approvals; money is promised at the last."""
        actor = self.caller.require(*OFFICERS)
        claim_id = object_id(claim_id, "claim")
        data = load(_claim_decision_in, data)
        with self.db.transaction() as conn:
            claim = store.get_claim(conn, claim_id, lock=True)
            if actor in domain.parties(claim):
                raise Forbidden("an officer may not decide their own claim or one they filed", "own-application")
            if claim["state"] not in domain.CLAIM_OPEN:
                raise Conflict(f"the claim is {claim['state']}: only a claim under review can be decided",
                               "claim-decided", {"state": [f"is {claim['state']}"]})
            plan = store.get_plan(conn, claim["plan_id"])
            enrolment = store.member_enrolment(conn, str(claim["plan_id"]), enrolment_id=claim["enrolment_id"],
                                               lock=True)
            if data["decision"] == "reject":
                store.set_claim_state(conn, claim_id, "rejected", decided_by=actor, note=data["note"])
            else:
                assessment = domain.assess_claim(store.rules_of(plan), claim["kind"], claim["event_date"],
                                                 claim["details"], enrolment["cover_start"],
                                                 store.granted_this_year(conn, enrolment["id"]))
                needed = store.policy(store.get_programme(conn, "mutual_aid")).signatures_needed(assessment.amount)
                store.approve_claim(conn, claim_id, actor, assessment.amount, needed)
                if len(store.claim_approvers(conn, claim_id)) < max(needed, claim["approvals_needed"]):
                    store.set_claim_state(conn, claim_id, "under_review", note=data["note"], amount=assessment.amount,
                                          assessment=assessment)
                    return _claim_out.dump(self.claim_view(conn, store.get_claim(conn, claim_id))[0])
                store.commit_funds(conn, [("mutual_aid", assessment.amount, "claim")], f"claim {claim_id}", actor,
                                   claim_id=claim_id)
                store.set_claim_state(conn, claim_id, "approved", decided_by=actor, note=data["note"],
                                      amount=assessment.amount, assessment=assessment)
            claim = store.get_claim(conn, claim_id)  # the deciding officer has reviewed it: details shown
            if claim["member_id"]:  # a worker with no account yet hears through their unit
                self.emit(conn, "claim_decided", {
                    "claim_id": claim_id, "member_id": claim["member_id"], "plan_title": plan["name"],
                    "kind": claim["kind"], "decision": data["decision"], "amount": claim["amount"],
                    "note": data["note"], "decided_at": claim["decided_at"].isoformat()})
            return _claim_out.dump(self.claim_view(conn, claim)[0])

    @rpc(expected_exceptions=EXPECTED)
    def pay_claim(self, claim_id):
        """Pay an approved claim once, by an officer who did not approve it (the database refuses it too)."""
        actor = self.caller.require(*OFFICERS)
        claim_id = object_id(claim_id, "claim")
        with self.db.transaction() as conn:
            claim = store.get_claim(conn, claim_id, lock=True)
            if actor in domain.parties(claim):
                raise Forbidden("an officer may not pay their own claim or one they filed", "own-application")
            if claim["state"] == "paid":
                raise Conflict("this claim has already been paid", "already-paid")
            if claim["state"] != "approved":
                raise Conflict(f"only an approved claim can be paid; this one is {claim['state']}", "not-approved",
                               {"state": [f"is {claim['state']}"]})
            if actor in store.claim_approvers(conn, claim_id):
                raise Forbidden("you approved this claim: another officer pays it", "approver-pays")
            if not claim["amount"]:
                raise Conflict("the plan pays nothing for this claim", "nothing-to-pay")
            payout = store.insert_payout(conn, claim["member_id"], claim["amount"], actor, claim_id=claim_id,
                                         enrolment_id=claim["enrolment_id"])
            store.pay_funds(conn, [("mutual_aid", claim["amount"], "claim")], f"payout {payout['reference']}", actor,
                            payout["id"], claim_id=claim_id)
            store.set_claim_state(conn, claim_id, "paid")
            plan = store.get_plan(conn, claim["plan_id"])
            if claim["member_id"]:
                self.emit(conn, "payout_made", {
                    "payout_id": payout["id"], "reference": payout["reference"], "member_id": claim["member_id"],
                    "amount": claim["amount"], "application_id": None, "claim_id": claim_id,
                    "programme_title": f"{plan['name']} ({claim['kind'].replace('_', ' ')})",
                    "paid_at": payout["created_at"].isoformat()})
            return _payout_out.dump(payout)

    # ------------------------------------------------------------ mutual aid: claims' documents

    def claim_for_files(self, conn, claim_id, lock=False):
        """The claim, if the caller is its member, the officer who filed it, or an officer on it."""
        claim = store.get_claim(conn, claim_id, lock=lock)
        on_it = self.claim_view(conn, claim)[1]
        if not on_it:
            if str(claim["member_id"]) != self.caller.id and not self.is_staff():
                raise NotFound(f"claim {claim_id} does not exist", "claim-not-found")
            raise Forbidden("only the member and the officers on the claim handle its documents", "not-on-the-case")
        return claim

    @rpc(expected_exceptions=EXPECTED)
    def attach_claim_document(self, claim_id, kind, filename, content_b64):
        """Attach a file (PDF, JPEG or PNG; its type read from its bytes) to a claim still under review."""
        actor = self.caller.require()
        claim_id = object_id(claim_id, "claim")
        content = _arrived(content_b64)
        with self.db.transaction() as conn:
            claim = self.claim_for_files(conn, claim_id, lock=True)
            _still_open("claim", claim["state"], domain.CLAIM_OPEN)
            return _claim_document_out.dump(_attach(conn, store.CLAIM_FILES, claim_id, kind, filename, content, actor))

    @rpc(expected_exceptions=EXPECTED)
    def get_claim_document(self, claim_id, document_id):
        """One file of a claim, base64; a staff download is logged as a read of the claim."""
        self.caller.require()
        claim_id = object_id(claim_id, "claim")
        document_id = object_id(document_id, "document")
        with self.db.transaction() as conn:
            claim = self.claim_for_files(conn, claim_id)
            document = self._download(conn, store.CLAIM_FILES, claim, document_id)
        return {**_claim_document_out.dump(document), "content": base64.b64encode(document["content"]).decode()}

    # ------------------------------------------------------------ stats

    @rpc
    def stats(self):
        with self.db.transaction() as conn:
            return store.stats(conn)

    # ------------------------------------------------------------ the yearly report

    @rpc(expected_exceptions=EXPECTED)
    def report_figures(self, since, until, by=None):
        """Welfare's figures over [since, until) for GET /v1/reports/summary: cases, approvals and
        amounts paid (by programme, unit or month), and the mutual-aid plan's units, enrolments,
        contributions and claims paid (by unit or month; its programme is mutual_aid)."""
        self.caller.require(*STAFF)
        start, end = reports.checked(since, until, by)
        money = ("amount_paid", "contributions", "claims_amount_paid")

        def value(name, v):
            return domain.yuan(int(v)) if name in money else int(v)

        cases_keyed, aid_keyed = by in ("month", *store.CASE_KEYS), by in ("month", *store.AID_KEYS)
        with self.db.transaction() as conn:
            reports.plain_plans(conn)
            cases = {
                **reports.collect(store.report_cases(conn, start, end, by), ("cases",), cases_keyed, value),
                **reports.collect(store.report_approvals(conn, start, end, by), ("approvals",), cases_keyed, value),
                **reports.collect(store.report_case_payouts(conn, start, end, by), ("payouts", "amount_paid"),
                                  cases_keyed, value)}
            aid = {
                **reports.collect(store.report_plan_enrolments(conn, start, end, by),
                                  ("mutual_aid_units", "mutual_aid_enrolments"), aid_keyed, value),
                **reports.collect(store.report_contributions(conn, start, end, by), ("contributions",),
                                  aid_keyed, value),
                **reports.collect(store.report_claim_payouts(conn, start, end, by),
                                  ("claims_paid", "claims_amount_paid"), aid_keyed, value)}
            labels = store.report_programme_names(conn) if by == "programme" else {}
        if by == "programme":  # the plan is one programme: its figures are all mutual_aid's
            for figure in aid.values():
                figure["groups"] = {"mutual_aid": figure["total"]}
        elif by is not None and not aid_keyed:
            reports.not_applicable(aid, f"the mutual-aid plan is not recorded by {by}")
        if by is not None and not cases_keyed:
            reports.not_applicable(cases, f"welfare cases are not recorded by {by}")
        return {"figures": {**cases, **aid}, "labels": labels}

    @rpc(expected_exceptions=EXPECTED)
    def get_payout(self, application_id=None, claim_id=None):
        """The payout of a case or a claim (officers): what a replayed payment answers."""
        self.caller.require(*OFFICERS)
        application_id = object_id(application_id, "application") if application_id else None
        claim_id = object_id(claim_id, "claim") if claim_id else None
        with self.db.transaction() as conn:
            payout = store.payout_for(conn, application_id=application_id, claim_id=claim_id) \
                if application_id or claim_id else None
        if payout is None:
            raise NotFound("no payout yet", "payout-not-found")
        return _payout_out.dump(payout)

    @rpc(expected_exceptions=EXPECTED)
    def list_payouts(self, limit=50, offset=0, with_total=False):
        """Every payout of cases and claims, newest first (officers)."""
        self.caller.require(*OFFICERS)
        with self.db.transaction() as conn:
            rows = store.list_payouts(conn, *page(limit, offset))
        return listed(schemas.PayoutListedSchema().dump(rows, many=True), rows, with_total)
