"""Welfare's use cases, out of the nameko class (STYLE.md, "use cases out of the nameko classes"):
functions of what they need (the transaction's `conn`, the `outbox` that tells, who acts and what
the entrypoint parsed), called by service.py's entrypoints once they have parsed the input, checked
the caller and opened the transaction. Here too: the events welfare tells, and how a refusal of the
rules leaves as the error the gateway answers with. Pure rules are domain.py's, SQL store.py's."""
import hashlib
import logging
from contextlib import contextmanager
from datetime import datetime, timezone

from nameko.exceptions import RpcTimeout, UnknownService

from services.common.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PayloadTooLarge,
    Unavailable,
    UnsupportedMediaType,
)
from services.common.roles import ADMIN
from services.welfare import domain, events, store

log = logging.getLogger(__name__)
IMPORT_BATCH = 5000  # roster rows a transaction
MOST_ERRORS_KEPT = 10_000
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


def emit(conn, outbox, event_type, payload):
    outbox(conn, event_type, EVENTS[event_type].dump(payload))


def facts(conn, application, **more):
    """What a decision rests on, frozen with it (the files by their hashes)."""
    files = [{"id": str(d["id"]), "kind": d["kind"], "sha256": d["sha256"]}
             for d in store.files_of(conn, store.CASE_FILES, application["id"])]
    return {"programme": application["programme"], "state": application["state"], "round": application["round"],
            "amount_requested": application["amount_requested"], "amount_approved": application["amount_approved"],
            "reason": application["reason"], "documents": files,
            "national_id": application["national_id_mask"], "private": application["private"],
            "assigned_officer": str(application["assigned_officer"]) if application["assigned_officer"] else None,
            **more}


# the files of cases and claims: the same rules, each kind of case in its own table (store.Files)

def still_open(what, state, open_states):
    if state not in open_states:
        raise Conflict(f"the {what} is {state}: its documents are settled", "case-decided", {"state": [f"is {state}"]})


def attach(conn, files, owner_id, kind, filename, content, actor):
    """A PDF, JPEG or PNG (its type read from its bytes) kept with a clean name, once per content."""
    with refusals():
        content_type = domain.check_document(content, kind)
    return store.add_file(conn, files, owner_id, kind, domain.clean_filename(filename, kind, content_type),
                          content_type, hashlib.sha256(content).hexdigest(), content, actor)


def download(conn, files, case, document_id, reader, request_id):
    """One file of a case or claim, opened; a download by anyone but its member is logged as a read."""
    document = store.file_content(conn, files, case["id"], document_id)
    if reader != str(case["member_id"]):
        store.log_file_read(conn, files, case["id"], document_id, reader, request_id)
    return document


# applications

def eligibility(conn, application, rules, rules_version):
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


def create_application(conn, outbox, sealer, data, member_id, submitted_by, key, applicant_facts):
    """A new application (a draft, or submitted at once), its national ID sealed; a retry with the same
    idempotency `key` gets the one made before. `applicant_facts`: (member_since, unit) of the
    account. Answers the application and whether it was the one made before."""
    replay = store.find_by_request(conn, submitted_by, key)
    if replay is not None:
        return replay, True
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
        domain.mask_national_id(national_id) if national_id else None, key, state, *applicant_facts)
    if state == domain.SUBMITTED:
        submitted(conn, outbox, {**application, "state": domain.DRAFT}, submitted_by, "")
    return application, False


def submitted(conn, outbox, application, actor, note):
    """Check the programme's eligibility rules (a 422 naming each rule not met, and nothing is
    written), record the submission with the facts it rested on, tell the member it arrived."""
    current = store.get_application(conn, application["id"])
    programme = store.get_programme(conn, application["programme"])
    unmet, eligible = eligibility(conn, current, programme["eligibility_rules"], programme["rules_version"])
    with refusals():
        domain.refuse_unmet(unmet)
    store.record_decision(conn, application, "submit", domain.SUBMITTED, actor, None, note,
                          facts(conn, {**application, "private": current["private"]}, eligibility=eligible))
    emit(conn, outbox, "application_submitted", {
        "application_id": application["id"], "reference": application["reference"],
        "member_id": application["member_id"], "programme": application["programme"],
        "programme_title": application["programme_name"],
        "amount_requested": application["amount_requested"], "submitted_at": now_iso()})


def submit(conn, outbox, app_id, application, actor, data):
    """Submit a draft, or answer a return with more information (a new round of review)."""
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
    submitted(conn, outbox, application, actor, data["note"])


def decide(conn, outbox, app_id, actor, data):
    """An officer's decision on a case, by the programme's policy (signatures, amounts), recorded in
    the case's ledger with the facts it rested on and the eligibility under the rules the case was
    submitted under; answers the outcome."""
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
    eligible = eligibility(conn, application, *rules)[1]
    store.record_decision(conn, application, data["decision"], outcome.to_state, actor, outcome.amount,
                          data["note"], facts(conn, application, approvals_before=len(approvals),
                                              signatures_needed=outcome.signatures_needed,
                                              eligibility=eligible))
    apply_outcome(conn, outbox, application, programme, policy, data, outcome, actor)
    return outcome


def apply_outcome(conn, outbox, application, programme, policy, data, outcome, actor):
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
        emit(conn, outbox, "application_decided", event)
    elif decision == "reject":
        store.set_state(conn, app_id, domain.REJECTED,
                        decided_at=application["decided_at"] or datetime.now(timezone.utc))
        emit(conn, outbox, "application_decided", event)
    elif decision == "return":
        store.set_state(conn, app_id, domain.RETURNED)
        emit(conn, outbox, "info_requested", {**event, "requested_at": event["decided_at"]})
    elif decision == "close":
        if application["state"] == domain.APPROVED and application["amount_approved"]:
            # approved but never paid: the promised money goes back to the fund
            for fund_id, amount, _ in domain.payment_parts(policy, programme["fund_id"],
                                                           application["amount_approved"]):
                store.post(conn, fund_id, "reversal", f"closed unpaid {application['reference']}",
                           [("committed", -amount), ("available", amount)], actor, application_id=app_id)
        store.set_state(conn, app_id, domain.CLOSED)


def assign(conn, outbox, app_id, actor, officer_id, priority):
    """Triage: give the case to an officer, with a priority (legal aid, counselling, any case)."""
    application = store.get_application(conn, app_id, lock=True)
    if officer_id in domain.parties(application):
        raise Invalid("an officer cannot be assigned their own case",
                      errors={"officer_id": ["is the applicant of this case"]})
    if application["state"] in (domain.CLOSED,):
        raise Conflict("the case is closed", "case-closed")
    store.record_decision(conn, application, "assign", application["state"], actor, None,
                          f"assigned to {officer_id}, priority {priority}",
                          facts(conn, application, officer_id=officer_id, priority=priority))
    store.touch(conn, app_id, assigned_officer=officer_id, assigned_by=actor, priority=priority)
    if officer_id != str(application["assigned_officer"] or ""):
        emit(conn, outbox, "case_assigned", {
            "application_id": app_id, "reference": application["reference"], "officer_id": officer_id,
            "programme_title": application["programme_name"], "priority": priority})


# payouts and the ledger

def pay(conn, outbox, app_id, actor):
    """Pay an approved application once: the case row is locked, the payout's application is
    unique, so concurrent attempts give one payout and the others a Conflict. Answers the payout."""
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
                          facts(conn, application, payout=payout["reference"]))
    store.set_state(conn, app_id, domain.PAID)
    emit(conn, outbox, "payout_made", {
        "payout_id": payout["id"], "reference": payout["reference"], "member_id": application["member_id"],
        "amount": amount, "application_id": app_id, "claim_id": None,
        "programme_title": programme["name"], "paid_at": payout["created_at"].isoformat()})
    return payout



def add_budget(conn, fund_id, amount, year, note, actor):
    """The union puts a year's budget into a fund: one balanced ledger transaction. Answers the fund
    with its latest entries."""
    store.get_fund(conn, fund_id)
    store.post(conn, fund_id, "budget", note or f"yearly budget {year}",
               [("allocation", -amount), ("available", amount)], actor, year=year)
    fund = store.get_fund(conn, fund_id)
    fund["entries"] = store.ledger_entries(conn, fund_id, 10, 0)
    return fund


# mutual aid: claims

def create_claim(conn, data, submitted_by):
    """A claim on the plan for a member (or a worker on a roster with no account yet), assessed by the
    plan's rules on what the enrolment was granted this year; answers the claim."""
    plan = store.get_plan(conn, data["plan_id"])
    if data.get("enrolment_id"):
        enrolment = store.member_enrolment(conn, data["plan_id"], enrolment_id=data["enrolment_id"])
    else:
        enrolment = store.member_enrolment(conn, data["plan_id"], str(data.get("member_id") or submitted_by))
    member_id = str(enrolment["member_id"]) if enrolment["member_id"] else None
    assessment = domain.assess_claim(store.rules_of(plan), data["kind"], data["event_date"], data["details"],
                                     enrolment["cover_start"], store.granted_this_year(conn, enrolment["id"]))
    return store.insert_claim(conn, data, enrolment["id"], member_id, submitted_by, assessment)


def assign_claim(conn, claim_id, actor, officer_id):
    """Triage: give a submitted claim to the officer who reviews it; answers the claim."""
    claim = store.get_claim(conn, claim_id, lock=True)
    if officer_id in domain.parties(claim):
        raise Invalid("an officer cannot be assigned their own claim",
                      errors={"officer_id": ["is the claimant or filed this claim"]})
    if claim["state"] not in domain.CLAIM_OPEN:
        raise Conflict(f"the claim is {claim['state']}: only a claim under review is triaged", "claim-decided",
                       {"state": [f"is {claim['state']}"]})
    store.assign_claim(conn, claim_id, officer_id, actor)
    return store.get_claim(conn, claim_id)


def decide_claim(conn, outbox, claim_id, actor, data):
    """Review: the amount is computed again under the member's enrolment lock, so two claims
    approved at once never pass the yearly cap together. Above the mutual-aid programme's
    threshold a claim needs that many distinct officers' approvals; money is promised at the last.
    Answers the claim."""
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
            return store.get_claim(conn, claim_id)
        store.commit_funds(conn, [("mutual_aid", assessment.amount, "claim")], f"claim {claim_id}", actor,
                           claim_id=claim_id)
        store.set_claim_state(conn, claim_id, "approved", decided_by=actor, note=data["note"],
                              amount=assessment.amount, assessment=assessment)
    claim = store.get_claim(conn, claim_id)  # the deciding officer has reviewed it: details shown
    if claim["member_id"]:  # a worker with no account yet hears through their unit
        emit(conn, outbox, "claim_decided", {
            "claim_id": claim_id, "member_id": claim["member_id"], "plan_title": plan["name"],
            "kind": claim["kind"], "decision": data["decision"], "amount": claim["amount"],
            "note": data["note"], "decided_at": claim["decided_at"].isoformat()})
    return claim


def pay_claim(conn, outbox, claim_id, actor):
    """Pay an approved claim once, by an officer who did not approve it (the database refuses it too).
    Answers the payout."""
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
        emit(conn, outbox, "payout_made", {
            "payout_id": payout["id"], "reference": payout["reference"], "member_id": claim["member_id"],
            "amount": claim["amount"], "application_id": None, "claim_id": claim_id,
            "programme_title": f"{plan['name']} ({claim['kind'].replace('_', ' ')})",
            "paid_at": payout["created_at"].isoformat()})
    return payout


# the SLA

def escalate_overdue(conn, outbox, warning):
    """A case waiting longer than its programme allows: its officer and the admins are alerted
    (again each time it falls overdue in a new state); the applicant hears once that it is still
    in progress. Then the cases due soon (warn_due_soon)."""
    for application in store.overdue_cases(conn):
        store.record_decision(conn, application, "escalate", application["state"], None, None,
                              f"waiting longer than {application['sla_hours']} hours", facts(conn, application))
        now = datetime.now(timezone.utc)
        store.touch(conn, application["id"], escalated_at=now)
        told = {"application_id": application["id"], "reference": application["reference"],
                "programme_title": application["programme_name"], "state": application["state"],
                "waiting_since": application["state_since"].isoformat(),
                "sla_hours": application["sla_hours"], "assigned_officer": application["assigned_officer"]}
        officer = application["assigned_officer"]
        emit(conn, outbox, "case_overdue", {**told, "member_ids": [officer] if officer else [], "roles": [ADMIN]})
        if application["applicant_told_overdue_at"] is None:
            store.touch(conn, application["id"], applicant_told_overdue_at=now)
            emit(conn, outbox, "case_escalated", {**told, "member_id": application["member_id"]})
    warn_due_soon(conn, outbox, warning)


def warn_due_soon(conn, outbox, warning):
    """A case that has used most of its time (`warning`) warns its officer and the admins, once a wait."""
    for application in store.nearly_overdue_cases(conn, warning):
        store.touch(conn, application["id"], warned_at=datetime.now(timezone.utc))
        officer = application["assigned_officer"]
        emit(conn, outbox, "case_due_soon", {
            "application_id": application["id"], "reference": application["reference"],
            "programme_title": application["programme_name"], "state": application["state"],
            "waiting_since": application["state_since"].isoformat(), "sla_hours": application["sla_hours"],
            "due_at": application["due_at"].isoformat(), "assigned_officer": officer,
            "member_ids": [officer] if officer else [], "roles": [ADMIN]})


# mutual aid: the units' rosters and contributions

def record_contribution(conn, outbox, plan_id, unit_id, amount, actor):
    """The unit's contribution has arrived: it must be the confirmed roster's headcount times the
    plan's rate (a mismatch is refused naming both figures, nothing written); it goes into the
    mutual-aid fund's ledger and its members' cover starts now. Answers the contribution."""
    plan = store.get_plan(conn, plan_id)
    confirmed, waiting = store.headcount(conn, plan_id, unit_id)
    if waiting:
        raise Conflict(f"{waiting} renewed worker(s) of the unit wait for its confirmation: confirm or remove "
                       "them first", "roster-unconfirmed", {"unit_id": [f"{waiting} row(s) not confirmed"]})
    problem = domain.contribution_problem(amount, confirmed, plan["contribution"])
    if problem:
        raise Invalid(problem, "contribution-mismatch", {"amount": [problem]})
    recorded = store.record_contribution(conn, plan_id, unit_id, amount, actor, confirmed)
    store.post(conn, "mutual_aid", "contribution",
               f"contribution of unit {unit_id} to {plan['name']}: {confirmed} x {domain.yuan(plan['contribution'])}",
               [("allocation", -amount), ("available", amount)], actor,
               year=plan["year"], plan_id=plan_id, unit_id=unit_id)
    tell_enrolled(conn, outbox, plan, unit_id, store.unit_member_ids(conn, plan_id, unit_id))
    return recorded


def tell_enrolled(conn, outbox, plan, unit_id, members):
    """The unit's members with an account hear they are on the plan (and from when they are covered)."""
    if members:
        emit(conn, outbox, "mutual_aid_enrolled", {
            "member_ids": members, "plan_id": plan["id"], "plan_title": plan["name"], "year": plan["year"],
            "unit_id": unit_id, "enrolled": len(members),
            "covered_from": store.cover_date(conn, plan["id"], unit_id)})


def roster_still_open(conn, plan_id, unit):
    if store.contribution_of(conn, plan_id, unit):
        raise Conflict("the unit's contribution to this plan is recorded: its roster is settled",
                       "contribution-recorded", {"unit_id": ["has paid its contribution for this plan"]})


def renew_roster(conn, plan_id, from_plan_id, unit):
    """Renewal (续保): the unit's roster of an earlier plan year is copied into this plan, every row
    waiting for the unit administrator to confirm (or remove) it. Asked again, nothing more is copied.
    Answers how many rows were copied."""
    plan, earlier = store.get_plan(conn, plan_id), store.get_plan(conn, from_plan_id)
    if earlier["year"] >= plan["year"]:
        raise Invalid(f"a renewal copies an earlier year's roster; plan {from_plan_id} is of {earlier['year']}",
                      errors={"from_plan_id": [f"must be a plan before {plan['year']}"]})
    roster_still_open(conn, plan_id, unit)
    store.headcount(conn, plan_id, unit)  # the unit's roster lock
    return store.renew_roster(conn, plan_id, from_plan_id, unit)


def confirm_roster(conn, plan_id, unit):
    """The unit administrator confirms the renewed rows of their roster: those workers are enrolled."""
    store.get_plan(conn, plan_id)
    store.headcount(conn, plan_id, unit)
    store.confirm_roster(conn, plan_id, unit)


def remove_enrolment(conn, enrolment_id):
    """Take a worker off the unit's roster (they left), unless a claim was filed for them."""
    if store.enrolment_has_claims(conn, enrolment_id):
        raise Conflict("a claim was filed for this worker: they stay on the roster", "enrolment-claimed")
    store.delete_enrolment(conn, enrolment_id)


# counselling rooms

def counselling_case(conn, app_id):
    """A counselling case open for appointments, and how many series of rooms it has had."""
    application = store.get_application(conn, app_id)
    if application["programme"] != "counselling":
        raise Invalid("appointments are for counselling cases", errors={"room_id": ["not a counselling case"]})
    if application["state"] not in (domain.SUBMITTED, domain.UNDER_REVIEW, domain.APPROVED):
        raise Conflict(f"the case is {application['state']}", "case-not-open")
    series = len({a["holder_reference"] for a in store.appointments(conn, app_id)})
    return application, series


def reserve_rooms(venues, holder, room_id, occurrences, title):
    """The room (where it is, for the member's message) and its bookings for `holder`, from venues;
    a venues that does not answer is a 503 to try again."""
    try:
        room = venues.get_room(room_id)  # where it is, for the member's message
        booked = venues.reserve_series(holder, room_id, occurrences, title)
    except (UnknownService, RpcTimeout) as exc:
        raise Unavailable("the rooms service is not answering; try again shortly") from exc
    return room, booked


def add_appointments(conn, outbox, app_id, room_id, booked, reference, place, actor):
    """The sessions venues booked become the case's appointments, in its ledger; the member hears
    when and where to come (a retry tells nothing twice)."""
    application = store.get_application(conn, app_id, lock=True)
    added = [b for b in booked["bookings"]
             if store.add_appointment(conn, app_id, room_id, b, reference, place)]
    store.record_decision(conn, application, "appointment", application["state"], actor, None,
                          f"{len(booked['bookings'])} session(s) in room {room_id}",
                          facts(conn, application, bookings=booked["bookings"]))
    if added:  # the member hears when and where to come (a retry tells nothing twice)
        emit(conn, outbox, "counselling_booked", domain.counselling_booked(application, added, place))


def rooms_held(conn, app_id):
    """The holders of the case's room series with a session not cancelled (to give back if it closes)."""
    return sorted({a["holder_reference"] for a in store.appointments(conn, app_id)
                   if a["holder_reference"] and not a["cancelled_at"]})


def release_rooms(venues, transaction, app_id, references):
    """After a counselling case closes: give back its future room bookings, each series in venues
    then in the case's appointments (a `transaction` each); a venues that does not answer is logged."""
    for reference in references:
        try:
            venues.release_series({"service": "welfare", "reference": reference}, "counselling case closed")
        except (UnknownService, RpcTimeout):
            log.warning("could not release the rooms of case %s (%s); venues did not answer", app_id, reference)
            continue
        with transaction() as conn:
            store.release_appointments(conn, reference)


def appointment_cancelled(conn, outbox, booking):
    """A counselling room booking venues cancelled (room closed...): the session is off, the case's
    ledger says so, and the member is told if it was still to come."""
    reason = booking.get("reason") or ""
    cancelled = store.cancel_appointment(conn, str(booking["booking_id"]), reason)
    if cancelled is not None:
        application = store.get_application(conn, cancelled["application_id"])
        store.record_decision(conn, application, "appointment", application["state"], None, None,
                              f"session of {cancelled['starts_at'].isoformat()} cancelled by venues: "
                              f"{reason or 'no reason given'}", facts(conn, application))
        if cancelled["starts_at"] > datetime.now(timezone.utc):  # a session already held needs no message
            emit(conn, outbox, "counselling_cancelled", {
                "application_id": application["id"], "reference": application["reference"],
                "member_id": application["member_id"], "programme_title": application["programme_name"],
                "starts_at": cancelled["starts_at"].isoformat(), "ends_at": cancelled["ends_at"].isoformat(),
                "reason": reason, "cause": booking.get("cause"), "note": booking.get("note")})


# mutual aid: enrolment imports

def import_enrolments(transaction, outbox, sealer, job):
    """The job's CSV read, its national IDs sealed, its rows enrolled a batch a `transaction`, the
    job's progress written as it goes; the unit's members with an account hear they are on the plan,
    and the unit administrator hears of the rows not taken."""
    good, errors = domain.read_enrolment_csv(job["csv"], job["untrusted"])
    rows = [(line, r["name"], r["phone"], r["member_id"], sealer.fingerprint(r["national_id"]),
             sealer.seal_text(r["national_id"]), domain.mask_national_id(r["national_id"])) for line, r in good]
    total, processed, enrolled = len(rows) + len(errors), len(errors), 0
    with transaction() as conn:
        plan = store.get_plan(conn, job["plan_id"])
        store.job_progress(conn, job["id"], total, processed, 0, len(errors), errors[:MOST_ERRORS_KEPT])
    for start in range(0, len(rows), IMPORT_BATCH):
        batch = rows[start:start + IMPORT_BATCH]
        with transaction() as conn:
            taken, members = store.insert_enrolments(conn, job["plan_id"], job["unit_id"], job["id"], batch)
            errors += [{"line": n, "errors": ["national_id: already enrolled in this plan"]} for n in taken]
            processed += len(batch)
            enrolled += len(batch) - len(taken)
            errors.sort(key=lambda e: e["line"])
            store.job_progress(conn, job["id"], total, processed, enrolled, len(errors), errors[:MOST_ERRORS_KEPT])
            tell_enrolled(conn, outbox, plan, str(job["unit_id"]), members)
    with transaction() as conn:
        store.finish_job(conn, job["id"])
        tell_import_errors(conn, outbox, job["id"])


def tell_import_errors(conn, outbox, job_id):
    """An import that did not take every row tells the unit administrator who uploaded it."""
    job = store.get_job(conn, job_id)
    if not job["bad_rows"] and not job["failure"]:
        return
    try:
        title = store.get_plan(conn, job["plan_id"])["name"]
    except NotFound:  # what the import failed on, maybe: the alert still goes
        title = ""
    emit(conn, outbox, "import_had_errors", {
        "job_id": job["id"], "plan_id": job["plan_id"], "plan_title": title, "unit_id": job["unit_id"],
        "uploaded_by": job["uploaded_by"], "total_rows": job["total_rows"] or 0,
        "enrolled_rows": job["enrolled_rows"] or 0, "bad_rows": job["bad_rows"] or 0,
        "failed": job["failure"] is not None})
