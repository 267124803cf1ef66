"""The yearly report: each service's figures over a period, asked of them all at once over RPC and
laid out as rows (a figure's total, then its groups) that read the same as JSON, CSV or .xlsx."""
from datetime import date, datetime, time, timedelta

from marshmallow import Schema, fields

from gateway import auth, store
from gateway.openapi import operation
from gateway.problems import Problem
from gateway.routes import Resource
from gateway.rpc import call_all
from services.common.reports import BREAKDOWNS, MISSING
from services.common.roles import STAFF
from services.common.zone import HOME_ZONE

MOST_YEARS = 5

# every figure, in the order of the report, with the service that counts it and its Chinese title
FIGURES = (
    ("enrolment", "courses_run", "开班数"),
    ("enrolment", "sessions_held", "上课节次"),
    ("enrolment", "person_times", "培训人次"),
    ("enrolment", "trainees", "参训人数"),
    ("enrolment", "enrolments", "报名人数"),
    ("enrolment", "waitlisted", "候补人数"),
    ("venues", "bookings", "场地预约数"),
    ("venues", "booked_hours", "预约时长（小时）"),
    ("venues", "utilisation", "场地利用率"),
    ("welfare", "cases", "救助申请件数"),
    ("welfare", "approvals", "批准件数"),
    ("welfare", "payouts", "发放笔数"),
    ("welfare", "amount_paid", "发放金额（元）"),
    ("welfare", "mutual_aid_units", "互助保障参保单位数"),
    ("welfare", "mutual_aid_enrolments", "互助保障参保人数"),
    ("welfare", "contributions", "单位缴费（元）"),
    ("welfare", "claims_paid", "互助理赔笔数"),
    ("welfare", "claims_amount_paid", "互助理赔金额（元）"),
    ("notify", "sent_wechat", "微信通知条数"),
    ("notify", "sent_sms", "短信条数"),
    ("notify", "sent_email", "邮件条数"),
    ("notify", "sent_console", "后台通知条数"),
    ("notify", "inbox_entries", "站内消息条数"),
)
SERVICES = ("enrolment", "venues", "welfare", "notify")
PROGRAMMES = {"hardship_relief": "困难帮扶", "mutual_aid": "职工互助保障", "education_subsidy": "求学圆梦",
              "merit_scholarship": "劳模助学", "legal_aid": "法律援助", "counselling": "心理咨询"}
TOTAL, NOT_GIVEN = "合计", "未填写"


class ReportRowSchema(Schema):
    figure = fields.String(metadata={"description": "the figure's code (courses_run, person_times...)"})
    figure_title = fields.String(metadata={"description": "its name in Chinese"})
    source = fields.String(metadata={"description": "the service that counted it"})
    group = fields.String(allow_none=True, metadata={"description": "null: the total; else the group's key "
                                                                    "(a month YYYY-MM, a site or unit id...; '' for "
                                                                    "records that do not say)"})
    label = fields.String(metadata={"description": "the group's name (合计 for the total)"})
    value = fields.Raw(allow_none=True, metadata={"description": "a count, hours, a share (0-1; null: nothing "
                                                                 "was open), or yuan as a decimal string"})


class NotApplicableSchema(Schema):
    figure = fields.String()
    figure_title = fields.String()
    reason = fields.String(metadata={"description": "why the breakdown asked for does not apply to it"})


class ReportSchema(Schema):
    period_from = fields.Date(data_key="from")
    period_to = fields.Date(data_key="to")
    by = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(ReportRowSchema))
    not_applicable = fields.List(fields.Nested(NotApplicableSchema),
                                 metadata={"description": "figures given only in total: their records do not carry "
                                                          "the breakdown asked for"})


def period(req, today):
    """from and to (dates, both counted; by default this calendar year) and by, or a 400 naming the field."""
    errors = {}
    first = _date(req, "from", date(today.year, 1, 1), errors)
    last = _date(req, "to", date(today.year, 12, 31), errors)
    by = req.get_param("by") or None
    if by is not None and by not in BREAKDOWNS:
        errors["by"] = [f"must be one of {', '.join(BREAKDOWNS)}"]
    if first and last and last < first:
        errors["to"] = [f"must not be before from ({first})"]
    elif first and last and last >= _years_on(first, MOST_YEARS):
        errors["to"] = [f"the report covers at most {MOST_YEARS} years from from ({first})"]
    if errors:
        raise Problem(400, "bad-report-query", "the report's period or breakdown is wrong", errors)
    return first, last, by


def _date(req, name, default, errors):
    value = req.get_param(name)
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = ["must be a date, YYYY-MM-DD"]
        return None


def _years_on(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def rows(answers, by, unit_names):
    """The services' figures as report rows, labelled; and the figures a breakdown does not reach."""
    labels = {}
    for answer in answers.values():
        labels.update(answer.get("labels") or {})
    if by == "unit":
        labels.update(unit_names)
    if by == "programme":
        labels.update(PROGRAMMES)
    out, skipped = [], []
    for source, name, title in FIGURES:
        figure = answers[source]["figures"].get(name)
        if figure is None:
            continue
        base = {"figure": name, "figure_title": title, "source": source}
        out.append({**base, "group": None, "label": TOTAL, "value": figure["total"]})
        if figure.get("not_applicable"):
            skipped.append({"figure": name, "figure_title": title, "reason": figure["not_applicable"]})
        for key in sorted(figure.get("groups") or {}):
            label = NOT_GIVEN if key == MISSING else labels.get(key, key)
            out.append({**base, "group": key, "label": label, "value": figure["groups"][key]})
    return out, skipped


class Summary(Resource):
    doc = {"get": operation(
        "The yearly report: courses run, sessions held, person-times, trainees, enrolments and waitlists; "
        "bookings, booked hours and utilisation; welfare cases, approvals and amounts paid; the mutual-aid "
        "plan's units, enrolments, contributions and claims paid; notifications sent by channel. from and to "
        f"are dates (both counted, Asia/Shanghai; by default this year, at most {MOST_YEARS} years); by is one "
        f"of {', '.join(BREAKDOWNS)}. A figure whose records do not carry the breakdown is given in total and "
        "named in not_applicable. Utilisation is booked hours over the hours the rooms stood open (their opening "
        "hours, less closures)", operation_id="getReportSummary", tag="reports", response=ReportSchema,
        roles=STAFF, query=(("from", "date"), ("to", "date"), ("by", "string")), errors=(400, 503),
        export=("figure_title", "label", "value", "figure", "group", "source"))}
    page_of = "rows"  # what a spreadsheet of the report lists

    @auth.require(*STAFF)
    def on_get(self, req, resp):
        first, last, by = period(req, datetime.now(HOME_ZONE).date())
        since = datetime.combine(first, time(), HOME_ZONE).isoformat()
        until = datetime.combine(last + timedelta(days=1), time(), HOME_ZONE).isoformat()
        answers = call_all([(s, "report_figures", (since, until, by), {}) for s in SERVICES],
                           context=auth.caller(req))
        unit_names = {}
        if by == "unit":
            with self.gateway.db.transaction() as conn:
                unit_names = store.unit_names(conn)
        report_rows, skipped = rows(dict(zip(SERVICES, answers)), by, unit_names)
        resp.media = {"from": first.isoformat(), "to": last.isoformat(), "by": by, "rows": report_rows,
                      "not_applicable": skipped}


def routes(gateway):
    by = next(p for p in Summary.doc["get"]["parameters"] if p["name"] == "by")
    by["schema"]["enum"] = list(BREAKDOWNS)
    return [("/v1/reports/summary", Summary(gateway))]
