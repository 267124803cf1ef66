"""The public catalog has two paths: the gateway's event-fed read model (gateway/catalog.py) for
anyone browsing, and the enrolment service's list_courses for staff and the filters the read model
does not answer. For each public filter both must return the same courses in the same order
(services/enrolment/domain.py names the filters, the fields `q` searches and the order)."""
import json
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest

from gateway.catalog import FILTERS, Catalog
from services.enrolment import domain
from tests.harness import eventually

STAFF = {"caller_id": str(uuid.uuid4()), "caller_roles": "admin"}
MEMBER = {"caller_id": str(uuid.uuid4()), "caller_roles": "member"}


@pytest.fixture(scope="module")
def palace(stack):
    stack.start("enrolment")
    stack.start("gateway-feed")
    yield stack
    stack.stop("gateway-feed")
    stack.stop("enrolment")


def call(stack, method, *args, context=STAFF):
    with stack.rpc(context=context, timeout=30) as rpc:
        return getattr(rpc.enrolment, method)(*args)


class GatewayDb:
    """What the read model asks of the gateway's Database: a connection to read with."""
    def __init__(self, stack):
        self.stack = stack

    @contextmanager
    def autocommit(self):
        with self.stack.db("gateway") as conn:
            yield conn


def read_model(stack, filters):
    docs, _, _ = Catalog(GatewayDb(stack)).courses(filters, limit=200, offset=0)
    return [c["id"] for c in json.loads(docs)]


def service(stack, filters):
    return [c["id"] for c in call(stack, "list_courses", 200, 0, filters, context=MEMBER)]


@pytest.fixture(scope="module")
def courses(palace):
    """Courses that differ in each thing a public filter looks at, one of them cancelled, one full,
    one a draft; the newest opens first, so an order by opening and one by creation differ."""
    site, mark = str(uuid.uuid4()), uuid.uuid4().hex[:8]
    long_ago = (datetime.now(timezone.utc) - timedelta(days=30)).isoformat()

    def course(title, **fields):
        return call(palace, "create_course", {"title": f"{title} {mark}", "capacity": 5, "site_id": site,
                                              "category": f"书法 {mark}", **fields})

    made = {
        "open": course("Calligraphy", description="楷书 for beginners"),
        "full": course("Seal carving", capacity=1, teacher=f"王老师 {mark}"),
        "cancelled": course("Ink painting", category=f"国画 {mark}"),
        "elsewhere": course("Erhu", site_id=str(uuid.uuid4()), category=f"国画 {mark}"),
        "draft": course("Guzheng", publish=False),
        "newest": course("Tea art", opens_at=long_ago),
    }
    call(palace, "enrol", made["full"]["id"], context=MEMBER)
    call(palace, "cancel_course", made["cancelled"]["id"], {"reason": "teacher ill"})
    ours = {c["id"] for c in made.values()}

    def caught_up():  # the feed has every course's latest description and figures
        with palace.db("gateway") as conn:
            stored = {str(r["id"]): r for r in conn.execute(
                "SELECT id, doc ->> 'state' AS state, version FROM catalog_courses WHERE id = ANY(%s::uuid[])"
                " AND doc IS NOT NULL", (sorted(ours),))}
        for c in made.values():
            now = call(palace, "get_course", c["id"])
            if now["state"] != "draft" and (c["id"] not in stored or stored[c["id"]]["state"] != now["state"]
                                            or stored[c["id"]]["version"] < now["version"]):
                return False
        return True

    eventually(caught_up, timeout=30)
    return {"mark": mark, "site": site, "ids": ours, **{name: c["id"] for name, c in made.items()}}


def public_filters(courses):
    mark = courses["mark"]
    return [{}, {"open_seats": True}, {"open_seats": False}, {"category": f"书法 {mark}"},
            {"category": f"国画 {mark}", "open_seats": True}, {"site_id": courses["site"]},
            {"site_id": courses["site"], "open_seats": True}, {"q": mark}, {"q": "楷书"}, {"q": f"王老师 {mark}"},
            {"q": f"国画 {mark}"}, {"q": f"Tea art {mark}", "open_seats": True}]


def test_every_public_filter_is_in_the_contract():
    assert set(FILTERS) == set(domain.CATALOG_FILTERS)


def test_the_read_model_and_the_service_list_the_same_courses_in_the_same_order(palace, courses):
    for filters in public_filters(courses):
        ours = courses["ids"]
        from_service = [i for i in service(palace, filters) if i in ours]
        from_read_model = [i for i in read_model(palace, filters) if i in ours]
        assert from_read_model == from_service, f"the two paths differ for {filters}"
        assert courses["draft"] not in from_service


def test_open_seats_lists_neither_a_full_nor_a_cancelled_course(palace, courses):
    listed = [i for i in read_model(palace, {"open_seats": True}) if i in courses["ids"]]
    assert courses["open"] in listed and courses["full"] not in listed and courses["cancelled"] not in listed
    assert listed[0] == courses["newest"], "newest first"


def test_q_looks_in_the_title_description_teacher_and_category(palace, courses):
    for words, name in (("楷书", "open"), (f"王老师 {courses['mark']}", "full"), (f"国画 {courses['mark']}", "elsewhere")):
        assert courses[name] in read_model(palace, {"q": words}), words
