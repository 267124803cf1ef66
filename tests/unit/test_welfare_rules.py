"""Welfare rules alone: money, the case state machine, the approval policy, the benefit arithmetic."""
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.welfare import domain
from services.welfare.domain import Case, PlanRules, Policy

RELIEF = Policy("hardship_relief", "money", approval_threshold=300000, approvals_required=2, max_amount=2000000)
EDUCATION = Policy("education_subsidy", "money", 150000, 1, 150000,
                   parts=(("education_province", 100000, "province"), ("education_city", 50000, "city")))
LEGAL = Policy("legal_aid", "service", 0, 1, None)
MEMBER, CLERK, A, B = "member", "clerk", "officer-a", "officer-b"


def case(state="submitted", member=MEMBER, submitted_by=MEMBER):
    return Case(state, member, submitted_by, 1, 100000)


# ---------------------------------------------------------------- money

@given(st.integers(min_value=0, max_value=10**13))
def test_fen_round_trip_through_yuan_strings(fen):
    assert domain.parse_money(domain.yuan(fen)) == fen


@pytest.mark.parametrize("text", ["1.234", "-1", "1e3", "01", " 1", "", "1,000", "NaN"])
def test_money_that_is_not_plain_yuan_is_refused(text):
    assert domain.parse_money(text) is None


def test_yuan_strings_keep_their_fen():
    assert domain.yuan(150050) == "1500.50" and domain.yuan(-5) == "-0.05" and domain.parse_money("0.1") == 10


# ---------------------------------------------------------------- state machine

# how far along a case is: a move never goes back, except a resubmission, which opens a new round
RANK = {domain.DRAFT: 0, domain.SUBMITTED: 1, domain.RETURNED: 2, domain.UNDER_REVIEW: 2, domain.APPROVED: 3,
        domain.REJECTED: 3, domain.PAID: 4, domain.CLOSED: 5}
NEW_ROUND = {(domain.RETURNED, domain.SUBMITTED)}


def test_states_only_move_forward_except_a_resubmission_which_opens_a_new_round():
    for source, targets in domain.TRANSITIONS.items():
        for target in targets:
            assert RANK[target] >= RANK[source] or (source, target) in NEW_ROUND
    assert domain.TRANSITIONS[domain.CLOSED] == set()
    with pytest.raises(domain.WrongState):
        domain.move(domain.PAID, domain.APPROVED)
    with pytest.raises(domain.WrongState):
        domain.move(domain.REJECTED, domain.APPROVED)


@given(st.lists(st.sampled_from(domain.STATES), max_size=12))
def test_no_path_returns_to_an_earlier_state_within_a_round(path):
    state, highest = domain.DRAFT, 0
    for target in path:
        if domain.can_move(state, target):
            if (state, target) in NEW_ROUND:
                highest = RANK[target]
            assert RANK[target] >= highest
            state, highest = target, RANK[target]


# ---------------------------------------------------------------- approval policy

def test_a_small_amount_needs_one_officer():
    outcome = domain.decide(RELIEF, case(), A, "approve", 50000, "", [])
    assert (outcome.to_state, outcome.amount, outcome.final) == ("approved", 50000, True)


def test_above_the_threshold_two_distinct_officers_must_sign():
    first = domain.decide(RELIEF, case(), A, "approve", 500000, "", [])
    assert (first.to_state, first.final, first.signatures_needed) == ("under_review", False, 2)
    with pytest.raises(domain.WrongState) as again:
        domain.decide(RELIEF, case("under_review"), A, "approve", 500000, "", [(A, 500000)])
    assert again.value.problem == "already-approved"
    second = domain.decide(RELIEF, case("under_review"), B, "approve", None, "", [(A, 500000)])
    assert (second.to_state, second.amount, second.final) == ("approved", 500000, True)


def test_the_second_signature_must_be_for_the_same_amount():
    with pytest.raises(domain.WrongState) as differs:
        domain.decide(RELIEF, case("under_review"), B, "approve", 600000, "", [(A, 500000)])
    assert differs.value.problem == "amount-differs"


@pytest.mark.parametrize("member, submitted_by", [(A, A), (MEMBER, A)])
def test_nobody_decides_their_own_application_or_one_they_submitted(member, submitted_by):
    for decision in ("approve", "reject", "return"):
        with pytest.raises(domain.NotAllowed) as refused:
            domain.decide(RELIEF, case(member=member, submitted_by=submitted_by), A, decision, 100, "why", [])
        assert refused.value.problem == "own-application"


@pytest.mark.parametrize("state", ["closed", "paid", "rejected", "approved", "returned"])
def test_only_an_open_case_can_be_approved(state):
    with pytest.raises(domain.WrongState) as refused:
        domain.decide(RELIEF, case(state), A, "approve", 100, "", [])
    assert refused.value.problem in ("case-closed", "case-not-open")


def test_an_approval_names_an_amount_within_the_programme_limit():
    with pytest.raises(domain.BadInput):
        domain.decide(RELIEF, case(), A, "approve", None, "", [])
    with pytest.raises(domain.BadInput):
        domain.decide(RELIEF, case(), A, "approve", 2000001, "", [])
    with pytest.raises(domain.BadInput):
        domain.decide(RELIEF, case(), A, "approve", 0, "", [])


def test_a_return_says_what_is_missing():
    with pytest.raises(domain.BadInput):
        domain.decide(RELIEF, case(), A, "return", None, " ", [])
    assert domain.decide(RELIEF, case(), A, "return", None, "send the payslip", []).to_state == "returned"


def test_education_support_pays_province_1000_and_city_500_each_from_its_own_fund():
    outcome = domain.decide(EDUCATION, case(), A, "approve", None, "", [])
    assert outcome.amount == 150000
    assert domain.payment_parts(EDUCATION, None, outcome.amount) == [
        ("education_province", 100000, "province"), ("education_city", 50000, "city")]
    with pytest.raises(domain.BadInput):
        domain.decide(EDUCATION, case(), A, "approve", 200000, "", [])


def test_services_move_no_money_and_cannot_be_paid():
    assert domain.decide(LEGAL, case(), A, "approve", None, "", []).amount == 0
    assert domain.payout_problem("approved", "service")[0] == "nothing-to-pay"


def test_only_an_approved_case_is_paid_and_only_once():
    assert domain.payout_problem("approved", "money") is None
    assert domain.payout_problem("rejected", "money")[0] == "not-approved"
    assert domain.payout_problem("paid", "money")[0] == "already-paid"
    assert domain.payout_problem("submitted", "money")[0] == "not-approved"


def test_an_application_meets_its_programme_rules():
    assert domain.application_problems(RELIEF, ["income_statement"], 100, []) == {
        "documents": ["upload income_statement first (attach the files to a draft, then submit it)"]}
    assert domain.application_problems(RELIEF, ["income_statement"], 100, {"income_statement", "payslip"}) == {}
    assert "amount_requested" in domain.application_problems(LEGAL, [], 100, [])
    assert "amount_requested" in domain.application_problems(RELIEF, [], 0, [])
    assert domain.application_problems(EDUCATION, [], 0, []) == {}


# ---------------------------------------------------------------- privacy

def test_private_data_is_for_the_applicant_the_assigned_and_the_reviewing_officers():
    assert domain.may_see_private(MEMBER, MEMBER, None, set())
    assert domain.may_see_private(A, MEMBER, A, set())
    assert domain.may_see_private(B, MEMBER, A, {B})
    assert not domain.may_see_private("someone", MEMBER, A, {B})
    assert not domain.may_see_private(None, MEMBER, None, set())


def test_national_ids_are_checked_and_masked():
    assert domain.national_id_problem("11010519491231002X") is None
    assert "check digit" in domain.national_id_problem("110105194912310021")
    assert "birth date" in domain.national_id_problem("110105194913310021")
    assert domain.mask_national_id("11010519491231002X") == "**************002X"


# ---------------------------------------------------------------- the benefit rules

RULES = PlanRules(hospital_daily=5000, hospital_deductible_days=3, hospital_max_days=90, waiting_days=90,
                  critical_illness=1000000, accident={"minor": 50000, "moderate": 200000, "severe": 500000,
                                                      "disability": 1000000}, yearly_cap=1500000)
COVER = date(2026, 1, 10)

rules = st.builds(
    PlanRules, hospital_daily=st.integers(0, 100000), hospital_deductible_days=st.integers(0, 30),
    hospital_max_days=st.integers(1, 366), waiting_days=st.integers(0, 365), critical_illness=st.integers(0, 10**8),
    accident=st.fixed_dictionaries({s: st.integers(0, 10**7) for s in domain.SEVERITIES}),
    yearly_cap=st.integers(0, 10**8))
claims = st.one_of(
    st.tuples(st.just("hospital"), st.builds(lambda d: {"days": d}, st.integers(1, 366))),
    st.tuples(st.just("critical_illness"), st.just({"diagnosis": "stroke"})),
    st.tuples(st.just("accident"), st.builds(lambda s: {"severity": s}, st.sampled_from(domain.SEVERITIES))))


@settings(max_examples=400)
@given(rules, claims, st.dates(date(2025, 1, 1), date(2027, 12, 31)),
       st.one_of(st.none(), st.dates(date(2025, 1, 1), date(2027, 12, 31))), st.integers(0, 10**8))
def test_no_claim_passes_the_yearly_cap_and_the_lines_add_up(plan, claim, when, cover, granted):
    kind, details = claim
    result = domain.assess_claim(plan, kind, when, details, cover, granted)
    assert result.amount == sum(amount for _, amount in result.lines)
    assert 0 <= result.amount <= max(plan.yearly_cap - granted, 0)
    assert all(text for text, _ in result.lines)


@given(rules, claims, st.integers(0, 400), st.integers(0, 10**6))
def test_waiting_periods_hold(plan, claim, days_after_cover, granted):
    kind, details = claim
    when = COVER + timedelta(days=days_after_cover)
    result = domain.assess_claim(plan, kind, when, details, COVER, granted)
    if kind != "accident" and days_after_cover < plan.waiting_days:
        assert result.amount == 0 and "waiting period" in result.lines[0][0]


@given(rules, claims, st.integers(1, 400))
def test_nothing_is_paid_before_cover_starts_or_without_a_contribution(plan, claim, days_before):
    kind, details = claim
    assert domain.assess_claim(plan, kind, COVER - timedelta(days=days_before), details, COVER, 0).amount == 0
    assert domain.assess_claim(plan, kind, COVER, details, None, 0).amount == 0


def test_a_hospital_stay_is_explained_line_by_line():
    result = domain.assess_claim(RULES, "hospital", date(2026, 6, 1), {"days": 10}, COVER, 0)
    assert result.amount == 7 * 5000
    assert result.lines == (("10 day(s) in hospital, the first 3 not paid: 7 x 50.00", 35000),)


def test_the_cap_line_takes_off_what_the_year_has_already_granted():
    result = domain.assess_claim(RULES, "critical_illness", date(2026, 6, 1), {"diagnosis": "cancer"}, COVER, 1000000)
    assert result.amount == 500000
    assert result.lines[-1] == ("yearly cap 15000.00, 10000.00 already granted this year", -500000)


def test_accidents_have_no_waiting_period():
    assert domain.assess_claim(RULES, "accident", COVER, {"severity": "severe"}, COVER, 0).amount == 500000


# ---------------------------------------------------------------- enrolment rows

def test_a_good_row_is_cleaned_and_a_bad_row_says_every_reason():
    clean, reasons = domain.check_row({"name": " Li Lei ", "national_id": "11010519491231002x", "phone": ""})
    assert reasons == [] and clean["national_id"] == "11010519491231002X" and clean["phone"] is None
    clean, reasons = domain.check_row({"name": "", "national_id": "123", "phone": "12", "member_id": "x"})
    assert clean is None and len(reasons) == 4


def test_a_row_s_phone_is_a_mainland_mobile_number_as_everywhere_else():
    row = {"name": "Li Lei", "national_id": "11010519491231002X"}
    assert domain.check_row({**row, "phone": " 13900000001 "})[0]["phone"] == "13900000001"
    for phone in ("12900000001", "1390000000", "\uff11\uff13\uff19\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff11"):
        assert domain.check_row({**row, "phone": phone})[1] == ["phone: must be an 11-digit mainland mobile number"]


def test_the_header_must_name_the_required_columns():
    assert domain.header_problem(["name", "national_id"]) is None
    assert "national_id" in domain.header_problem(["name", "phone"])
    assert "shoe_size" in domain.header_problem(["name", "national_id", "shoe_size"])


def test_an_enrolment_file_reports_each_bad_record_by_the_line_a_spreadsheet_shows():
    text = ("name,national_id,phone\n"
            "Li Lei,11010519491231002X,13900000000\n"
            "\n"
            "\"Han\nMeimei\",110105194912310021,\n"
            "Zhou Qiang,440524188001010014\n"
            "Again,11010519491231002x,\n"
            "Wang Wu,440524188001010014,\n")
    good, errors = domain.read_enrolment_csv(text)
    assert [line for line, _ in good] == [2, 8]
    assert [e["line"] for e in errors] == [4, 6, 7]
    assert "check digit" in errors[0]["errors"][-1] and "fields" in errors[1]["errors"][0]
    assert errors[2]["errors"] == ["national_id: the same person is on line 2"]


def test_a_document_is_known_by_its_bytes_not_by_what_it_claims():
    assert domain.check_document(b"%PDF-1.7 ...", "income_statement") == "application/pdf"
    assert domain.check_document(b"\xff\xd8\xff\xe0 jfif", "id_card") == "image/jpeg"
    assert domain.check_document(b"\x89PNG\r\n\x1a\n....", "payslip") == "image/png"
    for content in (b"GIF89a", b"<html>%PDF-", b"PK\x03\x04 a zip", b" %PDF-"):
        with pytest.raises(domain.Unsupported):
            domain.check_document(content, "income_statement")
    with pytest.raises(domain.BadInput) as empty:
        domain.check_document(b"", "income_statement")
    assert "file" in empty.value.errors
    with pytest.raises(domain.TooLarge):
        domain.check_document(b"%PDF-" + bytes(domain.MOST_DOCUMENT_BYTES), "income_statement")
    assert domain.check_document(b"%PDF-" + bytes(domain.MOST_DOCUMENT_BYTES - 5), "x") == "application/pdf"
    for kind in ("", "Income", "1st", "a" * 61, "income statement", None):
        with pytest.raises(domain.BadInput) as bad:
            domain.check_document(b"%PDF-", kind)
        assert "kind" in bad.value.errors


def test_a_document_keeps_a_plain_file_name():
    assert domain.clean_filename("C:\\Users\\wang\\收入证明.pdf", "x", "application/pdf") == "收入证明.pdf"
    assert domain.clean_filename("../../etc/passwd", "x", "application/pdf") == "passwd"
    assert domain.clean_filename('a"\r\nb.png', "x", "image/png") == "ab.png"
    assert domain.clean_filename("", "payslip", "image/jpeg") == "payslip.jpg"
    assert domain.clean_filename("...", "payslip", "image/png") == "payslip.png"
    assert len(domain.clean_filename("a" * 500, "x", "image/png")) == 200


def applicant(**facts):
    base = dict(membership_months=24, household_income=240000, household_size=3, unit_in_plan=True,
                earlier_this_year=0)
    return domain.Applicant(**{**base, **facts})


def test_whole_months_of_membership():
    assert domain.months_between(date(2025, 1, 31), date(2025, 2, 28)) == 0
    assert domain.months_between(date(2025, 1, 31), date(2025, 3, 1)) == 1
    assert domain.months_between(date(2024, 11, 21), date(2026, 11, 21)) == 24
    assert domain.months_between(date(2026, 11, 21), date(2026, 11, 21)) == 0


def test_each_eligibility_rule_names_itself_and_says_why_when_unmet():
    rules = [{"rule": "min_membership_months", "months": 12}, {"rule": "income_per_person_below", "amount": 150000},
             {"rule": "unit_in_plan"}, {"rule": "one_per_year"}]
    assert domain.unmet_rules(rules, applicant()) == []
    unmet = dict(domain.unmet_rules(rules, applicant(membership_months=3, household_income=600000,
                                                     household_size=2, unit_in_plan=False, earlier_this_year=1)))
    assert list(unmet) == ["min_membership_months", "income_per_person_below", "unit_in_plan", "one_per_year"]
    assert unmet["min_membership_months"] == "a member for 3 month(s); the programme asks at least 12"
    assert unmet["income_per_person_below"] == "3000.00 a month per person; the programme is for households below 1500.00"
    assert "not known" in dict(domain.unmet_rules(rules[:1], applicant(membership_months=None)))["min_membership_months"]
    assert "household_size" in dict(domain.unmet_rules(rules[1:2], applicant(household_size=None)))[
        "income_per_person_below"]


def test_the_income_line_is_per_person_and_exact():
    line = [{"rule": "income_per_person_below", "amount": 150000}]
    assert domain.unmet_rules(line, applicant(household_income=449999, household_size=3)) == []
    assert domain.unmet_rules(line, applicant(household_income=450000, household_size=3)) != [], "at the line: out"
    assert domain.unmet_rules(line, applicant(household_income=0, household_size=1)) == []


def test_a_rule_the_service_does_not_know_is_never_waved_through():
    assert domain.unmet_rules([{"rule": "lives_in_hangzhou"}], applicant())[0][0] == "lives_in_hangzhou"
    with pytest.raises(domain.BadInput) as refused:
        domain.refuse_unmet(domain.unmet_rules([{"rule": "one_per_year"}], applicant(earlier_this_year=2)))
    assert refused.value.problem == "not-eligible"
    assert refused.value.errors == {"eligibility": ["one_per_year: the member already applied to this programme this year"]}
    domain.refuse_unmet([])


# ---------------------------------------------------------------- eligibility rules set by staff

def test_every_rule_the_service_checks_is_one_staff_can_set_and_no_other():
    assert set(domain.RULE_FIGURES) == set(domain.RULES)


@pytest.mark.parametrize("rule, errors", [
    ({"rule": "income_per_person_below", "amount": 160000}, {}),
    ({"rule": "min_membership_months", "months": 12}, {}),
    ({"rule": "unit_in_plan"}, {}),
    ({"rule": "income_per_person_below"}, {"amount": ["is required for income_per_person_below"]}),
    ({"rule": "income_per_person_below", "amount": 0}, {"amount": ["must be more than 0"]}),
    ({"rule": "min_membership_months", "months": 12, "amount": 100},
     {"amount": ["is not a figure of min_membership_months (it takes months)"]}),
    ({"rule": "one_per_year", "months": 1}, {"months": ["is not a figure of one_per_year (it takes none)"]}),
    ({"rule": "lives_in_hangzhou", "months": 1}, {}),  # refused by its name, not by its figures
])
def test_a_rule_carries_exactly_the_figures_it_reads(rule, errors):
    assert domain.figure_problems(rule) == errors


def test_a_rule_given_twice_is_named_at_its_second_place():
    assert domain.repeated_rules(["one_per_year", "unit_in_plan"]) == {}
    assert domain.repeated_rules(["one_per_year", "unit_in_plan", "one_per_year"]) == {
        2: ["one_per_year is already rule 0: give each rule once"]}


def test_a_case_is_judged_by_the_rules_of_its_last_submission():
    old = [{"rule": "income_per_person_below", "amount": 150000}]
    new = [{"rule": "income_per_person_below", "amount": 90000}]
    ledger = [{"action": "submit", "facts": {"eligibility": {"rules": old, "rules_version": 1}}},
              {"action": "approve", "facts": {"eligibility": {"rules": new, "rules_version": 2}}}]
    assert domain.rules_at_submission(ledger, new, 2) == (old, 1)
    resubmitted = [*ledger, {"action": "submit", "facts": {"eligibility": {"rules": new, "rules_version": 2}}}]
    assert domain.rules_at_submission(resubmitted, [], 3) == (new, 2), "a new round is checked anew"
    before_versions = [{"action": "submit", "facts": {"eligibility": {"rules": old}}}]
    assert domain.rules_at_submission(before_versions, new, 2) == (old, None)
    assert domain.rules_at_submission([{"action": "assign", "facts": {}}], new, 2) == (new, 2)


def rules_update(rules, version=1, **more):
    from marshmallow import ValidationError

    from services.welfare.schemas import RulesUpdateSchema
    try:
        return RulesUpdateSchema().load({"version": version, "rules": rules, **more})
    except ValidationError as exc:
        return exc.normalized_messages()


def test_new_rules_load_as_fen_and_bad_ones_are_refused_by_field():
    loaded = rules_update([{"rule": "income_per_person_below", "amount": "1600.00"}, {"rule": "one_per_year"}],
                          note="city relief line 2027")
    assert loaded == {"version": 1, "note": "city relief line 2027",
                      "rules": [{"rule": "income_per_person_below", "amount": 160000}, {"rule": "one_per_year"}]}
    assert rules_update([])["rules"] == []
    assert rules_update([{"rule": "lives_in_hangzhou"}]) == {"rules": {0: {"rule": [
        "Must be one of: min_membership_months, income_per_person_below, unit_in_plan, one_per_year."]}}}
    assert "amount" in rules_update([{"rule": "income_per_person_below", "amount": "-5.00"}])["rules"][0]
    assert "amount" in rules_update([{"rule": "income_per_person_below", "amount": 1600}])["rules"][0]
    assert "months" in rules_update([{"rule": "min_membership_months", "months": -1}])["rules"][0]
    assert "months" in rules_update([{"rule": "min_membership_months", "months": "12"}])["rules"][0]
    assert "threshold" in rules_update([{"rule": "unit_in_plan", "threshold": 3}])["rules"][0]
    assert rules_update([{"rule": "unit_in_plan"}, {"rule": "unit_in_plan"}]) == {
        "rules": {1: ["unit_in_plan is already rule 0: give each rule once"]}}
    assert "version" in rules_update([], version=0) and "version" in rules_update([], version="1")


# ---------------------------------------------------------------- mutual aid: contributions, roster files

def test_a_contribution_is_the_headcount_times_the_rate_to_the_fen():
    assert domain.contribution_problem(600000, 100, 6000) is None
    problem = domain.contribution_problem(500000, 100, 6000)
    assert "5000.00" in problem and "100 worker(s) x 60.00 = 6000.00" in problem
    assert "no confirmed workers" in domain.contribution_problem(6000, 0, 6000)


def test_a_roster_file_is_read_as_utf8_with_or_without_bom_else_gb18030():
    text = "name,national_id\n张伟,11010519491231002X\n"
    assert domain.roster_text(text.encode("utf-8")) == text
    assert domain.roster_text(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert domain.roster_text(text.encode("gb18030")) == text
    with pytest.raises(domain.BadInput) as refused:
        domain.roster_text(b"\x81\x30\x81")  # a GB18030 four-byte sequence cut short: neither
    assert "file" in refused.value.errors


def test_a_workbook_is_read_as_its_first_sheet_one_record_per_row():
    import io

    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["name", "national_id", "phone"])
    book.active.append(["李娜\n二车间", "11010519491231002X", 13912345678])
    out = io.BytesIO()
    book.save(out)
    assert domain.roster_text(out.getvalue()) == "name,national_id,phone\n李娜 二车间,11010519491231002X,13912345678\n"
    with pytest.raises(domain.BadInput):
        domain.roster_text(b"PK\x03\x04 not a workbook")


def test_accounts_named_in_a_roster_must_be_workers_of_the_unit():
    unit, other = "6a1f1c7e-0000-4000-8000-000000000001", "6a1f1c7e-0000-4000-8000-000000000002"
    ours, theirs, free, ghost = (f"7b2e2d8f-0000-4000-8000-00000000000{n}" for n in range(4))
    text = ("name,national_id,member_id\nA,1,{}\nB,2,\nC,3,{}\nD,4,{}\nE,5,{}\nF,6,not-an-id\n"
            .format(ours, theirs, free, ghost))
    lines = domain.member_ids_by_line(text)
    assert lines == [(2, ours), (4, theirs), (5, free), (6, ghost), (7, "not-an-id")]
    untrusted = domain.foreign_members(lines, unit, {ours: unit, theirs: other, free: None})
    assert untrusted == {4: f"member_id: {theirs} is not a worker of this unit",
                         5: f"member_id: {free} is not a worker of this unit",
                         6: f"member_id: {ghost} is not a palace account (unknown member)"}
    assert domain.foreign_members(lines, unit, {}) == {
        line: f"member_id: {i} is not a palace account (unknown member)" for line, i in lines[:4]}, "none is trusted"
    ids = [f"1101051949123100{n}" for n in range(2, 8)]
    ids = [i + domain.national_id_check_digit(i) for i in ids]
    valid = "name,national_id,member_id\n" + "".join(
        f"{name},{nid},{member}\n" for name, nid, member in zip("ABCDEF", ids, (ours, "", theirs, free, ghost, "")))
    good, errors = domain.read_enrolment_csv(valid, {str(k): v for k, v in untrusted.items()})
    assert [line for line, _ in good] == [2, 3, 7]
    assert errors == [{"line": line, "errors": [why]} for line, why in untrusted.items()]
    assert domain.member_ids_by_line("name,national_id\nA,1\n") == []


def test_only_well_formed_phone_and_account_pairs_are_remembered():
    member = "7b2e2d8f-0000-4000-8000-000000000001"
    assert domain.known_accounts({"13912345678": member, "12345": member, "13812345678": "x"}) == [
        ("13912345678", member)]
    assert domain.known_accounts(None) == domain.known_accounts(["13912345678"]) == []
