from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify import domain, templates

PAYLOAD = {"course_title": "Paper cutting", "position": 3}
SH = ZoneInfo("Asia/Shanghai")
QUIET = {"start": "22:00", "end": "08:00"}


def at(hour, minute=0, day=21):
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


# the messages of a seat and a place in line


def test_a_confirmed_seat_names_the_course():
    message = templates.render("enrolment.enrolment_confirmed", PAYLOAD, "en")
    assert "Paper cutting" in message["title"] and "confirmed" in message["body"]


def test_a_waitlisted_member_is_told_the_position():
    message = templates.render("enrolment.enrolment_waitlisted", PAYLOAD, "en")
    assert "number 3" in message["body"]


def test_an_event_without_a_message_is_refused():
    with pytest.raises(KeyError):
        templates.render("enrolment.something_else", PAYLOAD, "en")


# quiet hours


@pytest.mark.parametrize("now, release", [
    (at(21, 59), None),
    (at(22, 0), at(8, 0, day=22)),
    (at(23, 30), at(8, 0, day=22)),
    (at(3, 0), at(8, 0)),
    (at(7, 59), at(8, 0)),
    (at(8, 0), None),
    (at(12, 0), None),
])
def test_quiet_hours_wrap_midnight_and_end_in_the_morning(now, release):
    assert domain.quiet_release(now, QUIET) == release


def test_quiet_hours_are_read_in_the_members_zone_whatever_zone_the_clock_gives():
    utc_evening = datetime(2026, 11, 21, 15, 0, tzinfo=timezone.utc)  # 23:00 in Shanghai
    assert domain.quiet_release(utc_evening, QUIET) == at(8, 0, day=22)
    assert domain.quiet_release(utc_evening, QUIET, zone="Europe/Paris") is None  # 16:00 there


def test_quiet_hours_within_one_day_and_none():
    assert domain.quiet_release(at(13, 30), {"start": "13:00", "end": "14:00"}) == at(14, 0)
    assert domain.quiet_release(at(14, 0), {"start": "13:00", "end": "14:00"}) is None
    assert domain.quiet_release(at(23, 0), {"start": "22:00", "end": "22:00"}) is None
    assert domain.quiet_release(at(23, 0), None) is None


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(SH)))
def test_a_held_message_is_released_within_the_night_and_never_inside_the_quiet_hours(now):
    release = domain.quiet_release(now, QUIET)
    if release is not None:
        assert now < release <= now + timedelta(hours=10)
        assert domain.quiet_release(release, QUIET) is None


def test_routine_messages_wait_for_morning_and_urgent_ones_go_at_once():
    night = at(23, 0)
    assert domain.send_at(night, urgent=False, quiet_hours=QUIET) == at(8, 0, day=22)
    assert domain.send_at(night, urgent=True, quiet_hours=QUIET) == night
    assert domain.send_at(at(10, 0), urgent=False, quiet_hours=QUIET) == at(10, 0)


# urgency


def test_a_class_cancelled_tonight_is_urgent_one_next_month_is_not():
    now = at(22, 30)
    tonight = {"starts_at": at(23, 30).isoformat()}
    tomorrow_morning = {"starts_at": at(9, 0, day=22).isoformat()}
    next_month = {"starts_at": (now + timedelta(days=30)).isoformat()}
    assert domain.is_urgent("if_soon", tonight, now)
    assert domain.is_urgent("if_soon", tomorrow_morning, now), "holding it until 08:00 would be too late"
    assert not domain.is_urgent("if_soon", next_month, now)
    assert not domain.is_urgent("if_soon", {}, now), "no time given: nothing says it is urgent"
    assert not domain.is_urgent("if_soon", {"starts_at": "2026-11-21T23:00:00"}, now), "naive times are ignored"
    assert domain.is_urgent("always", {}, now) and not domain.is_urgent("never", tonight, now)


def test_the_soonest_of_the_times_decides():
    payload = {"starts_at": at(20, 0, day=28).isoformat(), "new_starts_at": at(23, 0).isoformat()}
    assert domain.soonest_start(payload) == at(23, 0)


# frequency cap


def test_the_daily_cap_stops_routine_messages_but_never_urgent_ones():
    assert domain.within_cap(9, 10, urgent=False)
    assert not domain.within_cap(10, 10, urgent=False)
    assert domain.within_cap(50, 10, urgent=True)
    assert not domain.within_cap(0, 0, urgent=False)
    assert domain.within_cap(1000, None, urgent=False)


def test_the_cap_counts_the_local_day():
    start, end = domain.local_day(datetime(2026, 11, 21, 17, 0, tzinfo=timezone.utc))  # 01:00 on the 22nd
    assert (start, end) == (at(0, 0, day=22), at(0, 0, day=23))


# pacing


def test_a_members_messages_go_a_gap_apart_and_the_first_goes_when_due():
    gap = timedelta(seconds=60)
    assert domain.paced(at(19), None, gap, urgent=False) == at(19), "nothing sent lately"
    assert domain.paced(at(19), at(19), gap, urgent=False) == at(19, 1)
    assert domain.paced(at(19), at(18, 59) + timedelta(seconds=30), gap, urgent=False) == at(19) + timedelta(seconds=30)
    assert domain.paced(at(19), at(18, 30), gap, urgent=False) == at(19), "long enough ago"


def test_the_mornings_held_messages_are_spaced_not_released_at_once():
    gap, morning = timedelta(seconds=60), at(8, day=22)
    slot = None
    for expected in (at(8, 0, day=22), at(8, 1, day=22), at(8, 2, day=22)):
        slot = domain.paced(domain.send_at(at(23), False, QUIET), slot, gap, urgent=False)
        assert slot == expected
    assert slot > morning


def test_an_urgent_message_is_never_paced_and_no_gap_paces_nothing():
    assert domain.paced(at(19), at(19), timedelta(seconds=60), urgent=True) == at(19)
    assert domain.paced(at(19), at(19), timedelta(0), urgent=False) == at(19)


# channels


def test_the_first_chosen_channel_with_an_address_goes_first_and_the_rest_are_failovers():
    contacts = {"phone": "13900000001", "email": None, "wechat_openid": "oX1"}
    assert domain.route(["wechat", "sms", "email"], contacts) == [("wechat", "oX1"), ("sms", "13900000001")]
    assert domain.route(["email"], contacts) == []
    assert domain.route(["sms", "sms"], contacts) == [("sms", "13900000001")]
    chosen = domain.route(["wechat", "sms"], contacts)
    assert domain.next_channel(chosen, "wechat") == ("sms", "13900000001")
    assert domain.next_channel(chosen, "sms") is None


def test_recipients_are_each_member_once_and_an_event_for_nobody_goes_to_nobody():
    a, b = "2b6f0f5e-1c1d-4e52-9c1a-5f0e6b3c1a01", "2b6f0f5e-1c1d-4e52-9c1a-5f0e6b3c1a02"
    assert domain.recipients({"member_id": a, "member_ids": [b, a.upper()]}) == [a, b]
    assert domain.recipients({"room_id": "x"}) == []
    with pytest.raises(ValueError):
        domain.recipients({"member_id": "nobody"})


# retries


def test_backoff_doubles_up_to_a_ceiling_with_half_of_it_random():
    assert [domain.backoff(k, 2, 60, 0.0) for k in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert [domain.backoff(k, 2, 60, 0.999999) for k in (1, 2, 3)] == pytest.approx([2, 4, 8], rel=1e-5)
    assert domain.backoff(20, 2, 60, 0.5) == 45


@given(st.integers(min_value=1, max_value=40), st.floats(min_value=0, max_value=0.999999))
def test_backoff_stays_between_half_the_step_and_the_step(attempt, rand):
    step = min(300, 5 * 2 ** (attempt - 1))
    assert step / 2 <= domain.backoff(attempt, 5, 300, rand) <= step


def test_what_is_retried_and_what_fails_for_good():
    assert domain.retryable(status=429) and domain.retryable(status=503) and domain.retryable(error="reset")
    assert not domain.retryable(status=400) and not domain.retryable(status=403)
    assert domain.after_failure(1, 4, True, 1, 60, 0.0) == ("retry", 0.5)
    assert domain.after_failure(4, 4, True, 1, 60, 0.0) == ("failed", None)
    assert domain.after_failure(1, 4, False, 1, 60, 0.0) == ("failed", None)


# preferences and reminders


def test_preferences_default_and_merge_one_category_at_a_time():
    merged = domain.merge_preferences({"daily_cap": 3, "categories": {"rooms": ["sms"]}},
                                      {"categories": {"welfare": ["email"]}, "language": "zh-CN"})
    assert merged["daily_cap"] == 3 and merged["language"] == "zh-CN"
    assert merged["categories"] == {"classes": ["wechat", "sms"], "rooms": ["sms"], "welfare": ["email"],
                                    "reminders": ["wechat", "sms"]}
    assert merged["quiet_hours"] == QUIET


def test_only_what_differs_from_the_defaults_is_stored_so_a_saved_form_does_not_pin_a_default():
    form = {**domain.default_preferences(QUIET), "daily_cap": 3}  # the app sends every field
    assert domain.chosen(None, form, QUIET) == {"daily_cap": 3}
    assert domain.chosen({"daily_cap": 3}, {"language": "en", "categories": {"rooms": ["sms"]}}, QUIET) == {
        "daily_cap": 3, "language": "en", "categories": {"rooms": ["sms"]}}
    assert domain.chosen({"language": "en"}, {"language": "zh-CN"}, QUIET) == {}, "back to the default"
    assert domain.merge_preferences(domain.chosen(None, form, QUIET), None, QUIET)["language"] == "zh-CN"


def test_a_reminder_is_due_its_lead_before_the_start_or_at_once_when_that_has_passed():
    lead = timedelta(hours=24)
    now = at(10, 0)
    assert domain.reminder_due(at(19, 0, day=25), lead, now) == at(19, 0, day=24)
    assert domain.reminder_due(at(19, 0), lead, now) == now
    assert domain.reminder_due(at(9, 0), lead, now) is None


# templates


@pytest.mark.parametrize("event_type", sorted(templates.CATALOGUE))
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_every_template_renders_from_an_empty_payload_and_from_a_full_one(event_type, language):
    empty = templates.render(event_type, {}, language)
    assert empty["title"] and empty["body"] and empty["sms"]["template_id"].startswith("SMS_PALACE_")
    full = templates.render(event_type, {
        "course_title": "Erhu", "room_name": "Hall A", "title": "Erhu", "starts_at": "2026-11-21T11:00:00+00:00",
        "ends_at": "2026-11-21T13:00:00+00:00", "amount": "1200", "decision": "approved", "position": 2,
        "reason": "repairs", "reference": "PAY-1"}, language)
    assert "None" not in full["body"] and "{" not in full["body"]


def test_times_are_shown_in_shanghai_and_money_in_yuan():
    rendered = templates.render("venues.booking_confirmed", {
        "room_name": "Hall A", "starts_at": "2026-11-21T11:00:00+00:00", "ends_at": "2026-11-21T13:00:00Z"}, "en")
    assert rendered["body"] == "Hall A is yours from Sat 21 Nov 19:00 to Sat 21 Nov 21:00."
    assert templates.render("welfare.payout_made", {"amount": 1234.5}, "zh-CN")["title"] == "款项已发放：¥1,234.50"


def test_templates_cannot_reach_python_internals():
    rendered = templates.render("enrolment.enrolment_confirmed", {"course_title": "{{ ''.__class__ }}"}, "en")
    assert rendered["title"] == "Seat confirmed: {{ ''.__class__ }}", "payload text is data, not a template"


def test_a_session_that_lost_its_room_is_not_told_as_moved():
    payload = {"course_title": "Erhu", "starts_at": "2026-11-21T11:00:00+00:00",
               "old_starts_at": "2026-11-21T11:00:00+00:00", "state": "room_lost", "reason": "burst pipe"}
    lost = templates.render("enrolment.session_moved", payload, "en")
    assert lost["title"] == "Class affected: Erhu"
    assert lost["body"].startswith("The Erhu session of Sat 21 Nov 19:00 cannot take place as planned: burst pipe.")
    moved = templates.render("enrolment.session_moved", {**payload, "state": "scheduled", "reason": None,
                                                         "old_starts_at": "2026-11-20T11:00:00+00:00"}, "zh-CN")
    assert moved["title"] == "上课时间变更：Erhu" and "改为 11月21日 周六 19:00" in moved["body"]


def test_the_real_payloads_of_enrolment_and_venues_render_their_facts():
    course = templates.render("enrolment.course_cancelled", {"course_id": "c", "course": {}, "title": "Yoga",
                                                             "member_ids": [], "reason": "no teacher"}, "en")
    assert course["title"] == "Class cancelled: Yoga" and "no teacher" in course["body"]
    closed = templates.render("venues.room_closed", {"site_name": "Workers' Home 3", "room_name": None,
                                                     "starts_at": "2026-11-21T11:00:00+00:00", "reason": "repairs"},
                              "en")
    assert closed["title"] == "Room closed: Workers' Home 3"
    offer = templates.render("enrolment.offer_made", {"course_title": "Erhu",
                                                      "expires_at": "2026-11-21T11:00:00+00:00"}, "en")
    assert "before Sat 21 Nov 19:00" in offer["body"]


def test_a_lottery_entry_is_confirmed_with_the_draw_time():
    entered = {"course_title": "Erhu", "status": "registered", "draw_at": "2026-11-21T11:00:00+00:00"}
    assert templates.render("enrolment.lottery_interest_registered", entered, "en")["body"] == (
        "You are entered in the lottery for Erhu. The draw is on Sat 21 Nov 19:00; we will tell you whether you"
        " have a seat.")
    assert "抽签时间：11月21日 周六 19:00" in templates.render("enrolment.lottery_interest_registered", entered,
                                                        "zh-CN")["body"]


def test_a_timetable_given_later_or_changed_is_told_with_the_next_class_and_room():
    timetable = {"course_title": "Erhu", "announced": True, "first_session_at": "2026-11-24T11:00:00+00:00",
                 "sessions": 8, "room_name": "Room 2", "site_name": "Palace"}
    out = templates.render("enrolment.course_rescheduled", timetable, "en")
    assert out["title"] == "Timetable out: Erhu"
    assert "next class is on Tue 24 Nov 19:00 in Room 2, Palace. Classes to come: 8." in out["body"]
    changed = templates.render("enrolment.course_rescheduled", {**timetable, "announced": False}, "zh-CN")
    assert changed["title"] == "课表调整：Erhu" and "地点：Palace Room 2" in changed["body"]


def test_a_session_moved_to_another_room_or_cancelled_says_which():
    gone = templates.render("enrolment.session_cancelled", {"course_title": "Erhu", "reason": "burst pipe",
                                                             "starts_at": "2026-11-21T11:00:00+00:00"}, "en")
    assert gone["title"] == "Class cancelled: Erhu on Sat 21 Nov 19:00" and "(burst pipe)" in gone["body"]
    moved = templates.render("enrolment.session_moved", {
        "course_title": "Erhu", "state": "scheduled", "room_name": "Room 5", "starts_at": "2026-11-21T11:00:00+00:00",
        "old_starts_at": "2026-11-21T11:00:00+00:00"}, "en")
    assert moved["title"] == "Class moved: Erhu" and "now takes place on Sat 21 Nov 19:00 in Room 5" in moved["body"]


def test_the_default_quiet_hours_are_a_setting_and_off_holds_nothing():
    night = datetime(2026, 11, 21, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    default = domain.merge_preferences(None, None)["quiet_hours"]
    assert default == {"start": "22:00", "end": "08:00"} and domain.quiet_release(night, default) is not None
    off = domain.merge_preferences(None, None, {"start": "00:00", "end": "00:00"})["quiet_hours"]
    assert domain.quiet_release(night, off) is None
    chosen = domain.merge_preferences({"quiet_hours": {"start": "21:00", "end": "07:00"}}, None, off)
    assert chosen["quiet_hours"] == {"start": "21:00", "end": "07:00"}, "a member's own choice wins"
