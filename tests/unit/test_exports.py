"""The spreadsheet cells and columns of gateway/exports.py, alone."""
import csv
import io

import openpyxl
import pytest

from gateway import exports
from gateway.openapi import operation
from services.enrolment.schemas import EnrolmentSchema


@pytest.mark.parametrize("value, cell", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("+SUM(1)", "'+SUM(1)"), ("-2+3", "'-2+3"),
    ("@A1", "'@A1"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-120.00", "-120.00"), ("+8613800000000", "+8613800000000"),  # numbers run nothing
    ("合唱排练", "合唱排练"), (None, ""), (True, "是"), (3, 3), (["a"], '["a"]'),
])
def test_a_cell_that_would_run_as_a_formula_is_neutralised_and_nothing_else_is(value, cell):
    assert exports.cell(value) == cell


def test_columns_come_from_the_headers_a_dict_or_the_response_schema():
    assert exports.columns(("status", "position")) == [("status", "状态"), ("position", "候补位次")]
    assert exports.columns({"status": "报名状态"}) == [("status", "报名状态")]
    every = exports.columns(True, EnrolmentSchema)
    assert ("member_id", "会员编号") in every and len(every) == len(EnrolmentSchema().fields)


def test_a_roster_exported_with_export_true_has_a_chinese_header_for_every_field():
    """The roster's fields (GET /v1/courses/{id}/roster, hooked with `export=True` at merge)."""
    from marshmallow import Schema, fields

    class Roster(Schema):
        enrolment_id, member_id, name, phone = fields.UUID(), fields.UUID(), fields.String(), fields.String()
        status, position, seats, attended, held = (fields.String(), fields.Integer(), fields.Integer(),
                                                   fields.Integer(), fields.Integer())

    headers = [header for _, header in exports.columns(True, Roster)]
    assert all(not h.isascii() for h in headers), headers


def test_an_operation_with_an_export_documents_the_spreadsheet_types():
    op = operation("A list", operation_id="listThings", tag="t", response=EnrolmentSchema, many=True,
                   export=("id", "status"))
    assert set(op["responses"]["200"]["content"]) == {"application/json", exports.CSV, exports.XLSX}
    assert op["x-export"] == [{"field": "id", "header": "编号"}, {"field": "status", "header": "状态"}]


ROWS = [{"id": n, "status": "=1+1" if n == 3 else "confirmed", "money": {"amount": "12.50"}} for n in range(1200)]
TABLE = [("id", "编号"), ("status", "状态"), ("money.amount", "金额（元）")]


def test_the_csv_starts_with_a_bom_and_has_every_row():
    body = b"".join(exports.csv_stream(TABLE, iter(ROWS)))
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0] == ["编号", "状态", "金额（元）"] and len(table) == 1201
    assert table[4] == ["3", "'=1+1", "12.50"]


def test_the_xlsx_has_every_row_and_money_as_numbers():
    body = b"".join(exports.xlsx_stream(TABLE, iter(ROWS), "listThings"))
    rows = list(openpyxl.load_workbook(io.BytesIO(body), read_only=True).active.iter_rows(values_only=True))
    assert rows[0] == ("编号", "状态", "金额（元）") and len(rows) == 1201
    assert rows[4] == (3, "'=1+1", 12.5)


class Numbers:
    """A paged list of `count` rows, as a route answers it (with its total when `counted`)."""

    def __init__(self, count, counted=True):
        self.count, self.counted, self.pages = count, counted, 0
        self.doc = {"get": operation("Numbers", operation_id="listNumbers", tag="t", response=EnrolmentSchema,
                                     many=True, query=(("limit", "integer"), ("offset", "integer")),
                                     export=("id",))}

    def on_get(self, req, resp):
        from gateway.routes import paging
        page = paging(req)
        self.pages += 1
        if self.counted:
            req.context["total"] = self.count
        resp.media = [{"id": n} for n in range(page["offset"], min(self.count, page["offset"] + page["limit"]))]


def _client(resource):
    import falcon
    import falcon.testing

    from gateway.problems import install
    app = falcon.App(middleware=[exports.Exports()])
    install(app)
    app.add_route("/numbers", resource)
    return falcon.testing.TestClient(app)


def test_an_export_walks_every_page_and_json_stays_one_page():
    numbers = Numbers(450)
    client = _client(numbers)
    answer = client.simulate_get("/numbers", headers={"Accept": exports.CSV})
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [int(r[0]) for r in rows[1:]] == list(range(450)) and numbers.pages == 3
    assert len(client.simulate_get("/numbers").json) == 50


def test_an_export_over_the_bound_is_refused_before_anything_is_sent(monkeypatch):
    monkeypatch.setattr(exports, "MOST_ROWS", 300)
    answer = _client(Numbers(450)).simulate_get("/numbers", headers={"Accept": exports.XLSX})
    assert answer.status_code == 422 and answer.json["type"].endswith("/problems/export-too-large")


def test_an_uncounted_list_stops_at_the_bound(monkeypatch):
    monkeypatch.setattr(exports, "MOST_ROWS", 300)
    answer = _client(Numbers(450, counted=False)).simulate_get("/numbers", headers={"Accept": exports.CSV})
    assert len(list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))) == 301
