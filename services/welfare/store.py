"""SQL of the welfare database. Every function takes a connection inside the caller's transaction."""
import base64
import logging
from typing import NamedTuple

from psycopg import errors as pg
from psycopg.types.json import Jsonb

from services.common import closed_accounts, reports
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.zone import HOME_ZONE_NAME
from services.welfare import crypto, domain

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- programmes

def get_programme(conn, code):
    row = conn.execute(
        "SELECT code, name, kind, fund_id, approval_threshold, approvals_required, max_amount,"
        " (extract(epoch FROM sla) / 3600)::int AS sla_hours, sla, required_documents, eligibility, eligibility_rules,"
        " rules_version,"
        " yearly_budget"
        " FROM programmes WHERE code = %s", (code,)).fetchone()
    if row is None:
        raise Invalid(f"no programme {code}", "programme-not-found", {"programme": ["is not a programme"]})
    parts = conn.execute("SELECT fund_id, amount, label FROM programme_parts WHERE programme = %s ORDER BY amount DESC",
                         (code,)).fetchall()
    return {**row, "fixed_parts": [dict(p) for p in parts]}


def list_programmes(conn):
    codes = [r["code"] for r in conn.execute("SELECT code FROM programmes ORDER BY code").fetchall()]
    return [get_programme(conn, code) for code in codes]


def policy(programme):
    return domain.Policy(
        code=programme["code"], kind=programme["kind"], approval_threshold=programme["approval_threshold"],
        approvals_required=programme["approvals_required"], max_amount=programme["max_amount"],
        parts=tuple((p["fund_id"], p["amount"], p["label"]) for p in programme["fixed_parts"]))


RULES_COLUMNS = "code AS programme, eligibility_rules, rules_version, rules_updated_at"


def programme_rules(conn, code, lock=False):
    row = conn.execute(f"SELECT {RULES_COLUMNS} FROM programmes WHERE code = %s {'FOR UPDATE' if lock else ''}",
                       (code,)).fetchone()
    if row is None:
        raise NotFound(f"no programme {code}", "programme-not-found")
    return row


def replace_rules(conn, code, version, rules, actor_id, note, request_id):
    """Replace a programme's rules if they are still at `version`, and record the change. The
    version is checked by the UPDATE itself: of two officers who read the same version, the one
    who saves second matches no row and is refused, whatever the timing."""
    before = programme_rules(conn, code, lock=True)
    after = conn.execute(
        f"UPDATE programmes SET eligibility_rules = %s, rules_version = rules_version + 1, rules_updated_at = now()"
        f" WHERE code = %s AND rules_version = %s RETURNING {RULES_COLUMNS}", (Jsonb(rules), code, version)).fetchone()
    if after is None:
        raise Conflict(f"the rules of {code} were changed since you read them (they are at version "
                       f"{before['rules_version']}, you sent {version}): read them again and redo your change",
                       "stale-rules", {"version": [f"is {before['rules_version']} now"]})
    conn.execute("INSERT INTO programme_rule_changes (programme, version, old_rules, new_rules, actor_id, note,"
                 " request_id) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                 (code, after["rules_version"], Jsonb(before["eligibility_rules"]), Jsonb(rules), actor_id, note,
                  request_id))
    return after


def rule_changes(conn, code, limit, offset):
    programme_rules(conn, code)
    return conn.execute(
        "SELECT version, old_rules, new_rules, actor_id, note, request_id, created_at FROM programme_rule_changes"
        " WHERE programme = %s ORDER BY version DESC LIMIT %s OFFSET %s", (code, limit, offset)).fetchall()


# ---------------------------------------------------------------- applications

APPLICATION_COLUMNS = """
    a.id, a.reference, a.programme, p.name AS programme_name, a.member_id, a.submitted_by, a.state, a.round,
    a.amount_requested, a.amount_approved, a.reason, a.private, a.sealed, a.national_id_mask,
    a.assigned_officer, a.priority, a.escalated_at, a.state_since, a.decided_at, a.created_at, a.updated_at,
    a.member_since, a.member_unit,
    (SELECT count(*) FROM decisions d WHERE d.application_id = a.id AND d.round = a.round
       AND d.action = 'approve')::int AS approvals
"""


def opened(row, plain=("reason", "private")):
    """A row with its sealed column opened into the columns it holds (a row from before sealing
    keeps its plain ones until the resealing round reaches it)."""
    if row is None:
        return None
    row = dict(row)
    sealed = row.pop("sealed", None)
    if sealed is not None:
        row.update({k: v for k, v in crypto.ring().open_json(sealed).items() if k in plain})
    return row


def sealed_case(reason, private):
    return crypto.ring().seal_json({"reason": reason, "private": private or {}})


def find_by_request(conn, submitted_by, key):
    if not key:
        return None
    return opened(conn.execute(
        f"SELECT {APPLICATION_COLUMNS} FROM applications a JOIN programmes p ON p.code = a.programme"
        " WHERE a.submitted_by = %s AND a.idempotency_key = %s", (submitted_by, key)).fetchone())


def insert_application(conn, data, member_id, submitted_by, cipher, mask, key, state="submitted", member_since=None,
                       member_unit=None):
    year = current_year(conn)
    number = conn.execute("SELECT nextval('application_numbers') AS n").fetchone()["n"]
    try:
        app_id = conn.execute(
            """INSERT INTO applications (reference, programme, member_id, submitted_by, state, amount_requested,
                   reason, sealed, national_id_cipher, national_id_mask, idempotency_key, member_since, member_unit)
               VALUES (%s, %s, %s, %s, %s, %s, '', %s, %s, %s, %s, %s, %s) RETURNING id""",
            (f"WA-{year}-{number:06d}", data["programme"], member_id, submitted_by, state, data["amount_requested"],
             sealed_case(data["reason"], data.get("private")), cipher, mask, key, member_since, member_unit),
        ).fetchone()["id"]
    except pg.UniqueViolation as exc:
        raise Conflict("this Idempotency-Key was already used for another application", "duplicate-request") from exc
    return get_application(conn, app_id)


def get_application(conn, app_id, lock=False):
    row = conn.execute(
        f"SELECT {APPLICATION_COLUMNS} FROM applications a JOIN programmes p ON p.code = a.programme"
        " WHERE a.id = %s", (app_id,)).fetchone()
    if row is None:
        raise NotFound(f"application {app_id} does not exist", "application-not-found")
    if lock:
        conn.execute("SELECT 1 FROM applications WHERE id = %s FOR UPDATE", (app_id,))
        return get_application(conn, app_id)
    return opened(row)


def _where(alias, **equal):
    """A list's WHERE clause and its arguments: each column named (a constant of the caller's) equal
    to its value, the ones without a value left out."""
    named = {column: value for column, value in equal.items() if value}
    clause = " AND ".join(f"{alias}.{column} = %s" for column in named)
    return (f"WHERE {clause}" if clause else ""), list(named.values())


def list_applications(conn, member_id, programme, state, limit, offset, officer_id=None):
    clause, args = _where("a", assigned_officer=officer_id, member_id=member_id, programme=programme, state=state)
    return [opened(r) for r in conn.execute(
        f"SELECT {APPLICATION_COLUMNS}, count(*) OVER () AS total FROM applications a JOIN programmes p ON p.code = a.programme {clause}"
        " ORDER BY a.created_at DESC, a.id LIMIT %s OFFSET %s", (*args, limit, offset)).fetchall()]


def merge_private(conn, app_id, private):
    """More private facts on a case (the caller holds its row lock): opened, merged, sealed again."""
    row = opened(conn.execute("SELECT reason, private, sealed FROM applications WHERE id = %s", (app_id,)).fetchone())
    conn.execute("UPDATE applications SET reason = '', private = '{}', sealed = %s WHERE id = %s",
                 (sealed_case(row["reason"], {**(row["private"] or {}), **private}), app_id))


def earlier_this_year(conn, application):
    """The member's other applications to the programme this (Shanghai) year that were not turned
    down. Submissions of one member to one programme queue here, so two at once cannot both pass."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                 (f"welfare-application/{application['member_id']}/{application['programme']}",))
    return conn.execute(
        f"""SELECT count(*)::int AS n FROM applications
           WHERE member_id = %s AND programme = %s AND id <> %s
             AND state NOT IN ('draft', 'rejected') AND NOT (state = 'closed' AND amount_approved IS NULL)
             AND created_at >= date_trunc('year', now() AT TIME ZONE '{HOME_ZONE_NAME}') AT TIME ZONE '{HOME_ZONE_NAME}'""",
        (application["member_id"], application["programme"], application["id"])).fetchone()["n"]


def unit_in_plan(conn, unit_id, member_id):
    """The member's unit (or the member themself) is enrolled in a mutual-aid plan of this year."""
    return conn.execute(
        f"""SELECT EXISTS (SELECT 1 FROM plan_enrolments e JOIN plans p ON p.id = e.plan_id
                          WHERE p.year = extract(year FROM now() AT TIME ZONE '{HOME_ZONE_NAME}')
                            AND (e.unit_id = %s OR e.member_id = %s)) AS yes""", (unit_id, member_id)).fetchone()["yes"]


def today(conn):
    return conn.execute(f"SELECT (now() AT TIME ZONE '{HOME_ZONE_NAME}')::date AS d").fetchone()["d"]


def set_state(conn, app_id, state, **columns):
    sets = ["state = %(state)s", "updated_at = now()", "state_since = now()"]
    sets += [f"{name} = %({name})s" for name in columns]
    conn.execute(f"UPDATE applications SET {', '.join(sets)} WHERE id = %(id)s",
                 {"state": state, "id": app_id, **columns})


def touch(conn, app_id, **columns):
    sets = ["updated_at = now()"] + [f"{name} = %({name})s" for name in columns]
    conn.execute(f"UPDATE applications SET {', '.join(sets)} WHERE id = %(id)s", {"id": app_id, **columns})


def record_decision(conn, application, action, to_state, actor_id, amount, note, facts):
    """The decision with the facts it rested on; the case's reason and private facts among them sealed."""
    private = {k: facts[k] for k in ("reason", "private") if k in facts}
    return conn.execute(
        """INSERT INTO decisions (application_id, round, action, from_state, to_state, actor_id, amount, note, facts,
                                  sealed) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id, created_at""",
        (application["id"], application["round"], action, application["state"], to_state, actor_id, amount,
         note, Jsonb({k: v for k, v in facts.items() if k not in private}),
         crypto.ring().seal_json(private) if private else None),
    ).fetchone()


def approvals(conn, app_id, round_):
    return [(str(r["actor_id"]), r["amount"]) for r in conn.execute(
        "SELECT actor_id, amount FROM decisions WHERE application_id = %s AND round = %s AND action = 'approve'"
        " ORDER BY id", (app_id, round_)).fetchall()]


def reviewers(conn, app_id):
    return {str(r["actor_id"]) for r in conn.execute(
        "SELECT DISTINCT actor_id FROM decisions WHERE application_id = %s"
        " AND action IN ('approve', 'reject', 'return') AND actor_id IS NOT NULL", (app_id,)).fetchall()}


def decisions(conn, app_id):
    rows = conn.execute(
        "SELECT action, from_state, to_state, round, actor_id, amount, note, facts, sealed, created_at FROM decisions"
        " WHERE application_id = %s ORDER BY id", (app_id,)).fetchall()
    return [{**row, "facts": {**row["facts"], **crypto.ring().open_json(row["sealed"])}} if row["sealed"] is not None
            else {k: v for k, v in row.items() if k != "sealed"} for row in rows]


def log_reads(conn, app_ids, reader_id, saw_private, request_id, column="application_id"):
    if not app_ids:
        return
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO case_reads ({column}, reader_id, saw_private, request_id) VALUES (%s, %s, %s, %s)",
            [(a, reader_id, s, request_id) for a, s in zip(app_ids, saw_private)])


def case_reads(conn, app_id, limit, offset):
    return conn.execute(
        "SELECT reader_id::text, saw_private, document_id::text, request_id, read_at::text FROM case_reads"
        " WHERE application_id = %s"
        " ORDER BY id DESC LIMIT %s OFFSET %s", (app_id, limit, offset)).fetchall()


def overdue_cases(conn, limit=100):
    """Open cases waiting longer than their programme allows and not escalated since; locked."""
    return [opened(r) for r in conn.execute(
        f"""SELECT {APPLICATION_COLUMNS}, (extract(epoch FROM p.sla) / 3600)::int AS sla_hours,
                   a.applicant_told_overdue_at
            FROM applications a JOIN programmes p ON p.code = a.programme
            WHERE a.state IN ('submitted', 'under_review') AND a.state_since < now() - p.sla
              AND (a.escalated_at IS NULL OR a.escalated_at < a.state_since)
            ORDER BY a.state_since LIMIT %s FOR UPDATE OF a SKIP LOCKED""", (limit,)).fetchall()]


def nearly_overdue_cases(conn, share, limit=100):
    """Open cases past `share` of their time limit but not yet over it, not warned in this wait; locked."""
    return [opened(r) for r in conn.execute(
        f"""SELECT {APPLICATION_COLUMNS}, (extract(epoch FROM p.sla) / 3600)::int AS sla_hours,
                   a.state_since + p.sla AS due_at
            FROM applications a JOIN programmes p ON p.code = a.programme
            WHERE a.state IN ('submitted', 'under_review') AND a.state_since < now() - p.sla * %s
              AND a.state_since >= now() - p.sla
              AND (a.warned_at IS NULL OR a.warned_at < a.state_since)
            ORDER BY a.state_since LIMIT %s FOR UPDATE OF a SKIP LOCKED""", (share, limit)).fetchall()]


def add_appointment(conn, app_id, room_id, booking, holder_reference, place):
    """Record a booked session; False when it was recorded already (a retry of the booking)."""
    return conn.execute(
        "INSERT INTO appointments (application_id, room_id, booking_id, starts_at, ends_at, holder_reference,"
        " room_name, site_name, site_address) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (application_id, booking_id) DO NOTHING",
        (app_id, room_id, str(booking["id"]), booking["starts_at"], booking["ends_at"], holder_reference,
         place["room_name"], place["site_name"], place["site_address"])).rowcount == 1


def appointments(conn, app_id):
    return conn.execute(
        "SELECT id, application_id, room_id, booking_id, starts_at, ends_at, holder_reference, cancelled_at,"
        " cancel_reason FROM appointments WHERE application_id = %s ORDER BY starts_at", (app_id,)).fetchall()


def member_appointments(conn, member_id, starts_from, starts_before):
    """A member's counselling appointments still standing, for their timetable."""
    return conn.execute(
        "SELECT ap.id, ap.application_id, ap.room_id, ap.room_name, ap.site_name, ap.site_address, ap.starts_at,"
        " ap.ends_at FROM appointments ap"
        " JOIN applications a ON a.id = ap.application_id WHERE a.member_id = %s AND ap.cancelled_at IS NULL"
        " AND ap.starts_at >= %s AND ap.starts_at < %s ORDER BY ap.starts_at LIMIT 500",
        (member_id, starts_from, starts_before)).fetchall()


def appointments_between(conn, starts_from, starts_before, limit, offset):
    """Every counselling appointment starting in [from, before), cancelled ones too, by start: the
    officers' week. With the case's reference, state and member (not its private facts)."""
    return conn.execute(
        "SELECT ap.id, ap.application_id, ap.room_id, ap.room_name, ap.site_name, ap.starts_at, ap.ends_at,"
        " ap.cancelled_at, ap.cancel_reason, a.reference, a.state AS case_state, a.member_id,"
        " count(*) OVER () AS total FROM appointments ap JOIN applications a ON a.id = ap.application_id"
        " WHERE ap.starts_at >= %s AND ap.starts_at < %s ORDER BY ap.starts_at, ap.id LIMIT %s OFFSET %s",
        (starts_from, starts_before, limit, offset)).fetchall()


def member_cases(conn, member_id, limit, offset):
    """A member's cases as the front desk may see them: reference, programme, state and dates only
    (no reason, no amounts, no private facts), newest first."""
    return conn.execute(
        "SELECT id, reference, programme, state, created_at, decided_at, count(*) OVER () AS total"
        " FROM applications WHERE member_id = %s ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
        (member_id, limit, offset)).fetchall()


def release_appointments(conn, holder_reference):
    conn.execute("UPDATE appointments SET cancelled_at = now(), cancel_reason = 'case closed'"
                 " WHERE holder_reference = %s AND cancelled_at IS NULL AND starts_at > now()", (holder_reference,))


def cancel_appointment(conn, booking_id, reason):
    """Venues cancelled the booking: the session is off. The case it belongs to, or None."""
    return conn.execute(
        "UPDATE appointments SET cancelled_at = now(), cancel_reason = %s WHERE booking_id = %s"
        " AND cancelled_at IS NULL RETURNING application_id, starts_at, ends_at", (reason, booking_id)).fetchone()


# ---------------------------------------------------------------- documents

class Files(NamedTuple):
    """Where one kind of case keeps its files: the table, the column naming the case, and the two
    columns of case_reads that log a staff download as a read of that case."""
    table: str
    owner: str
    read_owner: str
    read_document: str

    @property
    def columns(self):
        return f"id, {self.owner}, kind, filename, content_type, size, sha256, uploaded_by, uploaded_at"


CASE_FILES = Files("application_documents", "application_id", "application_id", "document_id")
CLAIM_FILES = Files("claim_documents", "claim_id", "claim_id", "claim_document_id")


def add_file(conn, files, owner_id, kind, filename, content_type, sha256, content, uploaded_by):
    """Attach a file (sealed) to a case or a claim; the same file sent again is the attachment
    made the first time."""
    row = conn.execute(
        f"""INSERT INTO {files.table} ({files.owner}, kind, filename, content_type, size, sha256, content,
                                        uploaded_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT ({files.owner}, kind, sha256) DO NOTHING RETURNING {files.columns}""",
        (owner_id, kind, filename, content_type, len(content), sha256, crypto.ring().seal(content),
         uploaded_by)).fetchone()
    return row or conn.execute(f"SELECT {files.columns} FROM {files.table}"
                               f" WHERE {files.owner} = %s AND kind = %s AND sha256 = %s",
                               (owner_id, kind, sha256)).fetchone()


def files_of(conn, files, owner_id):
    return conn.execute(f"SELECT {files.columns} FROM {files.table} WHERE {files.owner} = %s"
                        " ORDER BY uploaded_at, id", (owner_id,)).fetchall()


def file_content(conn, files, owner_id, document_id):
    row = conn.execute(f"SELECT {files.columns}, content FROM {files.table}"
                       f" WHERE {files.owner} = %s AND id = %s", (owner_id, document_id)).fetchone()
    if row is None:
        raise NotFound(f"document {document_id} does not exist", "document-not-found")
    return opened_file(row)


def opened_file(row):
    """A document row with its file opened (a file from before sealing is plain: PDF, JPEG and PNG
    never start with the sealed format's byte 1)."""
    content = bytes(row["content"])
    return {**row, "content": crypto.ring().open(content) if content[:1] == bytes([crypto.FORMAT]) else content}


def log_file_read(conn, files, owner_id, document_id, reader_id, request_id):
    """A staff download, logged as a read of the case or claim that saw private facts."""
    conn.execute(f"INSERT INTO case_reads ({files.read_owner}, {files.read_document}, reader_id, saw_private,"
                 " request_id) VALUES (%s, %s, %s, true, %s)", (owner_id, document_id, reader_id, request_id))


# ---------------------------------------------------------------- the fund ledger

ACCOUNT_ORDER = {"allocation": 0, "available": 1, "committed": 2, "paid_out": 3}


def current_year(conn):
    return conn.execute(f"SELECT extract(year FROM now() AT TIME ZONE '{HOME_ZONE_NAME}')::int AS y").fetchone()["y"]


def post(conn, fund_id, kind, memo, entries, actor_id=None, application_id=None, claim_id=None, payout_id=None,
         year=None, plan_id=None, unit_id=None):
    """One balanced ledger transaction. Entries are (account, amount); the accounts' rows are
    locked in one fixed order, so concurrent postings never deadlock. A fund that would go below
    zero is a Conflict and nothing is written."""
    txn = conn.execute(
        """INSERT INTO ledger_transactions (fund_id, kind, year, memo, actor_id, application_id, claim_id, payout_id,
                                            plan_id, unit_id)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (fund_id, kind, year or current_year(conn), memo, actor_id, application_id, claim_id, payout_id, plan_id,
         unit_id)
    ).fetchone()["id"]
    try:
        with conn.transaction():
            for account, amount in sorted(entries, key=lambda e: ACCOUNT_ORDER[e[0]]):
                conn.execute("INSERT INTO ledger_entries (transaction_id, fund_id, account, amount)"
                             " VALUES (%s, %s, %s, %s)", (txn, fund_id, account, amount))
    except pg.CheckViolation as exc:
        raise Conflict(f"the {fund_id} fund does not hold enough money for this", "fund-exhausted",
                       {"amount": [f"more than the {fund_id} fund has available"]}) from exc
    return txn


def commit_funds(conn, parts, memo, actor_id, application_id=None, claim_id=None):
    for fund_id, amount, _label in parts:
        if amount:
            post(conn, fund_id, "commitment", memo, [("available", -amount), ("committed", amount)],
                 actor_id, application_id, claim_id)


def pay_funds(conn, parts, memo, actor_id, payout_id, application_id=None, claim_id=None):
    for fund_id, amount, _label in parts:
        post(conn, fund_id, "payout", memo, [("committed", -amount), ("paid_out", amount)],
             actor_id, application_id, claim_id, payout_id)


def budgets(conn, fund_id):
    return conn.execute(
        "SELECT t.year, sum(e.amount)::bigint AS amount FROM ledger_transactions t"
        " JOIN ledger_entries e ON e.transaction_id = t.id AND e.account = 'available'"
        " WHERE t.fund_id = %s AND t.kind = 'budget' GROUP BY t.year ORDER BY t.year", (fund_id,)).fetchall()


def get_fund(conn, fund_id):
    row = conn.execute("SELECT id, name FROM funds WHERE id = %s", (fund_id,)).fetchone()
    if row is None:
        raise NotFound(f"fund {fund_id} does not exist", "fund-not-found")
    balances = {r["kind"]: r["balance"] for r in conn.execute(
        "SELECT kind, balance FROM ledger_accounts WHERE fund_id = %s", (fund_id,)).fetchall()}
    return {"fund_id": row["id"], "name": row["name"], "balances": balances, "total": sum(balances.values()),
            "budgets": budgets(conn, fund_id)}


def ledger_entries(conn, fund_id, limit, offset):
    return conn.execute(
        """SELECT t.id AS transaction_id, t.kind, t.year, t.memo, t.application_id, t.claim_id, t.payout_id,
                  t.created_at, e.account, e.amount
           FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
           WHERE e.fund_id = %s ORDER BY e.id DESC LIMIT %s OFFSET %s""", (fund_id, limit, offset)).fetchall()


# ---------------------------------------------------------------- payouts

def insert_payout(conn, member_id, amount, paid_by, application_id=None, claim_id=None, enrolment_id=None):
    year = current_year(conn)
    number = conn.execute("SELECT nextval('payout_numbers') AS n").fetchone()["n"]
    try:
        with conn.transaction():
            return conn.execute(
                """INSERT INTO payouts (reference, application_id, claim_id, member_id, amount, paid_by, enrolment_id)
                   VALUES (%s, %s, %s, %s, %s, %s, %s)
                   RETURNING id, reference, application_id, claim_id, member_id, amount, created_at""",
                (f"PO-{year}-{number:07d}", application_id, claim_id, member_id, amount, paid_by,
                 enrolment_id)).fetchone()
    except pg.UniqueViolation as exc:
        raise Conflict("this has already been paid", "already-paid") from exc
    except pg.CheckViolation as exc:  # payouts_not_by_approver
        raise Forbidden("an officer who approved a claim may not pay it", "approver-pays") from exc


def payout_for(conn, application_id=None, claim_id=None):
    column, value = ("application_id", application_id) if application_id else ("claim_id", claim_id)
    return conn.execute(f"SELECT id, reference, application_id, claim_id, member_id, amount, created_at"
                        f" FROM payouts WHERE {column} = %s", (value,)).fetchone()


# ---------------------------------------------------------------- mutual aid: plans and enrolments

PLAN_COLUMNS = """pl.id, pl.year, pl.name, pl.contribution, pl.rules, pl.created_at,
    (SELECT count(*) FROM plan_enrolments e WHERE e.plan_id = pl.id)::int AS enrolled"""


def create_plan(conn, data, created_by):
    try:
        with conn.transaction():
            plan_id = conn.execute(
                "INSERT INTO plans (year, name, contribution, rules, created_by)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (data["year"], data["name"], data["contribution"], Jsonb(data["rules"]), created_by)).fetchone()["id"]
    except pg.UniqueViolation as exc:
        raise Conflict(f"a plan named {data['name']} already exists for {data['year']}", "plan-exists",
                       {"name": ["is taken for this year"]}) from exc
    return get_plan(conn, plan_id)


def get_plan(conn, plan_id):
    row = conn.execute(f"SELECT {PLAN_COLUMNS} FROM plans pl WHERE pl.id = %s", (plan_id,)).fetchone()
    if row is None:
        raise NotFound(f"plan {plan_id} does not exist", "plan-not-found")
    return row


def list_plans(conn, limit, offset):
    return conn.execute(f"SELECT {PLAN_COLUMNS}, count(*) OVER () AS total FROM plans pl ORDER BY pl.year DESC, pl.name LIMIT %s OFFSET %s",
                        (limit, offset)).fetchall()


def rules_of(plan):
    r = plan["rules"]
    return domain.PlanRules(
        hospital_daily=r["hospital_daily"], hospital_deductible_days=r["hospital_deductible_days"],
        hospital_max_days=r["hospital_max_days"], waiting_days=r["waiting_days"],
        critical_illness=r["critical_illness"], accident=dict(r["accident"]), yearly_cap=r["yearly_cap"])


def record_contribution(conn, plan_id, unit_id, amount, recorded_by, headcount):
    try:
        with conn.transaction():
            return conn.execute(
                "INSERT INTO unit_contributions (plan_id, unit_id, amount, recorded_by, headcount)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING plan_id, unit_id, amount, headcount, recorded_at",
                (plan_id, unit_id, amount, recorded_by, headcount)).fetchone()
    except pg.UniqueViolation as exc:
        raise Conflict("this unit's contribution to the plan is already recorded", "contribution-recorded") from exc


def cover_date(conn, plan_id, unit_id):
    """Today (in the home zone) when the unit's contribution is recorded, else None: cover has not started."""
    row = conn.execute(
        f"SELECT (greatest(now(), recorded_at) AT TIME ZONE '{HOME_ZONE_NAME}')::date AS d FROM unit_contributions"
        " WHERE plan_id = %s AND unit_id = %s", (plan_id, unit_id)).fetchone()
    return row["d"].isoformat() if row else None


def unit_member_ids(conn, plan_id, unit_id):
    return [str(r["member_id"]) for r in conn.execute(
        "SELECT member_id FROM plan_enrolments WHERE plan_id = %s AND unit_id = %s AND member_id IS NOT NULL",
        (plan_id, unit_id)).fetchall()]


def create_job(conn, plan_id, unit_id, uploaded_by, csv_text, untrusted):
    return conn.execute(
        "INSERT INTO import_jobs (plan_id, unit_id, uploaded_by, csv, untrusted) VALUES (%s, %s, %s, %s, %s)"
        " RETURNING *", (plan_id, unit_id, uploaded_by,
                         SEALED_CSV + base64.b64encode(crypto.ring().seal_text(csv_text)).decode(),
                         Jsonb({str(k): v for k, v in untrusted.items()}))
    ).fetchone()


# a roster waiting for its import holds national IDs: sealed like the rest (as text, in its text column)
SEALED_CSV = "sealed:"


def _opened_csv(job):
    if job is None or not (job["csv"] or "").startswith(SEALED_CSV):
        return job  # from before sealing
    return {**job, "csv": crypto.ring().open(base64.b64decode(job["csv"][len(SEALED_CSV):])).decode()}


JOB_COLUMNS = ("id, plan_id, unit_id, uploaded_by, status, total_rows, processed_rows, enrolled_rows, bad_rows,"
               " errors, failure, created_at, started_at, finished_at")


def get_job(conn, job_id):
    row = conn.execute(f"SELECT {JOB_COLUMNS} FROM import_jobs WHERE id = %s", (job_id,)).fetchone()
    if row is None:
        raise NotFound(f"import {job_id} does not exist", "import-not-found")
    return row


def claim_job(conn, stale_after_s=300):
    """The oldest queued import, marked running (one instance takes it); an import left running
    by an instance that died is taken up again after a while (its rows are not enrolled twice)."""
    return _opened_csv(conn.execute(
        """UPDATE import_jobs SET status = 'running', started_at = now()
           WHERE id = (SELECT id FROM import_jobs
                       WHERE status = 'queued'
                          OR (status = 'running' AND started_at < now() - make_interval(secs => %s))
                       ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING id, plan_id, unit_id, uploaded_by, csv, untrusted""", (stale_after_s,)).fetchone())


def job_progress(conn, job_id, total, processed, enrolled, bad, errors):
    conn.execute(
        "UPDATE import_jobs SET total_rows = %s, processed_rows = %s, enrolled_rows = %s, bad_rows = %s,"
        " errors = %s WHERE id = %s", (total, processed, enrolled, bad, Jsonb(errors), job_id))


def finish_job(conn, job_id, failure=None):
    conn.execute("UPDATE import_jobs SET status = %s, failure = %s, finished_at = now(), csv = NULL WHERE id = %s",
                 ("failed" if failure else "done", failure, job_id))


# A row without a member_id is the account of the same person on another roster (by national-ID
# hash), or else the account registered with its phone, if no other row of the file has that phone.
LINKED_ROWS = """
    sharing AS (SELECT r.*, count(*) OVER (PARTITION BY r.phone) AS with_phone FROM import_rows r),
    linked AS (
        SELECT s.name, s.phone, s.national_id_hash, s.national_id_cipher, s.national_id_mask,
               coalesce(s.member_id,
                        (SELECT o.member_id FROM plan_enrolments o WHERE o.national_id_hash = s.national_id_hash
                            AND o.member_id IS NOT NULL ORDER BY o.id DESC LIMIT 1),
                        CASE WHEN s.phone IS NOT NULL AND s.with_phone = 1
                             THEN (SELECT m.member_id FROM members m WHERE m.phone = s.phone
                                   ORDER BY m.registered_at LIMIT 1) END) AS member_id
        FROM sharing s)"""


def insert_enrolments(conn, plan_id, unit_id, job_id, rows):
    """COPY a batch of checked rows (line, name, phone, member_id, hash, cipher, mask) in; the lines
    whose person is already enrolled in the plan are returned, nothing of theirs is written."""
    conn.execute("""CREATE TEMP TABLE IF NOT EXISTS import_rows (
        line integer, name text, phone text, member_id uuid, national_id_hash text, national_id_cipher bytea,
        national_id_mask text) ON COMMIT DELETE ROWS""")
    with conn.cursor().copy("COPY import_rows (line, name, phone, member_id, national_id_hash, national_id_cipher,"
                            " national_id_mask) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    taken = conn.execute(
        f"""WITH {LINKED_ROWS}, added AS (
               INSERT INTO plan_enrolments (plan_id, unit_id, member_id, name, phone, national_id_hash,
                                            national_id_cipher, national_id_mask, job_id)
               SELECT %(plan)s, %(unit)s, member_id, name, phone, national_id_hash, national_id_cipher,
                      national_id_mask, %(job)s FROM linked
               ON CONFLICT (plan_id, national_id_hash) DO NOTHING
               RETURNING national_id_hash, member_id)
           SELECT 'taken' AS what, r.line, NULL::uuid AS member_id FROM import_rows r
            WHERE NOT EXISTS (SELECT 1 FROM added a WHERE a.national_id_hash = r.national_id_hash)
              AND NOT EXISTS (SELECT 1 FROM plan_enrolments e  -- enrolled by this very job before a restart
                              WHERE e.plan_id = %(plan)s AND e.national_id_hash = r.national_id_hash
                                AND e.job_id = %(job)s)
           UNION ALL SELECT 'added', NULL, member_id FROM added WHERE member_id IS NOT NULL""",
        {"plan": plan_id, "unit": unit_id, "job": job_id}).fetchall()
    conn.execute("TRUNCATE import_rows")
    return ([r["line"] for r in taken if r["what"] == "taken"],
            [str(r["member_id"]) for r in taken if r["what"] == "added"])


def list_enrolments(conn, plan_id, unit_id, limit, offset):
    where, args = "e.plan_id = %s", [plan_id]
    if unit_id:
        where += " AND e.unit_id = %s"
        args.append(unit_id)
    return conn.execute(
        f"""SELECT e.id, e.plan_id, e.unit_id, e.member_id, e.name, e.phone, e.national_id_mask AS national_id,
                   e.enrolled_at, e.confirmed_at, e.renewed_from, c.recorded_at AS cover_from,
                   count(*) OVER () AS total
            FROM plan_enrolments e
            LEFT JOIN unit_contributions c ON c.plan_id = e.plan_id AND c.unit_id = e.unit_id
            WHERE {where} ORDER BY e.id LIMIT %s OFFSET %s""", (*args, limit, offset)).fetchall()


def member_enrolment(conn, plan_id, member_id=None, lock=False, enrolment_id=None):
    """The member's (or, for a worker without an account, the roster row's) confirmed enrolment in
    the plan and the day cover started (None: no contribution yet)."""
    which, value = ("e.id", enrolment_id) if enrolment_id is not None else ("e.member_id", member_id)
    row = conn.execute(
        f"""SELECT e.id, e.unit_id, e.member_id, e.enrolled_at,
                  CASE WHEN c.recorded_at IS NOT NULL  -- no contribution recorded: no cover
                    THEN (greatest(e.enrolled_at, c.recorded_at) AT TIME ZONE '{HOME_ZONE_NAME}')::date END AS cover_start
           FROM plan_enrolments e
           LEFT JOIN unit_contributions c ON c.plan_id = e.plan_id AND c.unit_id = e.unit_id
           WHERE e.plan_id = %s AND {which} = %s AND e.confirmed_at IS NOT NULL ORDER BY e.id LIMIT 1""",
        (plan_id, value)).fetchone()
    if row is None:
        field = "enrolment_id" if enrolment_id is not None else "plan_id"
        raise Invalid("the member is not enrolled in this plan", "not-enrolled",
                      {field: ["the member is not enrolled in this plan"]})
    if lock:
        conn.execute("SELECT 1 FROM plan_enrolments WHERE id = %s FOR UPDATE", (row["id"],))
    return row


# ---------------------------------------------------------------- mutual aid: accounts and rosters

def remember_member(conn, member_id, phone, phone_at=None):
    """The account's phone, as the gateway had it at `phone_at` (None: now): kept unless welfare
    already holds a newer one; a closed account's is not kept (lock_member first). Returns whether
    it is the account's phone now (kept, or already held: an upload may have told welfare first)."""
    if closed_accounts.is_closed(conn, member_id):
        return False
    conn.execute(
        "INSERT INTO members (member_id, phone, phone_at) VALUES (%(m)s, %(p)s, coalesce(%(at)s, now()))"
        " ON CONFLICT (member_id) DO UPDATE SET phone = EXCLUDED.phone, phone_at = EXCLUDED.phone_at"
        " WHERE members.phone_at IS NULL OR members.phone_at <= EXCLUDED.phone_at",
        {"m": member_id, "p": phone, "at": phone_at})
    return conn.execute("SELECT EXISTS (SELECT 1 FROM members WHERE member_id = %s AND phone = %s) AS yes",
                        (member_id, phone)).fetchone()["yes"]


def lock_member(conn, member_id):
    """Serialise what account events do to one member: a phone kept and an erasure take turns."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", (f"welfare-member/{member_id}",))


def link_member(conn, member_id, phone):
    """A worker registered: the roster rows with their phone and no account yet (the only row of
    their plan with that phone) become theirs, then the same person's rows of other plan years (by
    national-ID hash); the claims an officer filed for those rows follow. Returns the rows linked
    as (plan_id, unit_id)."""
    by_phone = conn.execute(
        """UPDATE plan_enrolments e SET member_id = %s
           WHERE e.member_id IS NULL AND e.phone = %s
             AND NOT EXISTS (SELECT 1 FROM plan_enrolments o WHERE o.plan_id = e.plan_id AND o.phone = e.phone
                                                                AND o.id <> e.id)
           RETURNING e.id, e.plan_id, e.unit_id, e.national_id_hash""", (member_id, phone)).fetchall()
    same_person = conn.execute(
        "UPDATE plan_enrolments SET member_id = %s WHERE member_id IS NULL AND national_id_hash = ANY(%s)"
        " RETURNING id, plan_id, unit_id", (member_id, [r["national_id_hash"] for r in by_phone])).fetchall()
    rows = by_phone + same_person
    conn.execute("UPDATE claims SET member_id = %s WHERE member_id IS NULL AND enrolment_id = ANY(%s)",
                 (member_id, [r["id"] for r in rows]))
    return sorted({(str(r["plan_id"]), str(r["unit_id"])) for r in rows})


def headcount(conn, plan_id, unit_id):
    """(confirmed, waiting) roster rows of the unit in the plan; locks the plan's row for the unit's
    contribution so a roster and its contribution do not pass each other."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"welfare-roster/{plan_id}/{unit_id}",))
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE confirmed_at IS NOT NULL)::int AS confirmed,"
        " count(*) FILTER (WHERE confirmed_at IS NULL)::int AS waiting"
        " FROM plan_enrolments WHERE plan_id = %s AND unit_id = %s", (plan_id, unit_id)).fetchone()
    return row["confirmed"], row["waiting"]


def contribution_of(conn, plan_id, unit_id):
    return conn.execute("SELECT plan_id, unit_id, amount, headcount, recorded_at FROM unit_contributions"
                        " WHERE plan_id = %s AND unit_id = %s", (plan_id, unit_id)).fetchone()


def renew_roster(conn, plan_id, from_plan_id, unit_id):
    """Copy the unit's roster of an earlier plan into this one, waiting for confirmation; a worker
    already on this plan's roster is not copied again. Returns how many rows were copied."""
    return conn.execute(
        """INSERT INTO plan_enrolments (plan_id, unit_id, member_id, name, phone, national_id_hash, national_id_cipher,
                                        national_id_mask, renewed_from, confirmed_at)
           SELECT %s, unit_id, member_id, name, phone, national_id_hash, national_id_cipher, national_id_mask, id, NULL
           FROM plan_enrolments WHERE plan_id = %s AND unit_id = %s AND confirmed_at IS NOT NULL
           ORDER BY id
           ON CONFLICT (plan_id, national_id_hash) DO NOTHING""", (plan_id, from_plan_id, unit_id)).rowcount


def confirm_roster(conn, plan_id, unit_id):
    """The unit administrator confirms the renewed rows: they are on the roster. Returns the members."""
    return [str(r["member_id"]) for r in conn.execute(
        "UPDATE plan_enrolments SET confirmed_at = now(), enrolled_at = now()"
        " WHERE plan_id = %s AND unit_id = %s AND confirmed_at IS NULL RETURNING member_id",
        (plan_id, unit_id)).fetchall() if r["member_id"]]


def roster_row(conn, plan_id, enrolment_id):
    """A row of the plan's roster, locked."""
    row = conn.execute("SELECT id, unit_id FROM plan_enrolments WHERE plan_id = %s AND id = %s FOR UPDATE",
                       (plan_id, enrolment_id)).fetchone()
    if row is None:
        raise NotFound(f"enrolment {enrolment_id} is not on this plan's roster", "enrolment-not-found")
    return row


def edit_enrolment(conn, enrolment_id, changes):
    """Correct a roster row's name or phone; a row with no account yet is linked to the account
    registered with its new phone, if no other row of its plan has that phone."""
    sets = [f"{name} = %({name})s" for name in changes]
    if sets:
        conn.execute(f"UPDATE plan_enrolments SET {', '.join(sets)} WHERE id = %(id)s", {**changes, "id": enrolment_id})
    conn.execute(
        """UPDATE plan_enrolments e SET member_id = m.member_id FROM members m
           WHERE e.id = %s AND e.member_id IS NULL AND m.phone = e.phone
             AND NOT EXISTS (SELECT 1 FROM plan_enrolments o WHERE o.plan_id = e.plan_id AND o.phone = e.phone
                                                                AND o.id <> e.id)""", (enrolment_id,))


def enrolment_row(conn, enrolment_id):
    return conn.execute(
        """SELECT e.id, e.plan_id, e.unit_id, e.member_id, e.name, e.phone, e.national_id_mask AS national_id,
                  e.enrolled_at, e.confirmed_at, e.renewed_from, c.recorded_at AS cover_from
           FROM plan_enrolments e
           LEFT JOIN unit_contributions c ON c.plan_id = e.plan_id AND c.unit_id = e.unit_id
           WHERE e.id = %s""", (enrolment_id,)).fetchone()


def delete_enrolment(conn, enrolment_id):
    conn.execute("DELETE FROM plan_enrolments WHERE id = %s", (enrolment_id,))


def enrolment_has_claims(conn, enrolment_id):
    return conn.execute("SELECT EXISTS (SELECT 1 FROM claims WHERE enrolment_id = %s) AS yes",
                        (enrolment_id,)).fetchone()["yes"]


def granted_this_year(conn, enrolment_id, except_claim=None):
    return conn.execute(
        "SELECT coalesce(sum(amount), 0)::bigint AS s FROM claims WHERE enrolment_id = %s"
        " AND state IN ('approved', 'paid') AND id IS DISTINCT FROM %s",
        (enrolment_id, except_claim)).fetchone()["s"]


CLAIM_COLUMNS = ("c.id, c.plan_id, c.enrolment_id, c.member_id, c.submitted_by, c.kind, c.event_date, c.details, c.sealed,"
                 " c.state, c.amount, c.explanation, c.note, c.decided_by, c.decided_at, c.created_at,"
                 " c.assigned_officer, c.assigned_at, c.approvals_needed,"
                 " (SELECT count(*) FROM claim_approvals a WHERE a.claim_id = c.id)::int AS approvals")


def insert_claim(conn, data, enrolment_id, member_id, submitted_by, assessment):
    try:
        with conn.transaction():
            claim_id = _insert_claim(conn, data, enrolment_id, member_id, submitted_by, assessment)
    except pg.UniqueViolation as exc:
        raise Conflict(f"a {data['kind'].replace('_', ' ')} claim for {data['event_date'].isoformat()} is already filed",
                       "duplicate-claim", {"event_date": ["already claimed for this kind of event"]}) from exc
    return get_claim(conn, claim_id)


def _insert_claim(conn, data, enrolment_id, member_id, submitted_by, assessment):
    return conn.execute(
        """INSERT INTO claims (plan_id, enrolment_id, member_id, submitted_by, kind, event_date, details, sealed,
                               amount, explanation) VALUES (%s, %s, %s, %s, %s, %s, '{}', %s, %s, %s) RETURNING id""",
        (data["plan_id"], enrolment_id, member_id, submitted_by, data["kind"], data["event_date"],
         crypto.ring().seal_json({"details": data["details"]}), assessment.amount,
         Jsonb(explanation(assessment)))).fetchone()["id"]


def explanation(assessment):
    return [{"text": text, "amount": amount} for text, amount in assessment.lines]


def get_claim(conn, claim_id, lock=False):
    row = conn.execute(f"SELECT {CLAIM_COLUMNS} FROM claims c WHERE c.id = %s {'FOR UPDATE' if lock else ''}",
                       (claim_id,)).fetchone()
    if row is None:
        raise NotFound(f"claim {claim_id} does not exist", "claim-not-found")
    return opened(row, ("details",))


def list_claims(conn, member_id, state, limit, offset, officer_id=None):
    clause, args = _where("c", assigned_officer=officer_id, member_id=member_id, state=state)
    return [opened(r, ("details",)) for r in conn.execute(
        f"SELECT {CLAIM_COLUMNS}, count(*) OVER () AS total FROM claims c {clause} ORDER BY c.created_at DESC, c.id"
        " LIMIT %s OFFSET %s", (*args, limit, offset)).fetchall()]


def claim_approvers(conn, claim_id):
    return [str(r["officer_id"]) for r in conn.execute(
        "SELECT officer_id FROM claim_approvals WHERE claim_id = %s ORDER BY approved_at", (claim_id,)).fetchall()]


def approve_claim(conn, claim_id, officer_id, amount, needed):
    """One officer's approval; each officer approves a claim once."""
    try:
        with conn.transaction():
            conn.execute("INSERT INTO claim_approvals (claim_id, officer_id, amount) VALUES (%s, %s, %s)",
                         (claim_id, officer_id, amount))
    except pg.UniqueViolation as exc:
        raise Conflict("you have already approved this claim; another officer must approve it", "already-approved",
                       {"decision": ["you already approved this claim"]}) from exc
    conn.execute("UPDATE claims SET approvals_needed = greatest(approvals_needed, %s) WHERE id = %s",
                 (needed, claim_id))


def assign_claim(conn, claim_id, officer_id, assigned_by):
    conn.execute("UPDATE claims SET assigned_officer = %s, assigned_by = %s, assigned_at = now() WHERE id = %s",
                 (officer_id, assigned_by, claim_id))


def set_claim_state(conn, claim_id, state, decided_by=None, note=None, amount=None, assessment=None):
    sets, args = ["state = %s"], [state]
    if decided_by is not None:
        sets += ["decided_by = %s", "decided_at = now()"]
        args.append(decided_by)
    if note is not None:
        sets.append("note = %s")
        args.append(note)
    if amount is not None:
        sets.append("amount = %s")
        args.append(amount)
    if assessment is not None:
        sets.append("explanation = %s")
        args.append(Jsonb(explanation(assessment)))
    conn.execute(f"UPDATE claims SET {', '.join(sets)} WHERE id = %s", (*args, claim_id))


# ---------------------------------------------------------------- stats

def stats(conn):
    figures = {}
    for r in conn.execute("SELECT programme, state, count(*)::int AS n FROM applications GROUP BY 1, 2").fetchall():
        figures[f"cases_{r['programme']}_{r['state']}"] = r["n"]
    figures["cases_total"] = sum(v for k, v in figures.items() if k.startswith("cases_"))
    paid = conn.execute("SELECT count(*)::int AS n, coalesce(sum(amount), 0)::bigint AS s,"
                        " count(*) FILTER (WHERE claim_id IS NOT NULL)::int AS claims FROM payouts").fetchone()
    figures["payouts"] = paid["n"]
    figures["amount_paid"] = domain.yuan(paid["s"])
    figures["claims_paid"] = paid["claims"]
    timing = conn.execute(
        "SELECT avg(extract(epoch FROM decided_at - created_at)) AS avg,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - created_at)) AS median"
        " FROM applications WHERE decided_at IS NOT NULL").fetchone()
    figures["time_to_decision_avg_s"] = round(float(timing["avg"]), 1) if timing["avg"] is not None else None
    figures["time_to_decision_median_s"] = round(float(timing["median"]), 1) if timing["median"] is not None else None
    figures["escalated_open"] = conn.execute(
        "SELECT count(*)::int AS n FROM applications WHERE state IN ('submitted', 'under_review')"
        " AND escalated_at IS NOT NULL").fetchone()["n"]
    figures["mutual_aid_enrolments"] = conn.execute("SELECT count(*)::int AS n FROM plan_enrolments").fetchone()["n"]
    figures["claims_total"] = conn.execute("SELECT count(*)::int AS n FROM claims").fetchone()["n"]
    return figures



# ---------------------------------------------------------------- the yearly report (GET /v1/reports/summary)

# what each breakdown groups welfare's figures by: a case records the applicant's unit when opened
CASE_KEYS = {"unit": "a.member_unit", "programme": "a.programme"}
AID_KEYS = {"unit": "e.unit_id"}  # mutual aid is one programme (done in the service)


def _report_key(keys, by, when):
    return reports.month_of(when) if by == "month" else keys.get(by)


def report_cases(conn, start, end, by):
    """Cases opened in [start, end) (drafts never submitted are not cases)."""
    head, group = reports.grouping(_report_key(CASE_KEYS, by, "a.created_at"))
    return conn.execute(
        f"""SELECT {head}, count(*) AS cases FROM applications a
            WHERE a.created_at >= %(s)s AND a.created_at < %(e)s AND a.state <> 'draft' {group}""",
        {"s": start, "e": end}).fetchall()


def report_approvals(conn, start, end, by):
    """Cases approved in [start, end): each case once, however many officers signed."""
    head, group = reports.grouping(_report_key(CASE_KEYS, by, "d.created_at"))
    return conn.execute(
        f"""SELECT {head}, count(DISTINCT d.application_id) AS approvals
            FROM decisions d JOIN applications a ON a.id = d.application_id
            WHERE d.created_at >= %(s)s AND d.created_at < %(e)s AND d.to_state = 'approved' {group}""",
        {"s": start, "e": end}).fetchall()


def report_case_payouts(conn, start, end, by):
    """Payouts of cases made in [start, end), and their sum in fen."""
    head, group = reports.grouping(_report_key(CASE_KEYS, by, "p.created_at"))
    return conn.execute(
        f"""SELECT {head}, count(*) AS payouts, coalesce(sum(p.amount), 0) AS amount_paid
            FROM payouts p JOIN applications a ON a.id = p.application_id
            WHERE p.created_at >= %(s)s AND p.created_at < %(e)s {group}""",
        {"s": start, "e": end}).fetchall()


def report_plan_enrolments(conn, start, end, by):
    """Mutual-aid enrolments made in [start, end) and the distinct units that made them."""
    head, group = reports.grouping(_report_key(AID_KEYS, by, "e.enrolled_at"))
    return conn.execute(
        f"""SELECT {head}, count(DISTINCT e.unit_id) AS mutual_aid_units, count(*) AS mutual_aid_enrolments
            FROM plan_enrolments e WHERE e.enrolled_at >= %(s)s AND e.enrolled_at < %(e)s {group}""",
        {"s": start, "e": end}).fetchall()


def report_contributions(conn, start, end, by):
    """Units' contributions recorded in [start, end), in fen."""
    head, group = reports.grouping(_report_key({"unit": "u.unit_id"}, by, "u.recorded_at"))
    return conn.execute(
        f"""SELECT {head}, coalesce(sum(u.amount), 0) AS contributions
            FROM unit_contributions u WHERE u.recorded_at >= %(s)s AND u.recorded_at < %(e)s {group}""",
        {"s": start, "e": end}).fetchall()


def report_claim_payouts(conn, start, end, by):
    """Mutual-aid claims paid in [start, end), and their sum in fen."""
    head, group = reports.grouping(_report_key(AID_KEYS, by, "p.created_at"))
    return conn.execute(
        f"""SELECT {head}, count(*) AS claims_paid, coalesce(sum(p.amount), 0) AS claims_amount_paid
            FROM payouts p JOIN claims c ON c.id = p.claim_id JOIN plan_enrolments e ON e.id = c.enrolment_id
            WHERE p.created_at >= %(s)s AND p.created_at < %(e)s {group}""",
        {"s": start, "e": end}).fetchall()


def report_programme_names(conn):
    return {r["code"]: r["name"] for r in conn.execute("SELECT code, name FROM programmes").fetchall()}


def list_payouts(conn, limit, offset):
    """Every payout, newest first, with the programme it paid from (a claim's: mutual_aid)."""
    return conn.execute(
        """SELECT p.id, p.reference, p.application_id, p.claim_id, p.member_id, p.amount, p.paid_by, p.created_at,
                  coalesce(a.programme, 'mutual_aid') AS programme, count(*) OVER () AS total
           FROM payouts p LEFT JOIN applications a ON a.id = p.application_id
           ORDER BY p.created_at DESC, p.id LIMIT %s OFFSET %s""", (limit, offset)).fetchall()


# ---------------------------------------------------------------- resealing (key rotation)

# every sealed column, and what marks a row of it as still plain (from before sealing)
SEALED_COLUMNS = (
    ("applications", "sealed", "reason <> '' OR private <> '{}'"),
    ("applications", "national_id_cipher", None),
    ("decisions", "sealed", "facts ? 'reason' OR facts ? 'private'"),
    ("claims", "sealed", "details <> '{}'"),
    ("plan_enrolments", "national_id_cipher", None),
    ("application_documents", "content", None),
    ("claim_documents", "content", None),
)
FILES = ("application_documents", "claim_documents")


def sealed_counts(conn):
    """How many values each key seals, per table and column (`plain`: not sealed yet)."""
    counts = []
    for table, column, plain in SEALED_COLUMNS:
        holding = f"{column} IS NOT NULL" + (f" OR ({plain})" if plain else "")
        for row in conn.execute(f"SELECT coalesce(sealed_key({column}), 'plain') AS key_id, count(*)::int AS n"
                                f" FROM {table} WHERE {holding} GROUP BY 1 ORDER BY 1").fetchall():
            counts.append({"table": table, "column": column, **row})
    return counts


def erase_member(conn, member_id):
    """Erasure on account closure: what names or describes the person goes; amounts, states, dates
    and the ledger stay (a decision keeps its action and amount, a payout its amount). A document
    goes with the name it was sent under ("diagnosis_cancer.pdf"); its kind, size and hash stay."""
    cases = "SELECT id FROM applications WHERE member_id = %(m)s"
    claims = "SELECT id FROM claims WHERE member_id = %(m)s"
    for sql in (
            "UPDATE applications SET reason = '', private = '{}', sealed = NULL, national_id_cipher = NULL,"
            " national_id_mask = NULL WHERE member_id = %(m)s",
            f"UPDATE decisions SET sealed = NULL WHERE sealed IS NOT NULL AND application_id IN ({cases})",
            f"UPDATE application_documents SET content = '\\x', filename = 'erased' WHERE application_id IN ({cases})",
            "UPDATE claims SET details = '{}', sealed = NULL WHERE member_id = %(m)s",
            f"UPDATE claim_documents SET content = '\\x', filename = 'erased' WHERE claim_id IN ({claims})",
            "UPDATE plan_enrolments SET name = '', phone = NULL, national_id_cipher = '\\x', national_id_mask = '',"
            " national_id_hash = 'erased:' || id WHERE member_id = %(m)s",
            "DELETE FROM members WHERE member_id = %(m)s"):
        conn.execute(sql, {"m": member_id})
    closed_accounts.remember(conn, member_id)


def _stale(column, plain):
    """Rows to reseal: under a key of the ring that is not the current one, or plain (and, for a
    sealed column that may be empty, holding plain data). Rows under a key the ring does not hold
    stay as they are (`palace welfare keys` shows them)."""
    under_old = f"sealed_key({column}) = ANY(%(old)s)"
    if plain:
        return f"({under_old} OR ({column} IS NULL AND ({plain})))"
    return f"({under_old} OR ({column} IS NOT NULL AND octet_length({column}) > 0 AND sealed_key({column}) IS NULL))"


def reseal(conn, limit):
    """Seal at most `limit` rows of each table (documents: a tenth of it) under the current key; how
    many were."""
    ring = crypto.ring()
    args = {"old": [kid for kid in ring.ids if kid != ring.current], "limit": limit}
    done = 0

    def case(row):
        facts, nid = opened(row), row["national_id_cipher"]
        conn.execute("UPDATE applications SET reason = '', private = '{}', sealed = %s, national_id_cipher = %s"
                     " WHERE id = %s", (sealed_case(facts["reason"], facts["private"]),
                                        None if nid is None else ring.seal(ring.open(nid)), row["id"]))

    done += _each(conn, "applications", case, conn.execute(
        f"""SELECT id, reason, private, sealed, national_id_cipher FROM applications
            WHERE {_stale('sealed', SEALED_COLUMNS[0][2])} OR {_stale('national_id_cipher', None)}
            LIMIT %(limit)s FOR UPDATE SKIP LOCKED""", args).fetchall())

    def decision(row):
        private = ring.open_json(row["sealed"]) if row["sealed"] is not None else \
            {k: row["facts"][k] for k in ("reason", "private") if k in row["facts"]}
        conn.execute("UPDATE decisions SET sealed = %s, facts = facts - 'reason' - 'private' WHERE id = %s",
                     (ring.seal_json(private), row["id"]))

    done += _each(conn, "decisions", decision, conn.execute(
        f"""SELECT id, facts, sealed FROM decisions WHERE {_stale('sealed', SEALED_COLUMNS[2][2])}
            LIMIT %(limit)s FOR UPDATE SKIP LOCKED""", args).fetchall())

    def claim(row):
        conn.execute("UPDATE claims SET details = '{}', sealed = %s WHERE id = %s",
                     (ring.seal_json({"details": opened(row, ("details",))["details"]}), row["id"]))

    done += _each(conn, "claims", claim, conn.execute(
        f"""SELECT id, details, sealed FROM claims WHERE {_stale('sealed', SEALED_COLUMNS[3][2])}
            LIMIT %(limit)s FOR UPDATE SKIP LOCKED""", args).fetchall())

    def enrolment(row):
        national_id = ring.open(row["national_id_cipher"])
        conn.execute("UPDATE plan_enrolments SET national_id_cipher = %s, national_id_hash = %s WHERE id = %s",
                     (ring.seal(national_id), ring.fingerprint(national_id.decode()), row["id"]))

    done += _each(conn, "plan_enrolments", enrolment, conn.execute(
        f"""SELECT id, national_id_cipher, national_id_hash FROM plan_enrolments
            WHERE {_stale('national_id_cipher', None)} OR (national_id_hash NOT LIKE '{crypto.FINGERPRINT_PREFIX}%%'
                   AND national_id_hash NOT LIKE 'erased:%%')
            LIMIT %(limit)s FOR UPDATE SKIP LOCKED""", args).fetchall())
    for table in FILES:
        def file(row, table=table):
            conn.execute(f"UPDATE {table} SET content = %s WHERE id = %s",
                         (ring.seal(opened_file(row)["content"]), row["id"]))

        done += _each(conn, table, file, conn.execute(
            f"""SELECT id, content FROM {table} WHERE {_stale('content', None)}
                LIMIT %(files)s FOR UPDATE SKIP LOCKED""", {**args, "files": max(1, limit // 10)}).fetchall())
    return done


def _each(conn, table, work, rows):
    """`work` on each row, each in its own savepoint: a row that cannot be opened (a changed value)
    or resealed (its new fingerprint taken by the same person's row from the same plan) is logged
    and left as it is, and the rest go on."""
    done = 0
    for row in rows:
        try:
            with conn.transaction():
                work(row)
            done += 1
        except Exception as exc:  # noqa: BLE001 - one bad row must not stop the rotation of the others
            log.warning("could not reseal %s row %s: %s", table, row["id"], exc)
    return done
