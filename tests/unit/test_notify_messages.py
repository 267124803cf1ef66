"""Every message in both languages, rendered from representative payloads: a Chinese message holds
no English (no raw value, no service sentence, no untranslated key), an English one no raw value,
and every time carries its weekday."""
import re

import pytest

from services.notify import labels, templates

MEMBER = "7d1c0b8e-3f0a-4c55-9c0e-1b2a3c4d5e6f"
OTHER = "0b6f0c2e-9a1d-4e7b-8c3f-2d1e0f9a8b7c"
TUESDAY_EVENING = "2026-11-24T11:00:00+00:00"  # 19:00 in Shanghai, a Tuesday
LATER = "2026-11-24T13:00:00+00:00"

# what the services put in their events, with Chinese wherever a person wrote the words
FACTS = {
    "member_id": MEMBER, "course_title": "茶艺", "title": "茶艺", "topic": "书法", "room_name": "二号厅",
    "site_name": "工人文化宫", "programme_title": "困难职工帮扶", "programme": "困难帮扶", "plan_title": "2026年互助保障",
    "starts_at": TUESDAY_EVENING, "ends_at": LATER, "first_session_at": TUESDAY_EVENING,
    "old_starts_at": "2026-11-23T11:00:00+00:00", "new_starts_at": TUESDAY_EVENING, "expires_at": TUESDAY_EVENING,
    "draw_at": TUESDAY_EVENING, "position": 2, "amount": "1200", "amount_requested": "1500",
    "reference": "PAY-1", "code": "123456", "note": "请补交收入证明", "reason": "设备检修", "sessions": 8,
    "announced": True, "covered_from": "2027-01-01", "place": "二号厅", "seats": 1,
    "waiting_since": TUESDAY_EVENING, "sla_hours": 72, "capacity": 25, "priority": "urgent",
    "result": "the draw is done; your seat or waitlist place is in your enrolments",
    "confirmed_member_ids": [MEMBER], "waitlisted_member_ids": [OTHER], "member_ids": [MEMBER, OTHER],
    "address": "东城区工人文化宫北门", "session_count": 3, "due_at": TUESDAY_EVENING,
    "total_rows": 120, "enrolled_rows": 117, "bad_rows": 3, "failed": False, "unit_name": "第一机床厂工会",
}

# the raw values the services put in the fields a message speaks of
ENUMS = {
    "decision": ["approve", "approved", "reject", "rejected", "declined", "return", "returned", "close", "closed"],
    "status": ["confirmed", "waitlisted", "offered", "cancelled", "registered", "pending", "rejected", "released",
               "approved", "declined"],
    "state": ["scheduled", "room_lost", "cancelled", "approved", "rejected", "returned", "submitted"],
    "kind": ["hospital", "accident"],
    "priority": ["urgent", "normal", "low"],
    "cause": list(labels.CAUSES),  # venues' machine cause of a lost booking, with the note of FACTS
}
RAW = {value for values in ENUMS.values() for value in values}
SYSTEM_REASONS = [*labels.REASONS, *(prefix + "no seat left" for prefix in labels.REASON_PREFIXES)]
SENTINEL = "rawvalue_zz"


def variants():
    """The representative payload, then each enum value in turn, each service reason, nothing at all."""
    yield "facts", FACTS, MEMBER
    for field, values in ENUMS.items():
        for value in values:
            yield f"{field}={value}", {**FACTS, field: value}, MEMBER
    for reason in SYSTEM_REASONS:
        yield f"reason={reason}", {**FACTS, "reason": reason, "note": None}, MEMBER
    yield "waitlisted", FACTS, OTHER
    yield "not drawn", FACTS, "11111111-2222-4333-8444-555555555555"
    yield "empty", {}, None


def texts(message):
    return [message["title"], message["body"], *message["sms"]["params"].values()]


CASES = [(event_type, name, payload, member) for event_type in sorted(templates.CATALOGUE)
         for name, payload, member in variants()]


@pytest.mark.parametrize("event_type, name, payload, member", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_a_chinese_message_holds_no_english_and_no_raw_value(event_type, name, payload, member):
    message = templates.render(event_type, payload, "zh-CN", member)
    for text in texts(message):
        # PAY-1 is the payout's reference, as printed on the bank's statement
        english = re.findall(r"[A-Za-z_]{2,}", text.replace("PAY-1", ""))
        assert not english, f"{event_type} ({name}) in Chinese says {english}: {text}"


@pytest.mark.parametrize("event_type, name, payload, member", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_an_english_message_holds_no_raw_value_and_no_template_syntax(event_type, name, payload, member):
    message = templates.render(event_type, payload, "en", member)
    for text in (message["title"], message["body"]):
        words = set(re.findall(r"[A-Za-z_]+", text))
        assert not words & {"approve", "reject", "return", "close", "None", *(v for v in RAW if "_" in v)}, text
        assert "_" not in text and "{" not in text and "}" not in text, text
        assert "the draw is done" not in text, "a service's sentence is not the message"


@pytest.mark.parametrize("event_type", sorted(templates.CATALOGUE))
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_a_value_no_label_knows_never_shows_as_itself(event_type, language):
    payload = {**FACTS, **{field: SENTINEL for field in ENUMS}, "result": SENTINEL}
    for text in texts(templates.render(event_type, payload, language, MEMBER)):
        assert SENTINEL not in text


@pytest.mark.parametrize("event_type", [e for e, spec in sorted(templates.CATALOGUE.items())
                                        if "when" in " ".join(spec["zh"])])
def test_every_time_in_a_message_carries_its_weekday_in_shanghai(event_type):
    payload = {**FACTS, "old_starts_at": TUESDAY_EVENING}
    zh = templates.render(event_type, payload, "zh-CN", MEMBER)
    en = templates.render(event_type, payload, "en", MEMBER)
    assert "11月24日 周二 19:00" in zh["title"] + zh["body"], zh
    assert "Tue 24 Nov 19:00" in en["title"] + en["body"], en


@pytest.mark.parametrize("value, zh, en", [
    ("approve", "已批准", "approved"), ("approved", "已批准", "approved"), ("reject", "未获批准", "declined"),
    ("declined", "未获批准", "declined"), ("return", "退回补充材料", "returned for more information"),
    ("close", "已结案", "closed"), ("something new", "已处理", "decided"), (None, "已处理", "decided"),
])
def test_a_decision_is_told_in_words(value, zh, en):
    assert (labels.decision(value, "zh-CN"), labels.decision(value, "en")) == (zh, en)


def test_a_lottery_result_is_the_members_own():
    won = templates.render("enrolment.lottery_drawn", FACTS, "zh-CN", MEMBER)
    assert won["body"] == "《茶艺》抽签已完成：您已中签。" and won["sms"]["params"]["result"] == "您已中签"
    lost = templates.render("enrolment.lottery_drawn", FACTS, "en", OTHER)
    assert lost["body"] == "The lottery for 茶艺 was drawn: you did not win a seat and are on the waitlist."


def test_the_services_own_reasons_are_translated_and_staff_words_kept():
    assert labels.reason("the offer expired", "zh-CN") == "确认期限已过"
    assert labels.reason("not promoted: the class is full", "zh-CN") == "名额未能转给您"
    assert labels.reason("设备检修", "en") == "设备检修" and labels.reason("pipes burst", "zh-CN") == "pipes burst"


def test_a_room_booking_lost_is_worded_by_its_cause_with_the_words_given():
    assert labels.reason("closed: 停电", "zh-CN", "room_closed", "停电") == "场地关闭：停电"
    assert labels.reason("replaced by enrolment", "zh-CN", "replaced") == "场地另有安排"
    assert labels.reason("not checked in: the room was released", "en", "no_show") == (
        "nobody checked in, so the room was released")
    # an event from a venues before causes, or a cause this notify does not know yet: the words as sent
    assert labels.reason("设备检修", "zh-CN", None) == labels.reason("设备检修", "zh-CN", "rewired") == "设备检修"


@pytest.mark.parametrize("event_type", ["venues.booking_cancelled", "enrolment.session_cancelled",
                                        "welfare.counselling_cancelled"])
def test_a_message_of_a_lost_room_says_its_cause_in_the_members_language(event_type):
    payload = {**FACTS, "reason": "closed: burst pipe", "cause": "room_closed", "note": "水管爆裂"}
    assert "场地关闭：水管爆裂" in templates.render(event_type, payload, "zh-CN", MEMBER)["body"]
    assert "the room is closed: 水管爆裂" in templates.render(event_type, payload, "en", MEMBER)["body"]


def test_a_date_keeps_its_year_and_a_time_its_weekday():
    assert labels.day("2027-01-01", "zh-CN") == "2027年1月1日" and labels.day("2027-01-01", "en") == "1 Jan 2027"
    assert labels.when("2026-11-24T11:00:00Z", "zh-CN") == "11月24日 周二 19:00"
    assert labels.when("not a time", "en") == "not a time" and labels.when(None, "en") == ""


def test_a_message_is_chinese_unless_asked_otherwise():
    assert templates.render("enrolment.enrolment_confirmed", FACTS)["title"] == "报名成功：茶艺"
    assert templates.render("enrolment.enrolment_confirmed", FACTS, "fr")["title"] == "报名成功：茶艺"
    sms = templates.render("enrolment.enrolment_confirmed", FACTS, "en")["sms"]
    assert sms["params"] == {"course": "茶艺", "time": "11月24日 周二 19:00"}, "the approved SMS template is Chinese"
