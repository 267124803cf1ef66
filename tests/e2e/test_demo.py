"""`make demo` loads a palace a new staff member can try: sites, rooms, a term of classes, clubs,
units and members, a mutual-aid plan and welfare cases, all through the public API."""
from ops import demo
from tests.e2e.conftest import Client, sign_in
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, eventually


def test_the_demo_palace_loads_and_its_accounts_work(palace):
    figures = demo.load(palace.url, (ADMIN_PHONE, ADMIN_PASSWORD))
    assert figures == {"sites": 13, "rooms": 21, "classes": 14, "members": 10}
    assert len(eventually(lambda: [c for c in Client(palace.url).get("/v1/courses", params={"limit": 50}).json()
                                   if "茶艺" in c["title"] or "Choir" in c["title"]])) == 2
    member = sign_in(palace.url, *demo.MEMBER[:2])
    assert member.get("/v1/me/enrolments").json(), "the demo member holds a class"
    assert member.get("/v1/bookings").json(), "and their club's rehearsals"
    officer = sign_in(palace.url, *demo.STAFF["welfare_officer"][:2])
    assert len(officer.get("/v1/welfare/applications").json()) >= 3
    unit_admin = sign_in(palace.url, *demo.UNIT_ADMIN[:2])
    assert len(unit_admin.get("/v1/units").json()) == 1
