"""The words a message uses for the values it carries, in each language; no I/O.

A message never shows a service's raw value ("approve", "confirmed"): a decision or an outcome is
looked up here, and a value this table does not know shows as a neutral word ("decided"), never
as itself. Times show with their weekday in the palace's zone ("11月24日 周二 19:00",
"Tue 24 Nov 19:00"); the year is left out of a time (a class, a booking, a deadline are weeks
away, not years) and kept in a date (a cover that starts on 1 January)."""
from datetime import datetime
from zoneinfo import ZoneInfo

from services.common.zone import HOME_ZONE_NAME

EN, ZH = "en", "zh-CN"

WEEKDAYS = {EN: ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
            ZH: ("周一", "周二", "周三", "周四", "周五", "周六", "周日")}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# a decision as the deciding service names it (welfare says "approve", enrolment "approved")
_APPROVED = {EN: "approved", ZH: "已批准"}
_DECLINED = {EN: "declined", ZH: "未获批准"}
_RETURNED = {EN: "returned for more information", ZH: "退回补充材料"}
_CLOSED = {EN: "closed", ZH: "已结案"}
DECISIONS = {"approve": _APPROVED, "approved": _APPROVED, "reject": _DECLINED, "rejected": _DECLINED,
             "declined": _DECLINED, "return": _RETURNED, "returned": _RETURNED, "close": _CLOSED,
             "closed": _CLOSED}
UNKNOWN_DECISION = {EN: "decided", ZH: "已处理"}

# how soon a welfare case wants an officer
PRIORITIES = {"urgent": {EN: "urgent", ZH: "紧急"}, "normal": {EN: "normal", ZH: "一般"}, "low": {EN: "low", ZH: "较低"}}
UNKNOWN_PRIORITY = {EN: "not set", ZH: "未定"}

# a member's own outcome of a lottery draw
OUTCOMES = {"confirmed": {EN: "you have a seat", ZH: "您已中签"},
            "waitlisted": {EN: "you did not win a seat and are on the waitlist", ZH: "您未中签，已进入候补"}}
UNKNOWN_OUTCOME = {EN: "your enrolments page shows your result", ZH: "结果请在“我的报名”中查看"}

# Why a room booking ended, by the machine `cause` venues puts on booking_cancelled and
# booking_released (and enrolment and welfare pass on with the session or appointment it cost).
CAUSES = {
    "cancelled_by_holder": {EN: "you cancelled it", ZH: "您本人取消"},
    "cancelled_by_manager": {EN: "cancelled by the venue manager", ZH: "场地管理员取消"},
    "replaced": {EN: "the room was rearranged", ZH: "场地另有安排"},
    "released_by_holder": {EN: "the room was released", ZH: "场地已释放"},
    "room_closed": {EN: "the room is closed", ZH: "场地关闭"},
    "no_show": {EN: "nobody checked in, so the room was released", ZH: "未按时签到，场地已释放"},
}

# The reasons enrolment writes itself, in English, into the `reason` of events that have no cause
# (a staff member's own words pass as they were typed); a prefix ends with ": " or "but ".
REASONS = {
    "the offer expired": {EN: "the offer expired", ZH: "确认期限已过"},
    "cancelled by the member": {EN: "you cancelled it", ZH: "您本人取消"},
    "cancelled by the palace": {EN: "cancelled by the palace", ZH: "文化宫取消"},
    "the new timetable overlaps another class you hold": {EN: "the new timetable overlaps another class of yours",
                                                          ZH: "新课表与您已报名的其他课程时间冲突"},
    "the room is no longer available": {EN: "the room is no longer available", ZH: "原场地无法使用"},
}
REASON_PREFIXES = {
    "not promoted: ": {EN: "the seat could not be given to you", ZH: "名额未能转给您"},
    "drawn, but ": {EN: "you were drawn, but the seat could not be given to you", ZH: "您已中签，但名额未能确认"},
}


def _language(language):
    return ZH if language == ZH else EN


def decision(value, language):
    return DECISIONS.get(str(value or "").lower(), UNKNOWN_DECISION)[_language(language)]


def priority(value, language):
    return PRIORITIES.get(str(value or "").lower(), UNKNOWN_PRIORITY)[_language(language)]


def outcome(value, language):
    return OUTCOMES.get(value, UNKNOWN_OUTCOME)[_language(language)]


def reason(text, language, cause=None, note=None):
    """A reason in the message's language. An event with a known `cause` is worded by it, with the
    `note` its author gave after it; one without (enrolment's own, or a venues from before causes)
    by the services' own sentences translated, anything else (a staff member's words) as typed."""
    words = CAUSES.get(str(cause)) if cause else None
    if words:
        said = words[_language(language)]
        if not note:
            return said
        return f"{said}：{note}" if _language(language) == ZH else f"{said}: {note}"
    if not text:
        return ""
    text = str(text)
    known = REASONS.get(text.strip().lower())
    if known is None:
        known = next((words for prefix, words in REASON_PREFIXES.items() if text.lower().startswith(prefix)), None)
    return known[_language(language)] if known else text


def _moment(value):
    """An ISO date or time read, or None for anything else."""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def when(value, language, zone=HOME_ZONE_NAME):
    """An ISO time as local wall-clock time with its weekday; anything else as it is."""
    if not value:
        return ""
    moment = _moment(value)
    if moment is None:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(zone))
    weekday = WEEKDAYS[_language(language)][moment.weekday()]
    if _language(language) == ZH:
        return f"{moment.month}月{moment.day}日 {weekday} {moment:%H:%M}"
    return f"{weekday} {moment.day} {MONTHS[moment.month - 1]} {moment:%H:%M}"


def day(value, language):
    """An ISO date (or the date of an ISO time) with its year; anything else as it is."""
    if not value:
        return ""
    moment = _moment(value)
    if moment is None:
        return str(value)
    found = moment.astimezone(ZoneInfo(HOME_ZONE_NAME)).date() if moment.tzinfo is not None else moment.date()
    if _language(language) == ZH:
        return f"{found.year}年{found.month}月{found.day}日"
    return f"{found.day} {MONTHS[found.month - 1]} {found.year}"
