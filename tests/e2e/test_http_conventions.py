"""HTTP's own conventions, kept without breaking a client: a 201 names where the new thing is
(Location, also when replayed for an Idempotency-Key), a course edit may name the version it read
(ETag) and must (If-Match: 428 without it, 412 when stale), a page of a list links the pages beside it
(Link), and a problem's type is the address of a page saying what it means and what to do."""
from gateway.problem_pages import PAGES
from tests.e2e.conftest import NO_LIMITS, Client, new_member, new_staff
from tests.harness import eventually
from tests.problem_types import raised_slugs


def test_a_created_course_and_enrolment_are_where_the_location_says(palace, admin):
    created = admin.post("/v1/courses", json={"title": "Location choir", "capacity": 10})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/v1/courses/{created.json()['id']}"
    assert admin.get(created.headers["Location"]).json()["title"] == "Location choir"

    member = new_member(palace.url, "Zhao Lei")
    enrolled = member.post(f"{created.headers['Location']}/enrolments", headers={"Idempotency-Key": "loc-1"})
    assert enrolled.status_code == 201, enrolled.text
    assert member.get(enrolled.headers["Location"]).json()["id"] == enrolled.json()["id"]
    replayed = member.post(f"{created.headers['Location']}/enrolments", headers={"Idempotency-Key": "loc-1"})
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.headers["Location"] == enrolled.headers["Location"]


def test_a_booking_a_room_and_a_welfare_case_are_where_the_location_says(palace, admin):
    site = admin.post("/v1/sites", json={"name": "Location Workers' Home", "kind": "shared"})
    assert site.headers["Location"] == "/v1/sites"  # a site has no address of its own
    room = admin.post("/v1/rooms", json={"site_id": site.json()["id"], "name": "Location hall", **NO_LIMITS, "capacity": 20})
    assert admin.get(room.headers["Location"]).json()["name"] == "Location hall"
    member = new_member(palace.url, "Qian Yu")
    booking = member.post("/v1/bookings", json={"room_id": room.json()["id"], "title": "Location rehearsal",
                                                "starts_at": "2030-04-02T19:00:00+08:00",
                                                "ends_at": "2030-04-02T21:00:00+08:00"})
    assert booking.status_code == 201, booking.text
    assert member.get(booking.headers["Location"]).json()["title"] == "Location rehearsal"
    case = member.post("/v1/welfare/applications", json={"programme": "legal_aid", "reason": "unpaid wages"})
    assert case.status_code == 201, case.text
    assert member.get(case.headers["Location"]).json()["id"] == case.json()["id"]
    document = member.post(f"{case.headers['Location']}/documents", data=b"%PDF-1.4\n%%EOF\n",
                           params={"kind": "dismissal_letter"}, headers={"Content-Type": "application/pdf"})
    assert document.status_code == 201, document.text
    assert member.get(document.headers["Location"]).content == b"%PDF-1.4\n%%EOF\n"


def test_a_course_edit_names_the_version_it_read_and_a_stale_one_is_refused(palace, admin):
    created = admin.post("/v1/courses", json={"title": "ETag calligraphy", "capacity": 10})
    path, version = created.headers["Location"], created.json()["version"]
    shown = admin.get(path)
    assert shown.headers["ETag"] == f'"{shown.json()["version"]}"'

    edited = admin.patch(path, json={"title": "ETag calligraphy II"}, headers={"If-Match": f'"{version}"'})
    assert edited.status_code == 200, edited.text
    assert edited.headers["ETag"] == f'"{edited.json()["version"]}"' != f'"{version}"'

    stale = admin.patch(path, json={"title": "lost update"}, headers={"If-Match": f'"{version}"'})
    assert stale.status_code == 412, stale.text
    assert stale.json()["type"] == f"{palace.url}/problems/precondition-failed"
    assert admin.get(f"/v1/courses/{created.json()['id']}").status_code == 200

    member = new_member(palace.url, "Sun Li")
    assert member.post(f"{path}/enrolments").status_code == 201  # a seat taken changes the course too
    late = admin.patch(path, json={"title": "ETag calligraphy III"}, headers={"If-Match": edited.headers["ETag"]})
    assert late.status_code == 412, late.text
    unconditional = admin.patch(path, json={"title": "lost update"})  # no If-Match: refused, saying what to send
    assert unconditional.status_code == 428, unconditional.text
    assert unconditional.json()["type"] == f"{palace.url}/problems/precondition-required"
    assert "If-Match" in unconditional.json()["detail"] and "If-Match" in unconditional.json()["errors"]
    # a course is read from the gateway's catalog, which follows the service by events: the read and its
    # ETag catch up a moment later (a stale one meanwhile is refused 412, changing nothing)
    assert eventually(lambda: admin.get(path).json()["title"] == "ETag calligraphy II")
    assert eventually(lambda: admin.patch(path, json={"title": "ETag calligraphy III"},
                                          headers={"If-Match": admin.get(path).headers["ETag"]}).status_code == 200)
    assert admin.patch(path, json={"title": "ETag calligraphy IV"}, headers={"If-Match": "*"}).status_code == 200
    # to a teacher who does not teach it the course is not there, If-Match or not
    stranger = new_staff(palace.url, admin, ["teacher"], name="Teacher Tang")
    assert stranger.patch(path, json={"title": "x"}).status_code == 404


def test_a_page_of_a_list_links_the_pages_beside_it_keeping_its_filters(palace, admin):
    for n in range(3):
        assert admin.post("/v1/courses", json={"title": f"Link pottery {n}", "category": "link-pottery",
                                               "capacity": 5}).status_code == 201
    catalog = Client(palace.url)  # the public catalog: a read model the courses reach by their events
    eventually(lambda: len(catalog.get("/v1/courses", params={"category": "link-pottery"}).json()) == 3)
    first = catalog.get("/v1/courses", params={"category": "link-pottery", "limit": 2})
    assert len(first.json()) == 2 and "prev" not in first.links
    assert first.headers["X-Total-Count"] == "3"
    following = Client(palace.url).get(first.links["next"]["url"])
    assert "category=link-pottery" in first.links["next"]["url"]
    assert len(following.json()) == 1 and "next" not in following.links  # the last page
    back = Client(palace.url).get(following.links["prev"]["url"]).json()
    assert [c["id"] for c in back] == [c["id"] for c in first.json()]
    # a list the services answer links its pages the same way
    staff = admin.get("/v1/terms", params={"limit": 1, "offset": 1})
    assert staff.status_code == 200 and "prev" in staff.links


def test_every_counted_list_says_how_many_there_are(palace, admin):
    """Each list documented with X-Total-Count answers it, asked by an admin (lists under an object
    of their own are asked of one made here)."""
    course = admin.post("/v1/courses", json={"title": "Count choir", "capacity": 5}).json()["id"]
    unit = admin.post("/v1/units", json={"name": "Count Steelworks branch"}).json()["id"]
    plan = admin.get("/v1/mutual-aid/plans").json()
    member = new_member(palace.url, "Count Qian")
    objects = {"course_id": course, "unit_id": unit, "plan_id": plan[0]["id"] if plan else None, "member_id": member.id,
               "year": 2030}
    document = Client(palace.url).get("/openapi.json").json()
    counted = [path for path, item in document["paths"].items()
               if "X-Total-Count" in item.get("get", {}).get("responses", {}).get("200", {}).get("headers", {})]
    assert len(counted) > 15
    assert {"/v1/welfare/programmes", "/v1/calendar/{year}", "/v1/rooms/utilisation"} <= set(counted)  # lists answered whole
    missing = {}
    for path in counted:
        if path == "/v1/rooms/availability":
            params = {"starts_at": "2030-05-07T19:00:00+08:00", "ends_at": "2030-05-07T21:00:00+08:00"}
        elif path == "/v1/desk/members":  # a search: the clerk says whom
            params = {"q": "Count Qian"}
        else:
            params = {}
        if "{plan_id}" in path and objects["plan_id"] is None:
            continue
        answer = admin.get(path.format(**objects), params=params)
        if answer.status_code != 200 or not answer.headers.get("X-Total-Count", "").isdigit():
            missing[path] = (answer.status_code, answer.headers.get("X-Total-Count"))
    assert not missing, missing


def test_a_problem_type_is_the_address_of_a_page_saying_what_to_do(palace):
    anonymous = Client(palace.url)
    refused = anonymous.get("/v1/me")
    assert refused.status_code == 401 and refused.headers["Content-Type"].startswith("application/problem+json")
    kind = refused.json()["type"]
    assert kind.startswith(f"{palace.url}/problems/"), kind  # absolute, on the host the request came to
    page = anonymous.get(kind.removeprefix(palace.url))
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text and '<section lang="en">' in page.text
    assert "怎么办" in page.text and "What to do" in page.text and kind in page.text
    unknown = anonymous.get("/problems/no-such-problem")
    assert unknown.status_code == 404 and unknown.headers["Content-Type"].startswith("application/problem+json")
    assert anonymous.get("/problems/http-406").status_code == 200  # falcon's own errors, by their status


def test_every_problem_type_the_code_can_raise_has_its_page(palace):
    slugs = raised_slugs() | set(PAGES)
    assert len(slugs) > 100
    pageless = {}
    for slug in sorted(slugs):
        page = Client(palace.url).get(f"/problems/{slug}")
        if page.status_code != 200 or "怎么办" not in page.text or "What to do:" not in page.text:
            pageless[slug] = page.status_code
    assert not pageless, pageless
