"""Welfare and mutual aid: answered by the welfare service over RPC.

Money travels as yuan in decimal strings ("1500.00"), never as JSON numbers."""
import base64
import hashlib
import uuid
from datetime import datetime

from gateway import auth, store, timetable
from gateway.idempotency import run_once
from gateway.openapi import operation
from gateway.problems import Problem, invalid
from gateway.routes import PAGING, Resource, listed, paging, read_body
from gateway.rpc import call
from services.common.roles import ADMIN, IMPORTERS, OFFICERS
from services.common.zone import HOME_ZONE
from services.welfare import domain
from services.welfare.domain import MOST_DOCUMENT_BYTES
from services.welfare.schemas import (
    ApplicationCreateSchema,
    ApplicationSchema,
    AppointmentCreateSchema,
    AppointmentSchema,
    AssignmentSchema,
    AuditSchema,
    BudgetCreateSchema,
    ClaimAssignmentSchema,
    ClaimCreateSchema,
    ClaimDecisionSchema,
    ClaimDocumentSchema,
    ClaimSchema,
    ContributionCreateSchema,
    ContributionSchema,
    CounsellingAppointmentSchema,
    DecisionCreateSchema,
    DocumentSchema,
    ImportJobSchema,
    LedgerSchema,
    PayoutListedSchema,
    PayoutSchema,
    PlanCreateSchema,
    PlanEnrolmentSchema,
    PlanSchema,
    ProgrammeSchema,
    RenewalCreateSchema,
    ResubmitSchema,
    RosterConfirmationSchema,
    RosterRowUpdateSchema,
    RosterSchema,
    RuleChangesSchema,
    RulesSchema,
    RulesUpdateSchema,
)

TAG, AID = "welfare", "mutual aid"
MOST_CSV_BYTES = 40 * 1024 * 1024


def _post(gateway, req, resp, status, method, *args, body=None, reread=None):
    body = read_body(req) if body is None else body
    run_once(gateway, req, resp, body, lambda key: (
        status, call("welfare", method, *args, body, context=auth.caller(req, key))), reread=reread)


def _reread(req, method, *args):
    """A replay's answer, re-read as the caller may see it now: the key keeps no private facts."""
    def read(thing_id):
        answer = call("welfare", method, *args, thing_id, context=auth.caller(req))
        return {k: v for k, v in answer.items() if k != "content"}  # a document's metadata, not its bytes
    return read


class Budgets(Resource):
    doc = {"post": operation("Put a year's budget into a fund", operation_id="addFundBudget", tag=TAG,
                             body=BudgetCreateSchema, response=LedgerSchema, status=201, roles=(ADMIN,),
                             idempotent=True, errors=(400, 404, 422))}
    location = "/v1/welfare/funds/{fund_id}/ledger"  # the budget is a line of the ledger

    @auth.require(ADMIN)
    def on_post(self, req, resp, fund_id):
        _post(self.gateway, req, resp, 201, "add_budget", fund_id)


class Programmes(Resource):
    doc = {"get": operation("The welfare programmes, their rules and approval policies", operation_id="listProgrammes",
                            tag=TAG, response=ProgrammeSchema, many=True, auth=False, errors=())}

    def on_get(self, req, resp):
        resp.media = call("welfare", "list_programmes", context=auth.caller(req))


class ProgrammeRules(Resource):
    doc = {
        "get": operation("A programme's eligibility rules and their version: public, like the programmes list",
                         operation_id="getProgrammeRules", tag=TAG, response=RulesSchema, auth=False, errors=(404,)),
        "put": operation("Replace a programme's eligibility rules (e.g. the city's new relief line). Send the version "
                         "you read: if the rules changed since, nothing is saved (409). Applies to submissions from "
                         "now on; cases already submitted keep the rules they were checked against. Every change "
                         "is in the programme's audit trail", operation_id="replaceProgrammeRules", tag=TAG,
                         body=RulesUpdateSchema, response=RulesSchema, roles=OFFICERS, errors=(400, 404, 409, 422)),
    }

    def on_get(self, req, resp, code):
        resp.media = call("welfare", "get_rules", code, context=auth.caller(req))

    @auth.require(*OFFICERS)
    def on_put(self, req, resp, code):
        resp.media = call("welfare", "replace_rules", code, read_body(req), context=auth.caller(req))


class ProgrammeRuleChanges(Resource):
    doc = {"get": operation("The audit trail of a programme's eligibility rules: who changed them, when, why, "
                            "before and after; newest first", operation_id="listProgrammeRuleChanges", tag=TAG,
                            response=RuleChangesSchema, roles=OFFICERS, query=PAGING, errors=(400, 404, 422))}
    page_of = "changes"  # the page is this list of the answer

    @auth.require(*OFFICERS)
    def on_get(self, req, resp, code):
        resp.media = call("welfare", "rule_changes", code, **paging(req), context=auth.caller(req))


def _applicant(gateway, member_id):
    """What the accounts know of the member a case is for, for the programmes' eligibility rules:
    since when they are a member (the day their account was opened, in Shanghai) and their unit."""
    try:
        member_id = str(uuid.UUID(str(member_id)))
    except ValueError:
        return {}  # the service refuses the body, naming member_id
    with gateway.db.transaction() as conn:
        row = store.applicant_facts(conn, member_id)
    return {"member_since": row["since"], "unit_id": row["unit_id"]} if row else {}


class Applications(Resource):
    doc = {
        "post": operation("Apply to a programme (an officer may add member_id to apply on a member's behalf)",
                          operation_id="applyForWelfare", tag=TAG, body=ApplicationCreateSchema,
                          response=ApplicationSchema, status=201, idempotent=True, errors=(400, 403, 409, 422)),
        "get": operation("Applications: a member sees their own, officers all (each read is logged)",
                         operation_id="listApplications", tag=TAG, response=ApplicationSchema, many=True,
                         export=("reference", "programme", "state", "member_id", "amount_requested", "amount_approved",
                                 "reason", "national_id", "priority", "assigned_officer", "approvals", "created_at",
                                 "decided_at"),
                         query=(*PAGING, ("programme", "string"), ("state", "string"), ("mine", "boolean"),
                                ("assigned", "boolean")),
                         errors=(400, 422)),
    }
    location = "/v1/welfare/applications/{id}"

    @auth.require()
    def on_post(self, req, resp):
        body = read_body(req)
        applicant = _applicant(self.gateway, body.get("member_id") or req.context.account.id)
        run_once(self.gateway, req, resp, body, lambda key: (
            201, call("welfare", "create_application", body, applicant, context=auth.caller(req, key))),
            reread=_reread(req, "get_application"))

    @auth.require()
    def on_get(self, req, resp):
        resp.media = listed(req, call("welfare", "list_applications", **paging(req),
                                      programme=req.get_param("programme"), state=req.get_param("state"),
                                      mine=req.get_param_as_bool("mine", default=False),
                                      assigned=req.get_param_as_bool("assigned", default=False),
                                      with_total=True, context=auth.caller(req)))


class Application(Resource):
    doc = {"get": operation("One application with its decision ledger (private data only for the applicant and "
                            "the officers on the case)", operation_id="getApplication", tag=TAG,
                            response=ApplicationSchema, errors=(404,))}

    @auth.require()
    def on_get(self, req, resp, application_id):
        resp.media = call("welfare", "get_application", application_id, context=auth.caller(req))


class Decisions(Resource):
    # decisions, payouts and appointments are recorded on the case: their 201 names the case
    doc = {"post": operation("Decide: approve (with amount), reject, return for more information, or close",
                             operation_id="decideApplication", tag=TAG, body=DecisionCreateSchema,
                             response=ApplicationSchema, status=201, roles=OFFICERS, idempotent=True,
                             errors=(400, 403, 404, 409, 422))}
    location = "/v1/welfare/applications/{application_id}"

    @auth.require(*OFFICERS)
    def on_post(self, req, resp, application_id):
        _post(self.gateway, req, resp, 201, "decide", application_id, reread=_reread(req, "get_application"))


class Submission(Resource):
    doc = {"post": operation("Submit a draft, or answer a return with more information (a new round of review)",
                             operation_id="submitApplication", tag=TAG, body=ResubmitSchema, response=ApplicationSchema,
                             idempotent=True, errors=(400, 403, 404, 409, 422))}

    @auth.require()
    def on_post(self, req, resp, application_id):
        _post(self.gateway, req, resp, 200, "submit", application_id, reread=_reread(req, "get_application"))


class Assignment(Resource):
    doc = {"post": operation("Triage: assign the case to an officer with a priority. A welfare admin or another "
                             "officer assigns: an officer giving a case to themselves is refused (403 "
                             "self-assignment)", operation_id="assignApplication",
                             tag=TAG, body=AssignmentSchema, response=ApplicationSchema, roles=OFFICERS,
                             idempotent=True, errors=(400, 403, 404, 409, 422))}

    @auth.require(*OFFICERS)
    def on_post(self, req, resp, application_id):
        _post(self.gateway, req, resp, 200, "assign", application_id, reread=_reread(req, "get_application"))


class Payouts(Resource):
    doc = {"post": operation("Pay an approved application, once (a second payout is a 409)",
                             operation_id="payApplication", tag=TAG, response=PayoutSchema, status=201, roles=OFFICERS,
                             idempotent=True, errors=(403, 404, 409, 422))}
    location = "/v1/welfare/applications/{application_id}"

    @auth.require(*OFFICERS)
    def on_post(self, req, resp, application_id):
        run_once(self.gateway, req, resp, {}, lambda key: (
            201, call("welfare", "pay", application_id, context=auth.caller(req, key))),
            reread=lambda _: call("welfare", "get_payout", application_id, None, context=auth.caller(req)))


class Appointments(Resource):
    doc = {"post": operation("Book counselling sessions in a private room (through venues)",
                             operation_id="bookCounselling", tag=TAG, body=AppointmentCreateSchema,
                             response=AppointmentSchema, many=True, status=201, roles=OFFICERS, idempotent=True,
                             errors=(400, 403, 404, 409, 422))}
    location = "/v1/welfare/applications/{application_id}"

    @auth.require(*OFFICERS)
    def on_post(self, req, resp, application_id):
        def sessions(ids):  # the sessions booked, as the case shows them now
            case = call("welfare", "get_application", application_id, context=auth.caller(req))
            return [a for a in case["appointments"] if str(a["id"]) in ids]

        _post(self.gateway, req, resp, 201, "book_appointments", application_id, reread=sessions)


FILE_TYPES = ("application/pdf", "image/jpeg", "image/png")
BINARY = {"type": "string", "format": "binary"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _document_upload_doc():
    op = operation("Attach a document to a case: the file itself is the body (PDF, JPEG or PNG, at most 10 MiB; "
                   "its type is read from its bytes, whatever Content-Type says). The applicant, the officer who "
                   "applied for them, or an officer on the case", operation_id="attachDocument", tag=TAG,
                   response=DocumentSchema, status=201, idempotent=True, errors=(400, 403, 404, 409, 413, 415, 422))
    op["requestBody"] = {"required": True, "content": {t: {"schema": BINARY}
                                                       for t in ("application/octet-stream", *FILE_TYPES)}}
    op["parameters"] += [
        {"name": "kind", "in": "query", "required": True,
         "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,59}$"},
         "description": "which document it is: one the programme requires (income_statement...) or another"},
        {"name": "filename", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200}}]
    return op


def _upload(resource, req, resp, attach, read, owner_id):
    """A document of a case or a claim: the body is the file (at most MOST_DOCUMENT_BYTES), attached
    once per Idempotency-Key with welfare's `attach` RPC; a replay re-reads it with `read`."""
    content = req.bounded_stream.read(MOST_DOCUMENT_BYTES + 1)
    if len(content) > MOST_DOCUMENT_BYTES:
        raise Problem(413, "payload-too-large", f"a document may be at most {MOST_DOCUMENT_BYTES} bytes")
    kind, filename = req.get_param("kind") or "", req.get_param("filename") or ""
    # the retry of an upload is known by the file's hash, not by its megabytes
    fingerprint = {"kind": kind, "filename": filename, "sha256": hashlib.sha256(content).hexdigest()}
    encoded = base64.b64encode(content).decode()
    run_once(resource.gateway, req, resp, fingerprint, lambda key: (
        201, call("welfare", attach, owner_id, kind, filename, encoded, context=auth.caller(req, key))),
        reread=_reread(req, read, owner_id))


def _download(resp, document):
    """A document as its own file: never sniffed, never cached, its hash as the ETag."""
    resp.data = base64.b64decode(document["content"])
    resp.content_type = document["content_type"]
    resp.downloadable_as = document["filename"]
    resp.set_header("X-Content-Type-Options", "nosniff")
    resp.set_header("Cache-Control", "private, no-store")
    resp.set_header("ETag", f'"{document["sha256"]}"')


class Documents(Resource):
    max_body = MOST_DOCUMENT_BYTES
    doc = {"post": _document_upload_doc()}
    location = "/v1/welfare/applications/{application_id}/documents/{id}"

    @auth.require()
    def on_post(self, req, resp, application_id):
        _upload(self, req, resp, "attach_document", "get_document", application_id)


def _document_download_doc():
    op = operation("Download a document of a case (the applicant and the officers on the case; a staff "
                   "download is logged as a read of the case)", operation_id="downloadDocument", tag=TAG,
                   errors=(403, 404))
    op["responses"]["200"]["content"] = {t: {"schema": BINARY} for t in FILE_TYPES}
    return op


class Document(Resource):
    doc = {"get": _document_download_doc()}

    @auth.require()
    def on_get(self, req, resp, application_id, document_id):
        _download(resp, call("welfare", "get_document", application_id, document_id, context=auth.caller(req)))


class Reads(Resource):
    doc = {"get": operation("Who on the staff read this case", operation_id="listApplicationReads", tag=TAG,
                            response=AuditSchema, query=PAGING, errors=(400, 404, 422))}
    page_of = "reads"  # the page is this list of the answer

    @auth.require()
    def on_get(self, req, resp, application_id):
        resp.media = call("welfare", "application_reads", application_id, **paging(req), context=auth.caller(req))


class FundLedger(Resource):
    doc = {"get": operation("A fund's balances (they sum to zero) and its double-entry ledger, newest first",
                            operation_id="getFundLedger", tag=TAG, response=LedgerSchema, roles=OFFICERS, query=PAGING,
                            errors=(400, 404, 422),
                            export=("transaction_id", "created_at", "kind", "year", "account", "amount", "memo",
                                    "application_id", "claim_id", "payout_id"))}
    page_of = "entries"  # the page is this list of the answer

    @auth.require(*OFFICERS)
    def on_get(self, req, resp, fund_id):
        resp.media = call("welfare", "fund_ledger", fund_id, **paging(req), context=auth.caller(req))


class Plans(Resource):
    doc = {
        "post": operation("Create a mutual-aid plan year with its benefit rules", operation_id="createPlan", tag=AID,
                          body=PlanCreateSchema, response=PlanSchema, status=201, roles=OFFICERS, idempotent=True,
                          errors=(400, 409, 422)),
        "get": operation("Mutual-aid plans", operation_id="listPlans", tag=AID, response=PlanSchema, many=True,
                         auth=False, query=PAGING, errors=(400, 422)),
    }
    location = "/v1/mutual-aid/plans/{id}"

    @auth.require(*OFFICERS)
    def on_post(self, req, resp):
        _post(self.gateway, req, resp, 201, "create_plan")

    def on_get(self, req, resp):
        resp.media = listed(req, call("welfare", "list_plans", **paging(req),
                                      with_total=True, context=auth.caller(req)))


class Plan(Resource):
    doc = {"get": operation("One mutual-aid plan", operation_id="getPlan", tag=AID, response=PlanSchema, auth=False,
                            errors=(404,))}

    def on_get(self, req, resp, plan_id):
        resp.media = call("welfare", "get_plan", plan_id, context=auth.caller(req))


class Contributions(Resource):
    doc = {"post": operation("Record a unit's contribution: it must be the confirmed roster's headcount x the plan's "
                             "rate (422 naming both figures otherwise); it goes into the mutual-aid fund's ledger and "
                             "the workers' cover starts",
                             operation_id="recordContribution", tag=AID, body=ContributionCreateSchema,
                             response=ContributionSchema, status=201, roles=OFFICERS, idempotent=True,
                             errors=(400, 404, 409, 422))}
    location = "/v1/mutual-aid/plans/{plan_id}"  # contributions are part of the plan

    @auth.require(*OFFICERS)
    def on_post(self, req, resp, plan_id):
        _post(self.gateway, req, resp, 201, "record_contribution", plan_id)


def _enrolment_upload_doc():
    op = operation("Enrol the unit's workers: upload the roster (columns name, national_id, phone, member_id) as "
                   "CSV in UTF-8 or GB18030, or as an .xlsx workbook (its first sheet). A row without member_id "
                   "is linked to the worker's account by national ID or phone, now or when they register. A "
                   "row whose member_id is no account or not a worker of this unit is an error row of the job "
                   "(never linked); the other rows are imported. "
                   "The import runs in the background, poll the job", operation_id="importPlanEnrolments", tag=AID,
                   response=ImportJobSchema, status=202, roles=IMPORTERS, idempotent=True,
                   errors=(400, 403, 404, 413, 422))
    op["requestBody"] = {"required": True, "content": {
        "text/csv": {"schema": {"type": "string"}},
        XLSX: {"schema": BINARY}}}
    op["parameters"].append({"name": "unit_id", "in": "query", "required": False, "schema": {"type": "string"},
                             "description": "officers only: the unit (a unit_admin always enrols their own)"})
    op["responses"]["202"]["description"] = "Accepted: the import job"
    return op


class Enrolments(Resource):
    max_body = MOST_CSV_BYTES  # a city's year of enrolments is ~3 MB; the gateway's default is 1 MB
    doc = {"post": _enrolment_upload_doc(),
           "get": operation("The plan's enrolments (a unit administrator: their unit's); ID numbers masked",
                            operation_id="listPlanEnrolments", tag=AID, response=PlanEnrolmentSchema, many=True,
                            roles=IMPORTERS, query=PAGING, errors=(400, 404, 422),
                            export=("id", "unit_id", "name", "phone", "national_id", "member_id", "enrolled_at",
                                    "cover_from"))}

    @auth.require(*IMPORTERS)
    def on_get(self, req, resp, plan_id):
        resp.media = listed(req, call("welfare", "list_enrolments", plan_id, **paging(req),
                                      with_total=True, context=auth.caller(req)))

    @auth.require(*IMPORTERS)
    def on_post(self, req, resp, plan_id):
        if req.content_length is not None and req.content_length > MOST_CSV_BYTES:
            raise Problem(413, "payload-too-large", "a CSV file of at most 40 MB")
        raw = req.bounded_stream.read(MOST_CSV_BYTES + 1)
        if len(raw) > MOST_CSV_BYTES:
            raise Problem(413, "payload-too-large", "a CSV file of at most 40 MB")
        try:
            text = domain.roster_text(raw)
        except domain.Refused as refused:
            raise invalid(refused.errors, refused.detail) from None
        unit_id = req.get_param("unit_id")
        ids = {member_id for _, member_id in domain.member_ids_by_line(text)}
        phones = {phone for _, phone in domain.roster_column(text, "phone")}
        with self.gateway.db.transaction() as conn:  # what the accounts say of the people in the file
            member_units = store.units_of_accounts(conn, _uuids(ids))
            accounts = store.accounts_by_phone(conn, phones)
        run_once(self.gateway, req, resp, {"csv": text, "unit_id": unit_id}, lambda key: (
            202, call("welfare", "start_import", plan_id, text, unit_id, member_units, accounts,
                      context=auth.caller(req, key))))


def _uuids(texts):
    """The texts that are ids (the import reports the others by their line)."""
    ids = []
    for text in texts:
        try:
            ids.append(str(uuid.UUID(text)))
        except ValueError:
            continue
    return ids


class Renewal(Resource):
    doc = {"post": operation("Renewal (续保): copy the unit's roster of an earlier plan year into this plan; the "
                             "rows wait for the unit administrator to confirm them (or take workers off). Asked "
                             "again, nothing more is copied", operation_id="renewPlanRoster", tag=AID,
                             body=RenewalCreateSchema, response=RosterSchema, roles=IMPORTERS, idempotent=True,
                             errors=(400, 403, 404, 409, 422))}

    @auth.require(*IMPORTERS)
    def on_post(self, req, resp, plan_id):
        _post(self.gateway, req, resp, 200, "renew_roster", plan_id)


class RosterConfirmation(Resource):
    doc = {"post": operation("Confirm the renewed rows of the unit's roster: those workers are enrolled (the "
                             "contribution is then headcount x rate)", operation_id="confirmPlanRoster", tag=AID,
                             body=RosterConfirmationSchema, response=RosterSchema, roles=IMPORTERS,
                             idempotent=True, errors=(400, 403, 404, 422))}

    @auth.require(*IMPORTERS)
    def on_post(self, req, resp, plan_id):
        _post(self.gateway, req, resp, 200, "confirm_roster", plan_id)


def _row_number(enrolment_id):
    try:
        return int(enrolment_id)
    except ValueError:
        raise Problem(404, "enrolment-not-found", f"enrolment {enrolment_id} is not on this plan's roster") from None


class PlanEnrolment(Resource):
    doc = {"delete": operation("Take a worker off the unit's roster (they left) while the unit's contribution is "
                               "not recorded", operation_id="removePlanEnrolment", tag=AID, response=RosterSchema,
                               roles=IMPORTERS, errors=(403, 404, 409)),
           "patch": operation("Correct a worker's name or phone on the unit's roster while the unit's contribution "
                              "is not recorded (a worker with no account is linked to the one registered with the "
                              "new phone)", operation_id="editPlanEnrolment", tag=AID, body=RosterRowUpdateSchema,
                              response=PlanEnrolmentSchema, roles=IMPORTERS, errors=(400, 403, 404, 409, 422))}

    @auth.require(*IMPORTERS)
    def on_delete(self, req, resp, plan_id, enrolment_id):
        resp.media = call("welfare", "remove_enrolment", plan_id, _row_number(enrolment_id),
                          context=auth.caller(req))

    @auth.require(*IMPORTERS)
    def on_patch(self, req, resp, plan_id, enrolment_id):
        resp.media = call("welfare", "edit_enrolment", plan_id, _row_number(enrolment_id), read_body(req),
                          context=auth.caller(req))


class Import(Resource):
    doc = {"get": operation("An enrolment import: progress and bad rows with their line numbers; for the unit's "
                            "administrators and the officers only (another unit's administrator: 404)",
                            operation_id="getEnrolmentImport", tag=AID, response=ImportJobSchema,
                            roles=IMPORTERS, errors=(404,))}

    @auth.require(*IMPORTERS)
    def on_get(self, req, resp, job_id):
        resp.media = call("welfare", "get_import", job_id, context=auth.caller(req))


class Claims(Resource):
    doc = {
        "post": operation("Claim against the mutual-aid plan: computed by the rules, explained line by line. An "
                          "officer claims for a member (member_id) or for a worker with no account (enrolment_id)",
                          operation_id="makeClaim", tag=AID, body=ClaimCreateSchema, response=ClaimSchema, status=201,
                          idempotent=True, errors=(400, 403, 404, 422)),
        "get": operation("Claims: a member sees their own, officers all (without health details)",
                         operation_id="listClaims", tag=AID, response=ClaimSchema, many=True,
                         export=("id", "member_id", "kind", "event_date", "state", "amount", "note", "assigned_officer",
                                 "decided_by", "decided_at", "created_at"),
                         query=(*PAGING, ("state", "string"), ("mine", "boolean"), ("assigned", "boolean")),
                         errors=(400, 422)),
    }
    location = "/v1/mutual-aid/claims/{id}"

    @auth.require()
    def on_post(self, req, resp):
        _post(self.gateway, req, resp, 201, "create_claim", reread=_reread(req, "get_claim"))

    @auth.require()
    def on_get(self, req, resp):
        resp.media = listed(req, call("welfare", "list_claims", **paging(req), state=req.get_param("state"),
                                      mine=req.get_param_as_bool("mine", default=False),
                                      assigned=req.get_param_as_bool("assigned", default=False),
                                      with_total=True, context=auth.caller(req)))


class Claim(Resource):
    doc = {"get": operation("One claim with its explanation (health details for the member, the assigned and the "
                            "deciding officer; each staff read is logged)", operation_id="getClaim", tag=AID,
                            response=ClaimSchema, errors=(404,))}

    @auth.require()
    def on_get(self, req, resp, claim_id):
        resp.media = call("welfare", "get_claim", claim_id, context=auth.caller(req))


class ClaimAssignment(Resource):
    doc = {"post": operation("Triage: assign a submitted claim to the officer who reviews it (never to oneself: "
                             "403 self-assignment)",
                             operation_id="assignClaim", tag=AID, body=ClaimAssignmentSchema, response=ClaimSchema,
                             roles=OFFICERS, idempotent=True, errors=(400, 403, 404, 409, 422))}

    @auth.require(*OFFICERS)
    def on_post(self, req, resp, claim_id):
        _post(self.gateway, req, resp, 200, "assign_claim", claim_id, reread=_reread(req, "get_claim"))


class ClaimDecisions(Resource):
    doc = {"post": operation("Review a claim: approve (amount recomputed by the rules) or reject. Above the "
                             "programme's threshold it needs two distinct officers' approvals (under_review after "
                             "the first)",
                             operation_id="decideClaim", tag=AID, body=ClaimDecisionSchema, response=ClaimSchema,
                             roles=OFFICERS, idempotent=True, errors=(400, 403, 404, 409, 422))}

    @auth.require(*OFFICERS)
    def on_post(self, req, resp, claim_id):
        _post(self.gateway, req, resp, 200, "decide_claim", claim_id, reread=_reread(req, "get_claim"))


class ClaimPayouts(Resource):
    doc = {"post": operation("Pay an approved claim, once, by an officer who did not approve it",
                             operation_id="payClaim", tag=AID, response=PayoutSchema,
                             status=201, roles=OFFICERS, idempotent=True, errors=(403, 404, 409, 422))}
    location = "/v1/mutual-aid/claims/{claim_id}"

    @auth.require(*OFFICERS)
    def on_post(self, req, resp, claim_id):
        run_once(self.gateway, req, resp, {}, lambda key: (
            201, call("welfare", "pay_claim", claim_id, context=auth.caller(req, key))),
            reread=lambda _: call("welfare", "get_payout", None, claim_id, context=auth.caller(req)))


class PayoutList(Resource):
    doc = {"get": operation("Every payout of cases and claims, newest first, with the programme it paid from",
                            operation_id="listPayouts", tag=TAG, response=PayoutListedSchema, many=True,
                            roles=OFFICERS, query=PAGING, errors=(400, 422),
                            export=("reference", "programme", "amount", "member_id", "application_id", "claim_id",
                                    "paid_by", "created_at"))}

    @auth.require(*OFFICERS)
    def on_get(self, req, resp):
        resp.media = listed(req, call("welfare", "list_payouts", **paging(req), with_total=True,
                                      context=auth.caller(req)))


class Counselling(Resource):
    doc = {"get": operation("The counselling appointments of a week for the welfare office: when, where (room and"
                            " site), whose case (member name, case reference and state) and whether it still stands"
                            " (booked or cancelled), by start, in Asia/Shanghai time; from and to are dates, by"
                            f" default this Monday to Sunday, at most {timetable.MOST_DAYS} days. Each case listed"
                            " is logged as read", operation_id="listCounsellingAppointments", tag=TAG,
                            response=CounsellingAppointmentSchema, many=True, roles=OFFICERS,
                            query=(*PAGING, ("from", "date"), ("to", "date")), errors=(400, 422))}

    @auth.require(*OFFICERS)
    def on_get(self, req, resp):
        first, last = timetable.days(req.get_param("from"), req.get_param("to"), datetime.now(HOME_ZONE).date())
        since, before = timetable.bounds(first, last)
        items = listed(req, call("welfare", "list_appointments", since, before, **paging(req), with_total=True,
                                 context=auth.caller(req)))
        with self.gateway.db.transaction() as conn:
            people = store.names_and_phones(conn, {i["member_id"] for i in items})
        for item in items:
            item["member_name"] = (people.get(item["member_id"]) or {}).get("name")
            item["starts_at"], item["ends_at"] = timetable.home(item["starts_at"]), timetable.home(item["ends_at"])
        resp.media = items


def _claim_document_upload_doc():
    op = operation("Attach a document to a claim (discharge summary, diagnosis, accident report): the file itself "
                   "is the body, as for a case's documents (PDF, JPEG or PNG, at most 10 MiB). The member, the "
                   "officer who filed it, or an officer on it", operation_id="attachClaimDocument", tag=AID,
                   response=ClaimDocumentSchema, status=201, idempotent=True,
                   errors=(400, 403, 404, 409, 413, 415, 422))
    op["requestBody"] = {"required": True, "content": {t: {"schema": BINARY}
                                                       for t in ("application/octet-stream", *FILE_TYPES)}}
    op["parameters"] += _document_upload_doc()["parameters"][-2:]
    return op


class ClaimDocuments(Resource):
    max_body = MOST_DOCUMENT_BYTES
    doc = {"post": _claim_document_upload_doc()}
    location = "/v1/mutual-aid/claims/{claim_id}/documents/{id}"

    @auth.require()
    def on_post(self, req, resp, claim_id):
        _upload(self, req, resp, "attach_claim_document", "get_claim_document", claim_id)


def _claim_document_download_doc():
    op = operation("Download a document of a claim (the member and the officers on it; a staff download is "
                   "logged as a read of the claim)", operation_id="downloadClaimDocument", tag=AID,
                   errors=(403, 404))
    op["responses"]["200"]["content"] = {t: {"schema": BINARY} for t in FILE_TYPES}
    return op


class ClaimDocument(Resource):
    doc = {"get": _claim_document_download_doc()}

    @auth.require()
    def on_get(self, req, resp, claim_id, document_id):
        _download(resp, call("welfare", "get_claim_document", claim_id, document_id, context=auth.caller(req)))


PATH_PARAMS = {
    "application_id": {"type": "string", "format": "uuid"},
    "plan_id": {"type": "string", "format": "uuid"},
    "claim_id": {"type": "string", "format": "uuid"},
    "document_id": {"type": "string", "format": "uuid"},
    "job_id": {"type": "string", "format": "uuid"},
    "enrolment_id": {"type": "integer", "minimum": 1},
    "fund_id": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,60}$", "maxLength": 61},
    "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,60}$", "maxLength": 61,
             "description": "the programme: hardship_relief, mutual_aid, education_subsidy, merit_scholarship, "
                            "legal_aid, counselling"},
}


def _describe_path_params(path, resource):
    """Say what each id in the path looks like (the generic path parameter is any string)."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    for op in getattr(resource, "doc", {}).values():
        params = [p for p in op.get("parameters", []) if p["in"] != "path"]
        op["parameters"] = [{"name": n, "in": "path", "required": True, "schema": PATH_PARAMS[n]}
                            for n in names] + params
    return path, resource


def routes(gateway):
    return [_describe_path_params(path, resource) for path, resource in _routes(gateway)]


def _routes(gateway):
    return [
        ("/v1/welfare/programmes", Programmes(gateway)),
        ("/v1/welfare/programmes/{code}/rules", ProgrammeRules(gateway)),
        ("/v1/welfare/programmes/{code}/rules/changes", ProgrammeRuleChanges(gateway)),
        ("/v1/welfare/applications", Applications(gateway)),
        ("/v1/welfare/applications/{application_id}", Application(gateway)),
        ("/v1/welfare/applications/{application_id}/decisions", Decisions(gateway)),
        ("/v1/welfare/applications/{application_id}/submission", Submission(gateway)),
        ("/v1/welfare/applications/{application_id}/assignment", Assignment(gateway)),
        ("/v1/welfare/applications/{application_id}/payouts", Payouts(gateway)),
        ("/v1/welfare/applications/{application_id}/appointments", Appointments(gateway)),
        ("/v1/welfare/counselling", Counselling(gateway)),
        ("/v1/welfare/applications/{application_id}/reads", Reads(gateway)),
        ("/v1/welfare/applications/{application_id}/documents", Documents(gateway)),
        ("/v1/welfare/applications/{application_id}/documents/{document_id}", Document(gateway)),
        ("/v1/welfare/funds/{fund_id}/ledger", FundLedger(gateway)),
        ("/v1/welfare/payouts", PayoutList(gateway)),
        ("/v1/welfare/funds/{fund_id}/budgets", Budgets(gateway)),
        ("/v1/mutual-aid/plans", Plans(gateway)),
        ("/v1/mutual-aid/plans/{plan_id}", Plan(gateway)),
        ("/v1/mutual-aid/plans/{plan_id}/contributions", Contributions(gateway)),
        ("/v1/mutual-aid/plans/{plan_id}/enrolments", Enrolments(gateway)),
        ("/v1/mutual-aid/plans/{plan_id}/enrolments/{enrolment_id}", PlanEnrolment(gateway)),
        ("/v1/mutual-aid/plans/{plan_id}/renewal", Renewal(gateway)),
        ("/v1/mutual-aid/plans/{plan_id}/renewal/confirmation", RosterConfirmation(gateway)),
        ("/v1/mutual-aid/imports/{job_id}", Import(gateway)),
        ("/v1/mutual-aid/claims", Claims(gateway)),
        ("/v1/mutual-aid/claims/{claim_id}", Claim(gateway)),
        ("/v1/mutual-aid/claims/{claim_id}/assignment", ClaimAssignment(gateway)),
        ("/v1/mutual-aid/claims/{claim_id}/decisions", ClaimDecisions(gateway)),
        ("/v1/mutual-aid/claims/{claim_id}/payouts", ClaimPayouts(gateway)),
        ("/v1/mutual-aid/claims/{claim_id}/documents", ClaimDocuments(gateway)),
        ("/v1/mutual-aid/claims/{claim_id}/documents/{document_id}", ClaimDocument(gateway)),
    ]
