import uuid
from datetime import date, datetime, time, timedelta, timezone

import pytest

from services.common.zone import HOME_ZONE
from services.enrolment import domain

NOW = datetime(2027, 3, 1, 19, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("capacity, confirmed, expected", [
    (30, 0, domain.CONFIRMED),
    (30, 29, domain.CONFIRMED),
    (30, 30, domain.WAITLISTED),
    (1, 1, domain.WAITLISTED),
])
def test_a_free_seat_is_confirmed_and_a_full_class_waitlists(capacity, confirmed, expected):
    assert domain.allocate(domain.Seats(capacity, confirmed)) == expected


def test_seats_left_never_goes_negative():
    assert domain.Seats(10, 12).left == 0


def test_enrolment_is_refused_before_the_class_opens():
    problem = domain.enrolment_window_problem(NOW, NOW + timedelta(hours=1), None)
    assert problem and "opens" in problem


def test_enrolment_is_refused_once_the_class_has_closed():
    problem = domain.enrolment_window_problem(NOW, NOW - timedelta(days=7), NOW - timedelta(seconds=1))
    assert problem and "closed" in problem


def test_enrolment_is_open_inside_the_window():
    assert domain.enrolment_window_problem(NOW, NOW - timedelta(days=1), NOW + timedelta(days=1)) is None
    assert domain.enrolment_window_problem(NOW, NOW, None) is None


# group entries, states, eligibility

def test_a_group_entry_is_confirmed_only_when_all_its_seats_are_free():
    assert domain.allocate(domain.Seats(10, 8), 2) == domain.CONFIRMED
    assert domain.allocate(domain.Seats(10, 9), 2) == domain.WAITLISTED


def test_a_lottery_course_registers_interest_until_it_is_drawn():
    seats = domain.Seats(10, 0)
    assert domain.entry_status(domain.LOTTERY, False, seats) == domain.REGISTERED
    assert domain.entry_status(domain.LOTTERY, True, seats) == domain.CONFIRMED
    assert domain.entry_status(domain.FIRST_COME, False, domain.Seats(1, 1)) == domain.WAITLISTED


@pytest.mark.parametrize("state, refused", [("draft", True), ("cancelled", True), ("published", False)])
def test_only_a_published_course_takes_enrolments(state, refused):
    assert bool(domain.course_state_problem(state)) is refused


@pytest.mark.parametrize("seats, limit, ok", [(1, 1, True), (2, 2, True), (3, 2, False), (0, 2, False)])
def test_a_group_entry_stays_within_the_course_limit(seats, limit, ok):
    assert (domain.group_problem(seats, limit) is None) is ok


def test_age_is_counted_in_whole_years_on_the_day():
    assert domain.age_on(date(2000, 3, 2), date(2027, 3, 1)) == 26
    assert domain.age_on(date(2000, 3, 1), date(2027, 3, 1)) == 27


def eligibility(**kw):
    base = dict(min_age=None, max_age=None, unit_ids=None, birth_date=None, unit_id=None, today=date(2027, 3, 1))
    return domain.eligibility_problem(**{**base, **kw})


def test_a_course_without_restrictions_takes_everyone():
    assert eligibility() is None


def test_an_age_restricted_course_needs_a_birth_date_and_checks_it():
    assert "birth_date" in eligibility(min_age=60)
    assert "60 and over" in eligibility(min_age=60, birth_date=date(1970, 1, 1))
    assert eligibility(min_age=60, birth_date=date(1960, 1, 1)) is None
    assert "12 and under" in eligibility(max_age=12, birth_date=date(2010, 1, 1))
    assert eligibility(max_age=12, birth_date=date(2020, 1, 1)) is None


def test_a_branch_restricted_course_takes_only_its_branches():
    unit = "6f1c0a3e-0000-4000-8000-000000000001"
    assert "branches" in eligibility(unit_ids=[unit])
    assert "branches" in eligibility(unit_ids=[unit], unit_id="6f1c0a3e-0000-4000-8000-000000000002")
    assert eligibility(unit_ids=[unit], unit_id=unit) is None


# cancellation and the line

def test_a_member_gives_up_a_seat_only_before_the_cut_off():
    assert domain.member_cancel_problem(domain.CONFIRMED, NOW, NOW + timedelta(hours=1)) is None
    assert "before" in domain.member_cancel_problem(domain.CONFIRMED, NOW, NOW)
    assert domain.member_cancel_problem(domain.CONFIRMED, NOW, None) is None


def test_a_waitlist_place_or_an_offer_can_be_left_at_any_time_but_not_twice():
    assert domain.member_cancel_problem(domain.WAITLISTED, NOW, NOW - timedelta(days=1)) is None
    assert domain.member_cancel_problem(domain.OFFERED, NOW, NOW - timedelta(days=1)) is None
    assert "already" in domain.member_cancel_problem(domain.CANCELLED, NOW, None)


def test_the_cut_off_defaults_to_the_first_session():
    assert domain.default_cutoff(NOW) == NOW and domain.default_cutoff(None) is None


def test_the_line_moves_head_first_and_is_never_jumped():
    line = [("a", 1), ("b", 2), ("c", 1)]
    assert domain.next_in_line(line, 0) == []
    assert domain.next_in_line(line, 1) == ["a"]
    assert domain.next_in_line(line, 2) == ["a"], "b needs two seats; c may not jump it"
    assert domain.next_in_line(line, 4) == ["a", "b", "c"]


def test_an_offer_expires_after_its_hours():
    assert domain.offer_expiry(NOW, 24) == NOW + timedelta(days=1)


# sessions

def test_a_weekly_pattern_covers_the_term_and_skips_holidays_in_shanghai_time():
    # 2027-04-05 (Qingming) is a Monday holiday
    times = domain.weekly_sessions(date(2027, 3, 29), date(2027, 4, 14), [date(2027, 4, 5)], [1, 3],
                                   time(19, 0), 90)
    starts = [b.astimezone(HOME_ZONE) for b, _ in times]
    assert [s.date() for s in starts] == [date(2027, 3, 29), date(2027, 3, 31), date(2027, 4, 7),
                                          date(2027, 4, 12), date(2027, 4, 14)]
    assert all(s.hour == 19 and s.minute == 0 for s in starts)
    assert times[0][0].utcoffset() == timedelta(0) and times[0][0].hour == 11
    assert all(e - b == timedelta(minutes=90) for b, e in times)


def test_a_weekly_pattern_needs_weekdays_and_a_duration():
    with pytest.raises(ValueError):
        domain.weekly_sessions(date(2027, 3, 1), date(2027, 3, 31), [], [], time(19), 60)
    with pytest.raises(ValueError):
        domain.weekly_sessions(date(2027, 3, 1), date(2027, 3, 31), [], [1], time(19), 0)


def test_explicit_sessions_must_end_after_they_start_and_not_overlap():
    hour = timedelta(hours=1)
    assert domain.explicit_sessions_problem([(NOW, NOW + hour), (NOW + 2 * hour, NOW + 3 * hour)]) is None
    assert "end after" in domain.explicit_sessions_problem([(NOW, NOW)])
    assert "overlap" in domain.explicit_sessions_problem([(NOW, NOW + 2 * hour), (NOW + hour, NOW + 3 * hour)])


def test_sessions_overlap_only_when_they_share_time():
    hour = timedelta(hours=1)
    a = (NOW, NOW + hour)
    assert domain.overlaps(a, (NOW + hour / 2, NOW + 2 * hour))
    assert not domain.overlaps(a, (NOW + hour, NOW + 2 * hour)), "back to back is fine"


# the lottery

def entries(n, priority=lambda i: True, seats=lambda i: 1):
    return [{"enrolment_id": f"e{i:03d}", "member_id": f"m{i:03d}", "seats": seats(i), "priority": priority(i)}
            for i in range(n)]


def test_the_same_seed_and_inputs_give_the_same_draw_whatever_their_order():
    inputs = entries(40)
    first = domain.draw("seed-1", inputs, 10)
    assert domain.draw("seed-1", list(reversed(inputs)), 10) == first
    assert domain.draw("seed-2", inputs, 10) != first


def test_the_draw_fills_the_seats_and_waitlists_the_rest_in_draw_order():
    result = domain.draw("s", entries(25), 10)
    assert [r["rank"] for r in result] == list(range(1, 26))
    assert [r["outcome"] for r in result] == [domain.CONFIRMED] * 10 + [domain.WAITLISTED] * 15
    assert sorted(r["member_id"] for r in result) == [f"m{i:03d}" for i in range(25)]


def test_members_with_no_seat_this_term_are_drawn_first():
    result = domain.draw("s", entries(20, priority=lambda i: i % 2 == 0), 10)
    assert {r["member_id"] for r in result if r["outcome"] == domain.CONFIRMED} == {f"m{i:03d}" for i in range(0, 20, 2)}


def test_a_group_that_does_not_fit_waits_and_a_smaller_entry_may_take_the_seat():
    result = domain.draw("s", entries(2, seats=lambda i: 2 if i == 0 else 1), 1)
    outcome = {r["member_id"]: r["outcome"] for r in result}
    assert outcome == {"m000": domain.WAITLISTED, "m001": domain.CONFIRMED}


def test_the_seed_is_recomputable_from_course_and_draw_time():
    assert domain.lottery_seed("c1", NOW) == domain.lottery_seed("c1", NOW) != domain.lottery_seed("c2", NOW)


# attendance, strikes, certificates

def test_check_in_is_open_from_an_hour_before_until_the_day_ends():
    assert "opens" in domain.attendance_problem(NOW, NOW - timedelta(hours=2), "check_in")
    assert domain.attendance_problem(NOW, NOW - timedelta(minutes=30), "check_in") is None
    assert "closed" in domain.attendance_problem(NOW, NOW + timedelta(hours=13), "check_in")
    assert domain.attendance_problem(NOW, NOW + timedelta(days=3), "teacher") is None
    assert domain.attendance_problem(NOW, NOW - timedelta(hours=2), "teacher")


def test_n_strikes_block_enrolment_for_the_period_after_the_last():
    strikes = [NOW - timedelta(days=10), NOW - timedelta(days=5), NOW - timedelta(days=1)]
    assert domain.blocked_until(strikes[:2], NOW, 3, 30) is None
    assert domain.blocked_until(strikes, NOW, 3, 30) == strikes[-1] + timedelta(days=30)
    assert domain.blocked_until(strikes, NOW + timedelta(days=40), 3, 30) is None


def test_strikes_block_per_term_and_the_longest_block_counts_even_when_read_through_json():
    spring = [NOW - timedelta(days=9), NOW - timedelta(days=8)]
    autumn = [(NOW - timedelta(days=3)).isoformat(), (NOW - timedelta(days=2)).isoformat()]
    assert domain.block_end([spring, autumn], NOW, 2, 30) == NOW - timedelta(days=2) + timedelta(days=30)
    assert domain.block_end([spring, autumn[:1]], NOW, 2, 30) == spring[-1] + timedelta(days=30)
    assert domain.block_end([spring[:1], autumn[:1]], NOW, 2, 30) is None
    assert domain.block_end([], NOW, 2, 30) is None


def test_a_certificate_needs_a_seat_the_course_finished_and_enough_attendance():
    assert domain.certificate_problem(domain.CONFIRMED, 8, 10, 0.8) is None
    assert "70%" in domain.certificate_problem(domain.CONFIRMED, 7, 10, 0.8)
    assert domain.certificate_problem(domain.WAITLISTED, 10, 10, 0.8)
    assert "no sessions" in domain.certificate_problem(domain.CONFIRMED, 0, 0, 0.8)
    assert "still to come" in domain.certificate_problem(domain.CONFIRMED, 5, 5, 0.8, remaining=2)
    assert domain.attendance_rate(0, 0) == 0.0


def test_a_class_request_is_decided_once():
    assert domain.decision_problem("pending") is None
    assert "already approved" in domain.decision_problem("approved")


def test_an_approved_request_makes_the_course_the_unit_asked_for_with_what_the_admin_adds():
    site, unit = uuid.uuid4(), uuid.uuid4()
    request = {"title": "茶艺", "capacity": 20, "site_id": site, "unit_id": unit, "category": "arts",
               "description": None}
    assert domain.requested_course(request) == {"title": "茶艺", "capacity": 20, "site_id": str(site),
                                                "unit_ids": [str(unit)], "category": "arts"}
    added = domain.requested_course(request, {"capacity": 30, "publish": False})
    assert added["capacity"] == 30 and added["publish"] is False and added["title"] == "茶艺"


def test_a_new_timetable_for_a_published_course_starts_after_now():
    hour = timedelta(hours=1)
    assert domain.retimed_sessions_problem([(NOW + hour, NOW + 2 * hour)], NOW) is None
    assert domain.retimed_sessions_problem([], NOW) is None
    problem = domain.retimed_sessions_problem([(NOW + hour, NOW + 2 * hour), (NOW, NOW + hour),
                                               (NOW - 9 * hour, NOW - 8 * hour)], NOW)
    assert problem.startswith((NOW - 9 * hour).isoformat()) and "from now on" in problem


def test_an_edit_without_if_match_applies_to_whatever_is_there():
    assert domain.stale_edit_problem(7, None) is None


def test_an_edit_of_the_version_read_applies():
    assert domain.stale_edit_problem(7, [6, 7]) is None


def test_an_edit_of_an_older_version_is_refused_naming_the_current_one():
    assert "version 7" in domain.stale_edit_problem(7, [6])
    assert domain.stale_edit_problem(7, []) is not None  # If-Match named no version of ours


def test_a_course_s_staff_side_is_its_teachers_and_the_admins():
    mine, other = "7f1c4f7e-0000-4000-8000-000000000001", "7f1c4f7e-0000-4000-8000-000000000002"
    assert domain.runs_course({"admin"}, other, [mine])
    assert domain.runs_course({"teacher"}, mine, [uuid.UUID(mine)]), "ids as text or UUID alike"
    assert not domain.runs_course({"teacher"}, other, [mine]), "a teacher of another course"
    assert not domain.runs_course({"member"}, mine, [mine]), "named, but no longer a teacher"
    assert not domain.runs_course({"teacher"}, None, [])
    assert domain.runs_course({"desk"}, other, [mine], readers=("admin", "desk"))
    assert not domain.runs_course({"desk"}, other, [mine])


def test_a_teacher_who_makes_a_course_is_always_among_its_teachers():
    me, colleague = "a", "b"
    assert domain.with_teacher(None, me) == [me]
    assert domain.with_teacher([colleague, me], me) == [me, colleague]
