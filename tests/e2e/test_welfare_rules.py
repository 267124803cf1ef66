"""Welfare staff change a programme's eligibility rules over HTTP: the new rules hold for cases
submitted afterwards, cases already submitted keep theirs, bad rules and stale saves are refused
with nothing written, and every change is in the programme's audit trail."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import Client, new_member, new_staff
from tests.e2e.test_bad_input import assert_problem
from tests.e2e.test_welfare_cases import apply, decide


@pytest.fixture(scope="module")
def officers(palace, admin):
    return [new_staff(palace.url, admin, ["welfare_officer"], name=f"Officer {n}") for n in "AB"]


def rules_of(client, code):
    answer = client.get(f"/v1/welfare/programmes/{code}/rules")
    assert answer.status_code == 200, answer.text
    return answer.json()


def changes_of(client, code):
    answer = client.get(f"/v1/welfare/programmes/{code}/rules/changes")
    assert answer.status_code == 200, answer.text
    return answer.json()["changes"]


def income_line(yuan):
    return [{"rule": "income_per_person_below", "amount": yuan}]


def test_a_new_relief_line_holds_for_cases_submitted_after_it_and_not_before(palace, officers):
    a, b = officers
    read = rules_of(a, "hardship_relief")
    assert (read["programme"], read["rules"], read["version"]) == ("hardship_relief", income_line("1500.00"), 1)
    household = {"household_income": "3000.00", "household_size": 3}  # 1000.00 a person
    before = apply(new_member(palace.url, "Gao Lan"), private=household)
    assert before["state"] == "submitted"
    late = new_member(palace.url, "Gao Lan's neighbour")
    draft = apply(late, draft=True, private=household)

    changed = a.put("/v1/welfare/programmes/hardship_relief/rules",
                    {"version": 1, "rules": income_line("900.00"), "note": "the city's relief line for 2027"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["rules"], changed.json()["version"]) == (income_line("900.00"), 2)
    assert changed.json()["updated_at"]
    public = {p["code"]: p for p in Client(palace.url).get("/v1/welfare/programmes").json()}
    assert public["hardship_relief"]["eligibility_rules"] == income_line("900.00")

    refused = late.post(f"/v1/welfare/applications/{draft['id']}/submission", {})
    assert_problem(refused, 422, "not-eligible", "eligibility")
    assert refused.json()["errors"]["eligibility"] == [
        "income_per_person_below: 1000.00 a month per person; the programme is for households below 900.00"]
    assert late.get(f"/v1/welfare/applications/{draft['id']}").json()["state"] == "draft", "nothing written"

    # the case submitted before keeps the line it was checked against, through its decision too
    decided = decide(b, before, "approve", "1000.00", "rent arrears")
    assert decided["state"] == "approved"
    submitted, approved = decided["decisions"][0]["facts"], decided["decisions"][1]["facts"]
    assert submitted["eligibility"]["rules"] == approved["eligibility"]["rules"] == [
        {"rule": "income_per_person_below", "amount": 150000}]
    assert submitted["eligibility"]["rules_version"] == approved["eligibility"]["rules_version"] == 1
    assert approved["eligibility"]["unmet"] == [], "judged by the 1500.00 line it was submitted under"

    [change] = changes_of(b, "hardship_relief")
    assert change["version"] == 2 and change["actor_id"] == a.id and change["created_at"]
    assert (change["old_rules"], change["new_rules"]) == (income_line("1500.00"), income_line("900.00"))
    assert change["note"] == "the city's relief line for 2027" and change["request_id"]


def test_of_two_officers_saving_the_same_version_one_is_refused_and_told(palace, officers, admin):
    a, b = officers
    version = rules_of(a, "merit_scholarship")["version"]
    assert rules_of(b, "merit_scholarship")["version"] == version
    first = a.put("/v1/welfare/programmes/merit_scholarship/rules",
                  {"version": version, "rules": [{"rule": "min_membership_months", "months": 6}]})
    assert first.status_code == 200 and first.json()["version"] == version + 1, first.text
    stale = b.put("/v1/welfare/programmes/merit_scholarship/rules",
                  {"version": version, "rules": [{"rule": "one_per_year"}]})
    doc = assert_problem(stale, 409, "stale-rules", "version")
    assert f"version {version + 1}" in doc["detail"]
    assert rules_of(admin, "merit_scholarship")["rules"] == [{"rule": "min_membership_months", "months": 6}]

    # at the same moment: the row's version in the UPDATE lets exactly one through
    version += 1
    savers = [officers[i % 2] for i in range(8)]
    with ThreadPoolExecutor(len(savers)) as pool:
        answers = list(pool.map(lambda n: savers[n].put("/v1/welfare/programmes/merit_scholarship/rules", {
            "version": version, "rules": [{"rule": "min_membership_months", "months": n + 1}]}), range(8)))
    assert sorted(x.status_code for x in answers) == [200] + [409] * 7, [x.text for x in answers]
    winner = next(n for n, x in enumerate(answers) if x.status_code == 200)
    assert rules_of(a, "merit_scholarship") == {**answers[winner].json(), "version": version + 1}
    trail = changes_of(a, "merit_scholarship")
    assert [c["version"] for c in trail] == [version + 1, version], "one audit entry per saved change"
    assert trail[0]["new_rules"] == [{"rule": "min_membership_months", "months": winner + 1}]
    assert trail[0]["old_rules"] == trail[1]["new_rules"]


@pytest.mark.parametrize("body, field", [
    ({"version": 1, "rules": [{"rule": "lives_in_hangzhou"}]}, ("rules", "0", "rule")),
    ({"version": 1, "rules": [{"rule": "income_per_person_below", "amount": "-100.00"}]}, ("rules", "0", "amount")),
    ({"version": 1, "rules": [{"rule": "income_per_person_below", "amount": 1500}]}, ("rules", "0", "amount")),
    ({"version": 1, "rules": [{"rule": "income_per_person_below", "amount": "0"}]}, ("rules", "0", "amount")),
    ({"version": 1, "rules": [{"rule": "income_per_person_below"}]}, ("rules", "0", "amount")),
    ({"version": 1, "rules": [{"rule": "one_per_year"}, {"rule": "min_membership_months", "months": -3}]},
     ("rules", "1", "months")),
    ({"version": 1, "rules": [{"rule": "unit_in_plan", "threshold": 2}]}, ("rules", "0", "threshold")),
    ({"version": 1, "rules": [{"rule": "one_per_year"}, {"rule": "one_per_year"}]}, ("rules", "1")),
    ({"version": 1, "rules": {"rule": "one_per_year"}}, ("rules",)),
    ({"version": "1", "rules": []}, ("version",)),
    ({"rules": []}, ("version",)),
    ({"version": 1, "rules": [], "threshold": "900.00"}, ("threshold",)),
])
def test_bad_rules_are_refused_naming_the_field_and_nothing_is_written(palace, officers, body, field):
    before, trail = rules_of(officers[0], "education_subsidy"), changes_of(officers[0], "education_subsidy")
    answer = officers[0].put("/v1/welfare/programmes/education_subsidy/rules", body)
    errors = assert_problem(answer, 422, "validation-failed")["errors"]
    for name in field:
        assert name in errors, (field, errors)
        errors = errors[name]
    assert rules_of(officers[0], "education_subsidy") == before
    assert changes_of(officers[0], "education_subsidy") == trail


def test_an_unknown_programme_is_a_404(palace, officers):
    for answer in (officers[0].get("/v1/welfare/programmes/lottery/rules"),
                   officers[0].put("/v1/welfare/programmes/lottery/rules", {"version": 1, "rules": []}),
                   officers[0].get("/v1/welfare/programmes/lottery/rules/changes")):
        assert_problem(answer, 404, "programme-not-found")


def test_members_read_the_rules_but_only_welfare_staff_change_them(palace, admin):
    member, stranger = new_member(palace.url), Client(palace.url)
    teacher = new_staff(palace.url, admin, ["teacher"])
    assert rules_of(member, "legal_aid") == rules_of(stranger, "legal_aid")
    body = {"version": rules_of(member, "legal_aid")["version"], "rules": [{"rule": "one_per_year"}]}
    assert_problem(member.put("/v1/welfare/programmes/legal_aid/rules", body), 403, "forbidden")
    assert_problem(teacher.put("/v1/welfare/programmes/legal_aid/rules", body), 403, "forbidden")
    assert_problem(stranger.put("/v1/welfare/programmes/legal_aid/rules", body), 401, "unauthenticated")
    assert member.get("/v1/welfare/programmes/legal_aid/rules/changes").status_code == 403
    assert rules_of(admin, "legal_aid")["version"] == body["version"] and changes_of(admin, "legal_aid") == []
    assert admin.put("/v1/welfare/programmes/legal_aid/rules", body).status_code == 200, "admin is welfare staff"
