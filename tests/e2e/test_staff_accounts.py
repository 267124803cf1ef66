"""An admin manages staff accounts over HTTP (on the shared palace: test_accounts.py counts sign-ins
against its own day-long limits, which a staff account's sign-ins would use up)."""
from tests.e2e.conftest import new_staff, sign_in
from tests.e2e.test_bad_input import assert_problem
from tests.harness import eventually


def test_an_admin_changes_an_accounts_roles_and_the_old_token_stops_carrying_them(palace, admin):
    teacher = new_staff(palace.url, admin, ["teacher"], name="Teacher Qian")
    changed = admin.patch(f"/v1/accounts/{teacher.id}", {"roles": ["venue_manager"]})
    assert changed.status_code == 200 and changed.json()["roles"] == ["venue_manager"], changed.text

    def refused():  # the token naming the teacher role stops working within the gateway's re-read
        return teacher.get("/v1/me/teaching").status_code == 401

    eventually(refused, timeout=5)
    again = sign_in(palace.url, teacher.phone, "staff-password")
    assert again.get("/v1/me").json()["roles"] == ["venue_manager"]
    assert again.get("/v1/me/teaching").status_code == 403

    me = admin.get("/v1/me").json()["id"]
    assert_problem(admin.patch(f"/v1/accounts/{me}", {"roles": ["teacher"]}), 422, "validation-failed", "roles")
    assert_problem(admin.patch(f"/v1/accounts/{teacher.id}", {"roles": ["unit_admin"]}), 422,
                   "validation-failed", "unit_id")
    assert_problem(admin.patch(f"/v1/accounts/{teacher.id}", {"roles": ["pope"]}), 422, "validation-failed", "roles")
    assert_problem(again.patch(f"/v1/accounts/{teacher.id}", {"roles": ["admin"]}), 403, "forbidden")
    assert again.get("/v1/me").json()["roles"] == ["venue_manager"], "nothing changed by the refusals"
