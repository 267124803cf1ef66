"""HTTP's own conventions, kept without breaking a client: a 201 names where the new thing is
(Location, also when replayed for an Idempotency-Key), a course edit may name the version it read
(ETag, If-Match), a page of a list links the pages beside it (Link)."""
from tests.e2e.conftest import Client, new_member
from tests.harness import eventually


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
    room = admin.post("/v1/rooms", json={"site_id": site.json()["id"], "name": "Location hall", "capacity": 20})
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
    assert stale.json()["type"].endswith("precondition-failed")
    assert admin.get(f"/v1/courses/{created.json()['id']}").status_code == 200

    member = new_member(palace.url, "Sun Li")
    assert member.post(f"{path}/enrolments").status_code == 201  # a seat taken changes the course too
    late = admin.patch(path, json={"title": "ETag calligraphy III"}, headers={"If-Match": edited.headers["ETag"]})
    assert late.status_code == 412, late.text
    anyway = admin.patch(path, json={"title": "ETag calligraphy III"})  # no If-Match: as before
    assert anyway.status_code == 200 and anyway.json()["title"] == "ETag calligraphy III"
    assert admin.patch(path, json={"title": "ETag calligraphy IV"}, headers={"If-Match": "*"}).status_code == 200


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
    objects = {"course_id": course, "unit_id": unit, "plan_id": plan[0]["id"] if plan else None}
    document = Client(palace.url).get("/openapi.json").json()
    counted = [path for path, item in document["paths"].items()
               if "X-Total-Count" in item.get("get", {}).get("responses", {}).get("200", {}).get("headers", {})]
    assert len(counted) > 15
    missing = {}
    for path in counted:
        if path == "/v1/rooms/availability":
            params = {"starts_at": "2030-05-07T19:00:00+08:00", "ends_at": "2030-05-07T21:00:00+08:00"}
        else:
            params = {}
        if "{plan_id}" in path and objects["plan_id"] is None:
            continue
        answer = admin.get(path.format(**objects), params=params)
        if answer.status_code != 200 or not answer.headers.get("X-Total-Count", "").isdigit():
            missing[path] = (answer.status_code, answer.headers.get("X-Total-Count"))
    assert not missing, missing
