"""Staff lists as spreadsheets: a list operation that declares `export=` (its columns) also answers
Accept: text/csv (UTF-8 with a BOM, which Excel needs to read Chinese) and Accept: the .xlsx type,
with Chinese column headers. One mechanism for every list: the `Exports` middleware sees the Accept,
calls the route's own GET responder page after page (so its roles, filters and scoping are the
JSON list's), and streams the rows out. The client's limit and offset are ignored: an export is the
whole list, up to MOST_ROWS.

Cells that a spreadsheet would run as a formula (beginning = + - @, tab or CR) are neutralised with a
leading single quote (OWASP's CSV injection advice); a plain number such as -120.00 is left alone.

Declaring columns: `operation(..., export=("status", "position"))` takes the headers from HEADERS;
a dict {field: header} names its own; `export=True` takes every field of the response schema. A
dotted field ("balances.available") reads into a nested object."""
import csv
import io
import json
import logging
import os
import re
import tempfile
from datetime import datetime

import falcon
import xlsxwriter

from gateway.conventions import paged
from gateway.problems import Problem
from services.common.zone import HOME_ZONE

log = logging.getLogger("palace.gateway.exports")

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 200  # the most a service answers in one page
MOST_ROWS = 100_000  # a city's year of mutual-aid enrolments (66,073) fits; more is refused up front
CHUNK = 64 * 1024
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
MONEY = re.compile(r"^-?\d+\.\d\d$")  # yuan as the API writes it: a number in the .xlsx

HEADERS = {
    "id": "编号", "reference": "业务编号", "course_id": "课程编号", "course_title": "课程", "member_id": "会员编号",
    "member_name": "会员姓名", "name": "姓名", "phone": "手机号", "status": "状态", "state": "状态",
    "position": "候补位次", "seats": "座位数", "attendance": "出勤", "attended": "出勤次数",
    "sessions_held": "已上课次", "held": "已上课次", "enrolment_id": "报名编号", "offer_expires_at": "候补名额保留至", "cancel_reason": "取消原因",
    "created_at": "创建时间", "updated_at": "更新时间", "room_id": "房间编号", "room_name": "房间",
    "site_id": "场地编号", "site_name": "场地", "series_id": "系列预约编号", "occurrence": "第几次", "title": "名称",
    "starts_at": "开始时间", "ends_at": "结束时间", "holder_service": "预约来源", "holder_reference": "预约人",
    "club": "社团", "reason": "事由", "checked_in_at": "签到时间", "programme": "项目", "submitted_by": "提交人",
    "round": "轮次", "amount_requested": "申请金额（元）", "amount_approved": "批准金额（元）",
    "national_id": "身份证号（遮蔽）", "assigned_officer": "经办人", "priority": "优先级", "approvals": "签批数",
    "escalated_at": "督办时间", "decided_at": "决定时间", "decided_by": "决定人", "amount": "金额（元）",
    "application_id": "申请编号", "claim_id": "理赔编号", "payout_id": "发放编号", "paid_by": "发放人",
    "transaction_id": "交易号", "kind": "类别", "year": "年度", "account": "账户", "memo": "摘要",
    "plan_id": "计划编号", "unit_id": "单位编号", "unit_name": "单位", "enrolled_at": "参保时间",
    "cover_from": "保障起始", "event_date": "事故日期", "note": "备注", "assigned_at": "分派时间",
    "figure": "指标代码", "figure_title": "指标", "source": "来源", "group": "分组代码", "label": "分组",
    "value": "数值",
}


def columns(spec, schema=None):
    """[(field, header)] of an export declaration (see the module's docstring)."""
    if spec is True:
        instance = schema() if isinstance(schema, type) else schema
        fields = [name for name, field in instance.fields.items() if not field.load_only]
        return [(name, HEADERS.get(name, name)) for name in fields]
    if isinstance(spec, dict):
        return list(spec.items())
    return [(name, HEADERS.get(name, name)) for name in spec]


def document(op, spec, schema):
    """The export's media types on the operation's answer, and its columns as x-export."""
    ok = next(answer for status, answer in op["responses"].items() if status.startswith("2"))
    table = {"type": "string", "format": "binary"}
    ok.setdefault("content", {})[CSV] = {"schema": {"type": "string"}}
    ok["content"][XLSX] = {"schema": table}
    ok["description"] += (f"; with Accept: {CSV} or {XLSX}, the whole list (every page, at most {MOST_ROWS} rows)"
                          " as a spreadsheet with Chinese headers")
    op["x-export"] = [{"field": field, "header": header} for field, header in columns(spec, schema)]
    return op


def cell(value):
    """A value as a spreadsheet cell: numbers stay numbers, formulas are neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    value = str(value)
    if value.startswith(FORMULA_START) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def pick(row, field):
    for part in field.split("."):
        row = row.get(part) if isinstance(row, dict) else None
    return row


def csv_stream(table, rows):
    """UTF-8 with a BOM, written as the rows come (a page at a time)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for _, header in table])
    yield "\ufeff".encode() + _drain(buffer)
    for n, row in enumerate(rows, 1):
        writer.writerow([cell(pick(row, field)) for field, _ in table])
        if n % 500 == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer):
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode()


def xlsx_stream(table, rows, sheet_name):
    """XlsxWriter in constant_memory mode (each row is flushed to a temporary file as written), the
    finished file then sent in chunks. A zip's directory comes last, so nothing can go out before
    the last row is in."""
    with tempfile.TemporaryDirectory(prefix="palace-export-") as folder:
        path = os.path.join(folder, "export.xlsx")
        book = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": folder})
        bold, money = book.add_format({"bold": True}), book.add_format({"num_format": "0.00"})
        sheet = book.add_worksheet(sheet_name[:31])
        for col, (_, header) in enumerate(table):
            sheet.write_string(0, col, header, bold)
        for r, row in enumerate(rows, 1):
            for col, (field, _) in enumerate(table):
                _write(sheet, r, col, cell(pick(row, field)), money)
        book.close()
        with open(path, "rb") as done:
            while chunk := done.read(CHUNK):
                yield chunk


def _write(sheet, r, col, value, money):
    if isinstance(value, (int, float)):
        sheet.write_number(r, col, value)
    elif MONEY.match(value):
        sheet.write_number(r, col, float(value), money)
    elif value:
        sheet.write_string(r, col, value)  # never write(): it would read "=..." as a formula


class Exports:
    """The middleware: a GET of a list that declares an export, asked for as CSV or .xlsx."""

    def process_resource(self, req, resp, resource, params):
        if req.method != "GET" or resource is None:
            return
        op = (getattr(resource, "doc", None) or {}).get("get") or {}
        if "x-export" not in op:
            return
        wanted = req.client_prefers([falcon.MEDIA_JSON, CSV, XLSX])
        if wanted not in (CSV, XLSX):
            return
        table = [(c["field"], c["header"]) for c in op["x-export"]]
        rows = _all_rows(req, resource, params)
        name = f"{op['operationId']}-{datetime.now(HOME_ZONE):%Y%m%d-%H%M}"
        if wanted == CSV:
            resp.content_type, resp.stream = "text/csv; charset=utf-8", csv_stream(table, rows)
            resp.downloadable_as = f"{name}.csv"
        else:
            resp.content_type, resp.stream = XLSX, xlsx_stream(table, rows, op["operationId"])
            resp.downloadable_as = f"{name}.xlsx"
        resp.cache_control = ["private", "no-store"]
        resp.complete = True  # the responder has been called already, page by page


def _all_rows(req, resource, params):
    """The list's rows, every page: the first read now (so a refusal is an ordinary problem answer,
    before anything is sent), the rest as the spreadsheet is written."""
    page_of = getattr(resource, "page_of", None)
    first = _page(req, resource, params, page_of, 0)
    total = req.context.get("total")
    if total is not None and total > MOST_ROWS:
        raise Problem(422, "export-too-large", f"the list holds {total} rows and an export at most {MOST_ROWS}:"
                      " narrow it with the list's filters")
    if not paged(resource):
        return iter(first)
    return _pages(req, resource, params, page_of, first)


def _pages(req, resource, params, page_of, first):
    yield from first
    offset, size = PAGE, len(first)
    while size == PAGE and offset < MOST_ROWS:
        page = _page(req, resource, params, page_of, offset)
        yield from page[:MOST_ROWS - offset]
        offset, size = offset + PAGE, len(page)


def _page(req, resource, params, page_of, offset):
    req.context["export_page"] = {"limit": PAGE, "offset": offset}
    scratch = falcon.Response()
    resource.on_get(req, scratch, **params)
    media = scratch.media
    if page_of:
        media = media.get(page_of) if isinstance(media, dict) else None
    if not isinstance(media, list):
        log.warning("export of %s: the answer is not a list", req.path)
        return []
    return media
