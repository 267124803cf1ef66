"""The welfare service's nameko entrypoints: relief and other applications as cases, decisions,
payouts and the fund ledger, the mutual-aid plan (enrolment imports, claims), counselling rooms. Each
parses the input, checks the caller, opens the transaction, calls the use case (workflows.py) and
dumps the answer."""
import base64
import binascii
import logging
import uuid
from datetime import date

from nameko.timer import timer

from services.common import config, reports
from services.common.context import CallerProvider
from services.common.db import Database
from services.common.errors import (
    EXPECTED,
    Forbidden,
    Invalid,
    NotFound,
)
from services.common.events import closed_member
from services.common.handlers import reliable_handler
from services.common.metrics import Metrics
from services.common.outbox import Outbox
from services.common.params import listed, load, object_id, page
from services.common.retention import Retention
from services.common.roles import ADMIN, DESK, IMPORTERS, OFFICERS, STAFF, UNIT_ADMIN
from services.common.rpc import RpcProxy, rpc
from services.common.trust import CheckedAtStart
from services.welfare import crypto, domain, schemas, store, workflows

log = logging.getLogger(__name__)

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


# the files of cases and claims (their rules: workflows.attach)

def _arrived(content_b64):
    try:
        return base64.b64decode(content_b64 or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise Invalid("the file did not arrive whole", errors={"file": ["is not base64"]}) from None


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
            application, replayed = workflows.create_application(
                conn, self.outbox, sealer, data, member_id, submitted_by, self.caller.idempotency_key,
                self.applicant_facts(applicant))
            return self.view(conn, application, detail=not replayed)[0]

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
            outcome = workflows.decide(conn, self.outbox, app_id, actor, data)
            answer = self.view(conn, store.get_application(conn, app_id), detail=True)[0]
            held = workflows.rooms_held(conn, app_id)
        if outcome.to_state == domain.CLOSED and held:
            workflows.release_rooms(self.venues, self.db.transaction, app_id, held)
        return answer

    @rpc(expected_exceptions=EXPECTED)
    def submit(self, app_id, data):
        """Submit a draft, or answer a return with more information (a new round of review)."""
        actor = self.caller.require()
        app_id = object_id(app_id, "application")
        data = load(_resubmit_in, data)
        with self.db.transaction() as conn:
            application = self.readable_application(conn, app_id, lock=True)
            workflows.submit(conn, self.outbox, app_id, application, actor, data)
            return self.view(conn, store.get_application(conn, app_id), detail=True)[0]

    # ------------------------------------------------------------ documents

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
            workflows.still_open("case", application["state"],
                                 (domain.DRAFT, domain.SUBMITTED, domain.UNDER_REVIEW, domain.RETURNED))
            return _document_out.dump(workflows.attach(conn, store.CASE_FILES, app_id, kind, filename, content,
                                                       actor))

    @rpc(expected_exceptions=EXPECTED)
    def get_document(self, app_id, document_id):
        """One attached file, base64; a staff download is logged as a read of the case."""
        self.caller.require()
        app_id = object_id(app_id, "application")
        document_id = object_id(document_id, "document")
        with self.db.transaction() as conn:
            application = self.case_for_files(conn, app_id)
            document = workflows.download(conn, store.CASE_FILES, application, document_id, self.caller.id,
                                          self.caller.request_id)
        return {**_document_out.dump(document), "content": base64.b64encode(document["content"]).decode()}

    @rpc(expected_exceptions=EXPECTED)
    def assign(self, app_id, data):
        """Triage: give the case to an officer, with a priority (legal aid, counselling, any case)."""
        actor = self.caller.require(*OFFICERS)
        app_id = object_id(app_id, "application")
        data = load(_assign_in, data)
        officer_id = str(data["officer_id"])
        with workflows.refusals():
            domain.check_not_self_assigned(actor, officer_id, "case")
        with self.db.transaction() as conn:
            workflows.assign(conn, self.outbox, app_id, actor, officer_id, data["priority"])
            return self.view(conn, store.get_application(conn, app_id), detail=True)[0]

    # ------------------------------------------------------------ payouts and the ledger

    @rpc(expected_exceptions=EXPECTED)
    def pay(self, app_id):
        """Pay an approved application once: the case row is locked, the payout's application is
        unique, so concurrent attempts give one payout and the others a Conflict."""
        actor = self.caller.require(*OFFICERS)
        app_id = object_id(app_id, "application")
        with self.db.transaction() as conn:
            return _payout_out.dump(workflows.pay(conn, self.outbox, app_id, actor))

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
            fund = workflows.add_budget(conn, fund_id, data["amount"], data["year"], data["note"], self.caller.id)
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
            application, series = workflows.counselling_case(conn, app_id)
        occurrences = [{"starts_at": (data["starts_at"] + domain.weeks(i)).isoformat(),
                        "ends_at": (data["ends_at"] + domain.weeks(i)).isoformat()} for i in range(data["weeks"])]
        holder = {"service": "welfare", "reference": f"{app_id}/{self.caller.idempotency_key or series + 1}"}
        room, booked = workflows.reserve_rooms(self.venues, holder, data["room_id"], occurrences,
                                               f"Counselling {application['reference']}")
        place = {"room_name": room.get("name"), "site_name": room.get("site_name"),
                 "site_address": room.get("site_address")}
        with self.db.transaction() as conn:
            workflows.add_appointments(conn, self.outbox, app_id, data["room_id"], booked, holder["reference"], place,
                                       self.caller.id)
            return _appointment_out.dump(store.appointments(conn, app_id), many=True)

    @reliable_handler("venues", "booking_cancelled")
    def on_booking_cancelled(self, conn, event):
        """A counselling room booking was cancelled by venues (room closed...): the session is off,
        the case's ledger says so, and the member is told."""
        booking = event["payload"]
        if booking.get("holder_service") != "welfare":
            return
        workflows.appointment_cancelled(conn, self.outbox, booking)

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
        """A case waiting longer than its programme allows: its officer and the admins are alerted, the
        applicant hears once; then the cases nearly due are warned of (workflows.escalate_overdue)."""
        with self.db.transaction() as conn:
            workflows.escalate_overdue(conn, self.outbox, SLA_WARNING)

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
            recorded = workflows.record_contribution(conn, self.outbox, plan_id, unit_id, data["amount"], actor)
            return _contribution_out.dump(recorded)

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
            copied = workflows.renew_roster(conn, plan_id, from_plan_id, unit)
            return self.roster(conn, plan_id, unit, copied)

    @rpc(expected_exceptions=EXPECTED)
    def confirm_roster(self, plan_id, data):
        """The unit administrator confirms the renewed rows of their roster: those workers are enrolled."""
        self.caller.require(*IMPORTERS)
        plan_id = object_id(plan_id, "plan")
        unit = self.roster_unit(load(_confirmation_in, data).get("unit_id"))
        with self.db.transaction() as conn:
            workflows.confirm_roster(conn, plan_id, unit)
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
        workflows.roster_still_open(conn, plan_id, unit)
        return unit

    @rpc(expected_exceptions=EXPECTED)
    def remove_enrolment(self, plan_id, enrolment_id):
        """Take a worker off the unit's roster (they left) while its contribution is not recorded."""
        self.caller.require(*IMPORTERS)
        plan_id = object_id(plan_id, "plan")
        with self.db.transaction() as conn:
            unit = self.open_roster_row(conn, plan_id, enrolment_id)
            workflows.remove_enrolment(conn, enrolment_id)
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
        member_id = closed_member(event)
        if member_id is None:
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
                workflows.tell_enrolled(conn, self.outbox, store.get_plan(conn, plan_id), unit_id, [member_id])

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
            workflows.import_enrolments(self.db.transaction, self.outbox, self.sealer(), job)
        except Exception as exc:  # the job says what went wrong instead of staying 'running'
            log.exception("enrolment import %s failed", job["id"])
            with self.db.transaction() as conn:
                store.finish_job(conn, job["id"], failure=f"{type(exc).__name__}: {exc}"[:1000])
                workflows.tell_import_errors(conn, self.outbox, job["id"])

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
            claim = workflows.create_claim(conn, data, submitted_by)
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
        with workflows.refusals():
            domain.check_not_self_assigned(actor, officer_id, "claim")
        with self.db.transaction() as conn:
            claim = workflows.assign_claim(conn, claim_id, actor, officer_id)
            return _claim_out.dump(self.claim_view(conn, claim)[0])

    @rpc(expected_exceptions=EXPECTED)
    def decide_claim(self, claim_id, data):
        """Review: the amount is computed again under the member's enrolment lock, so two claims
        approved at once never pass the yearly cap together. Above the mutual-aid programme's
        threshold a claim needs that many distinct officers' approvals; money is promised at the last."""
        actor = self.caller.require(*OFFICERS)
        claim_id = object_id(claim_id, "claim")
        data = load(_claim_decision_in, data)
        with self.db.transaction() as conn:
            claim = workflows.decide_claim(conn, self.outbox, claim_id, actor, data)
            return _claim_out.dump(self.claim_view(conn, claim)[0])

    @rpc(expected_exceptions=EXPECTED)
    def pay_claim(self, claim_id):
        """Pay an approved claim once, by an officer who did not approve it (the database refuses it too)."""
        actor = self.caller.require(*OFFICERS)
        claim_id = object_id(claim_id, "claim")
        with self.db.transaction() as conn:
            return _payout_out.dump(workflows.pay_claim(conn, self.outbox, claim_id, actor))

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
            workflows.still_open("claim", claim["state"], domain.CLAIM_OPEN)
            return _claim_document_out.dump(workflows.attach(conn, store.CLAIM_FILES, claim_id, kind, filename,
                                                             content, actor))

    @rpc(expected_exceptions=EXPECTED)
    def get_claim_document(self, claim_id, document_id):
        """One file of a claim, base64; a staff download is logged as a read of the claim."""
        self.caller.require()
        claim_id = object_id(claim_id, "claim")
        document_id = object_id(document_id, "document")
        with self.db.transaction() as conn:
            claim = self.claim_for_files(conn, claim_id)
            document = workflows.download(conn, store.CLAIM_FILES, claim, document_id, self.caller.id,
                                          self.caller.request_id)
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
