"""The message of each event type, per language, as Jinja2 templates; no I/O.

Payloads come from services built separately, so every template renders from whatever fields are
present: a missing field renders empty (or the template's `or` fallback), never an error.
Each language has its own filters (services/notify/labels.py): `when` (a time with its weekday),
`day`, `money`, `decision`, `outcome` and `reason`, so a template never shows a raw value.
SMS templates name the provider's pre-approved template id and its parameters, in Chinese (Chinese
SMS providers only send approved templates, and the palace's are Chinese); WeChat template
messages carry the same parameters as the keyword fields of the template of the same name (WX_...),
in WeChat's current format: `{"thing1": {"value": ...}}`, no `first` or `remark`, each value within
its field type's limit."""
from decimal import Decimal, InvalidOperation
from functools import partial

from jinja2 import ChainableUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from services.common.roles import ADMIN, VENUE_MANAGER
from services.notify import labels
from services.notify.domain import DEFAULT_LANGUAGE, LANGUAGES


def _money(value):
    if value in (None, ""):
        return ""
    try:
        return f"¥{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def _environment(language):
    def reason(text, cause=None, note=None):  # `reason | reason(cause, note)`: worded by the cause if known
        return labels.reason(text, language, cause, note)

    env = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False, trim_blocks=True)
    env.filters.update(money=_money, when=partial(labels.when, language=language),
                       day=partial(labels.day, language=language),
                       decision=partial(labels.decision, language=language),
                       outcome=partial(labels.outcome, language=language),
                       priority=partial(labels.priority, language=language),
                       reason=reason)
    return env


_envs = {language: _environment(language) for language in LANGUAGES}

COURSE = "course_title or title or 'your class'"
COURSE_ZH = "course_title or title or '课程'"
ROOM = "room_name or room_title or site_name or title or 'your room'"
ROOM_ZH = "room_name or room_title or site_name or title or '场地'"
LOST = "{% if state in ('room_lost', 'cancelled') %}"  # a session that keeps its time but cannot take place
PROGRAMME = "programme_title or 'your application'"  # `programme` is its code: not for members' eyes
PROGRAMME_ZH = "programme_title or '申请'"
PLAN = "plan_title or 'the mutual-aid plan'"
PLAN_ZH = "plan_title or '互助保障计划'"
UNIT = "unit_name or 'A union branch'"  # the unit's name as the palace admin wrote it
UNIT_ZH = "unit_name or '工会单位'"
REMINDED = "title or 'Your class or booking'"
REMINDED_ZH = "title or '您的课程或预约'"


def t(expr):
    return "{{ " + expr + " }}"


# event type -> category, urgency ("always" | "if_soon" | "never"), per language (title, body),
# the SMS provider's template id with its parameters, the WeChat template id
CATALOGUE = {
    # enrolment
    "enrolment.enrolment_confirmed": dict(
        category="classes", urgency="never",
        en=(f"Seat confirmed: {t(COURSE)}", f"Your seat in {t(COURSE)} is confirmed. See you in class."
            f"{{% if first_session_at %}} The first class is on {t('first_session_at | when')}.{{% endif %}}"),
        zh=(f"报名成功：{t(COURSE_ZH)}", f"您在《{t(COURSE_ZH)}》的名额已确认，期待您来上课。"
            f"{{% if first_session_at %}}首次上课时间：{t('first_session_at | when')}。{{% endif %}}"),
        sms=("SMS_PALACE_ENROL_OK", {"course": COURSE_ZH, "time": "(first_session_at | when) or '另行通知'"})),
    "enrolment.enrolment_waitlisted": dict(
        category="classes", urgency="never",
        en=(f"On the waitlist: {t(COURSE)}",
            f"{t(COURSE)} is full. You are number {t('position')} on the waitlist; "
            "we will tell you as soon as a seat frees up."),
        zh=(f"已进入候补：{t(COURSE_ZH)}", f"《{t(COURSE_ZH)}》已满，您是候补第 {t('position')} 位，有空位会第一时间通知您。"),
        sms=("SMS_PALACE_WAITLIST", {"course": COURSE_ZH, "position": "position"})),
    "enrolment.enrolment_promoted": dict(
        category="classes", urgency="never",
        en=(f"A seat freed up: {t(COURSE)}", f"Good news: you moved from the waitlist into {t(COURSE)}. Your seat is confirmed."),
        zh=(f"候补转正：{t(COURSE_ZH)}", f"好消息：您已从候补转为《{t(COURSE_ZH)}》的正式学员。"),
        sms=("SMS_PALACE_PROMOTED", {"course": COURSE_ZH})),
    "enrolment.offer_made": dict(
        category="classes", urgency="always",
        en=(f"A seat is offered to you: {t(COURSE)}",
            f"A seat in {t(COURSE)} is yours if you accept it before {t('(expires_at or respond_by or deadline) | when')}."),
        zh=(f"候补名额待确认：{t(COURSE_ZH)}",
            f"《{t(COURSE_ZH)}》有一个名额给您，请在 {t('(expires_at or respond_by or deadline) | when')} 前确认。"),
        sms=("SMS_PALACE_OFFER", {"course": COURSE_ZH, "deadline": "(expires_at or respond_by or deadline) | when"})),
    "enrolment.offer_expired": dict(
        category="classes", urgency="never",
        en=(f"Offer expired: {t(COURSE)}", f"The seat offered to you in {t(COURSE)} was not accepted in time and has gone to the next person."),
        zh=(f"名额已过期：{t(COURSE_ZH)}", f"《{t(COURSE_ZH)}》为您保留的名额已过期，已顺延给下一位。"),
        sms=("SMS_PALACE_OFFER_EXPIRED", {"course": COURSE_ZH})),
    "enrolment.enrolment_cancelled": dict(
        category="classes", urgency="never",
        en=(f"Enrolment cancelled: {t(COURSE)}", f"Your enrolment in {t(COURSE)} is cancelled.{{% if reason or cause %}} Reason: {t('reason | reason(cause, note)')}.{{% endif %}}"),
        zh=(f"报名已取消：{t(COURSE_ZH)}", f"您在《{t(COURSE_ZH)}》的报名已取消。{{% if reason or cause %}}原因：{t('reason | reason(cause, note)')}。{{% endif %}}"),
        sms=("SMS_PALACE_ENROL_CANCELLED", {"course": COURSE_ZH})),
    "enrolment.lottery_interest_registered": dict(
        category="classes", urgency="never",
        en=(f"Entered in the lottery: {t(COURSE)}",
            f"You are entered in the lottery for {t(COURSE)}."
            f"{{% if draw_at %}} The draw is on {t('draw_at | when')};{{% else %}} After the draw{{% endif %}}"
            " we will tell you whether you have a seat."),
        zh=(f"已登记抽签：{t(COURSE_ZH)}",
            f"您已登记参加《{t(COURSE_ZH)}》的抽签。"
            f"{{% if draw_at %}}抽签时间：{t('draw_at | when')}，{{% endif %}}抽签后我们会告诉您结果。"),
        sms=("SMS_PALACE_LOTTERY_ENTERED", {"course": COURSE_ZH, "time": "draw_at | when"})),
    "enrolment.lottery_drawn": dict(
        # `outcome` is this member's own: render() finds it in the payload's lists of members
        category="classes", urgency="never",
        en=(f"Lottery result: {t(COURSE)}", f"The lottery for {t(COURSE)} was drawn: {t('outcome | outcome')}."),
        zh=(f"抽签结果：{t(COURSE_ZH)}", f"《{t(COURSE_ZH)}》抽签已完成：{t('outcome | outcome')}。"),
        sms=("SMS_PALACE_LOTTERY", {"course": COURSE_ZH, "result": "outcome | outcome"})),
    "enrolment.session_upcoming": dict(
        category="reminders", urgency="if_soon",
        en=(f"Class soon: {t(COURSE)}", f"{t(COURSE)} meets on {t('starts_at | when')}{{% if room_name %}} in {t('room_name')}{{% endif %}}."),
        zh=(f"上课提醒：{t(COURSE_ZH)}", f"《{t(COURSE_ZH)}》将于 {t('starts_at | when')} 上课{{% if room_name %}}，地点：{t('room_name')}{{% endif %}}。"),
        sms=("SMS_PALACE_CLASS_REMINDER", {"course": COURSE_ZH, "time": "starts_at | when"})),
    "enrolment.session_moved": dict(
        # state room_lost (or cancelled): the session keeps its time but cannot take place as planned
        category="classes", urgency="if_soon",
        en=(f"{LOST}Class affected{{% else %}}Class moved{{% endif %}}: {t(COURSE)}",
            f"{LOST}The {t(COURSE)} session of {t('(old_starts_at or starts_at) | when')} cannot take place as "
            f"planned{{% if reason or cause %}}: {t('reason | reason(cause, note)')}{{% endif %}}. We will tell you what happens next.{{% else %}}"
            f"The {t(COURSE)} session of {t('(old_starts_at or previous_starts_at) | when')} now takes place on "
            f"{t('(new_starts_at or starts_at) | when')}{{% if room_name %}} in {t('room_name')}{{% endif %}}."
            f"{{% if reason or cause %}} Reason: {t('reason | reason(cause, note)')}{{% endif %}}{{% endif %}}"),
        zh=(f"{LOST}课程受影响{{% else %}}上课时间变更{{% endif %}}：{t(COURSE_ZH)}",
            f"{LOST}《{t(COURSE_ZH)}》{t('(old_starts_at or starts_at) | when')} 的课程无法按计划进行"
            f"{{% if reason or cause %}}（{t('reason | reason(cause, note)')}）{{% endif %}}，后续安排会另行通知。{{% else %}}"
            f"《{t(COURSE_ZH)}》原定 {t('(old_starts_at or previous_starts_at) | when')} 的课程改为 "
            f"{t('(new_starts_at or starts_at) | when')}{{% if room_name %}}，地点：{t('room_name')}{{% endif %}}。"
            f"{{% if reason or cause %}}原因：{t('reason | reason(cause, note)')}{{% endif %}}{{% endif %}}"),
        sms=("SMS_PALACE_SESSION_MOVED", {"course": COURSE_ZH, "time": "(new_starts_at or starts_at) | when"})),
    "enrolment.session_cancelled": dict(
        # venues took the room and no other room of the site was free at that time
        category="classes", urgency="if_soon",
        en=(f"Class cancelled: {t(COURSE)} on {t('starts_at | when')}",
            f"The {t(COURSE)} session of {t('starts_at | when')} is cancelled: its room is no longer available"
            f"{{% if reason or cause %}} ({t('reason | reason(cause, note)')}){{% endif %}} and no other room was free. The other sessions go ahead."),
        zh=(f"课程停课：{t(COURSE_ZH)} {t('starts_at | when')}",
            f"《{t(COURSE_ZH)}》{t('starts_at | when')} 的课程取消：原场地无法使用"
            f"{{% if reason or cause %}}（{t('reason | reason(cause, note)')}）{{% endif %}}，且没有其他空闲场地。其余课程照常进行。"),
        sms=("SMS_PALACE_SESSION_CANCELLED", {"course": COURSE_ZH, "time": "starts_at | when"})),
    "enrolment.course_rescheduled": dict(
        category="classes", urgency="if_soon",
        en=(f"{{% if announced %}}Timetable out{{% else %}}Timetable changed{{% endif %}}: {t(COURSE)}",
            f"{{% if announced %}}The timetable of {t(COURSE)} is out{{% else %}}The timetable of {t(COURSE)} has"
            f" changed{{% endif %}}{{% if first_session_at %}}: the next class is on {t('first_session_at | when')}"
            f"{{% endif %}}{{% if room_name %}} in {t('room_name')}{{% if site_name %}}, {t('site_name')}{{% endif %}}"
            f"{{% endif %}}.{{% if sessions %}} Classes to come: {t('sessions')}.{{% endif %}}"
            " Your enrolments page shows every date."),
        zh=(f"{{% if announced %}}课表已公布{{% else %}}课表调整{{% endif %}}：{t(COURSE_ZH)}",
            f"《{t(COURSE_ZH)}》{{% if announced %}}课表已公布{{% else %}}课表已调整{{% endif %}}"
            f"{{% if first_session_at %}}，下次上课：{t('first_session_at | when')}{{% endif %}}"
            f"{{% if room_name %}}，地点：{{% if site_name %}}{t('site_name')} {{% endif %}}{t('room_name')}{{% endif %}}。"
            f"{{% if sessions %}}待上课次：{t('sessions')}。{{% endif %}}全部日期请在“我的报名”中查看。"),
        sms=("SMS_PALACE_COURSE_RESCHEDULED", {"course": COURSE_ZH, "time": "first_session_at | when"})),
    "enrolment.course_published": dict(  # to the members following its category or its site
        category="classes", urgency="never",
        en=(f"New class: {t(COURSE)}", f"A new class you may like is open for enrolment: {t(COURSE)}"
            f"{{% if category %}} ({t('category')}){{% endif %}}. See it in the catalogue."),
        zh=(f"新课程：{t(COURSE_ZH)}", f"您关注的内容有新课程开放报名：《{t(COURSE_ZH)}》"
            f"{{% if category %}}（{t('category')}）{{% endif %}}，欢迎到课程目录查看。"),
        sms=("SMS_PALACE_NEW_COURSE", {"course": COURSE_ZH})),
    "enrolment.course_cancelled": dict(
        category="classes", urgency="if_soon",
        en=(f"Class cancelled: {t(COURSE)}", f"{t(COURSE)} is cancelled.{{% if reason or cause %}} Reason: {t('reason | reason(cause, note)')}.{{% endif %}} We are sorry."),
        zh=(f"课程取消：{t(COURSE_ZH)}", f"《{t(COURSE_ZH)}》已取消。{{% if reason or cause %}}原因：{t('reason | reason(cause, note)')}。{{% endif %}}抱歉给您带来不便。"),
        sms=("SMS_PALACE_COURSE_CANCELLED", {"course": COURSE_ZH})),
    "enrolment.certificate_issued": dict(
        category="classes", urgency="never",
        en=(f"Certificate ready: {t(COURSE)}", f"Congratulations: your certificate for {t(COURSE)} is ready to download."
            f"{{% if code %}} Its check code is {t('code')}.{{% endif %}}"),
        zh=(f"结业证书：{t(COURSE_ZH)}", f"恭喜您完成《{t(COURSE_ZH)}》，结业证书已可下载。{{% if code %}}验证码：{t('code')}。{{% endif %}}"),
        sms=("SMS_PALACE_CERTIFICATE", {"course": COURSE_ZH})),
    "enrolment.class_request_decided": dict(
        category="classes", urgency="never",
        en=(f"Your class request: {t('(decision or status) | decision')}",
            f"Your request for a class{{% if title or topic %}} on {t('title or topic')}{{% endif %}} was {t('(decision or status) | decision')}."
            f"{{% if note or reason %}} Note: {t('(note or reason) | reason')}{{% endif %}}"),
        zh=("开班申请结果", f"您的开班申请{{% if title or topic %}}《{t('title or topic')}》{{% endif %}}结果：{t('(decision or status) | decision')}。"
            f"{{% if note or reason %}}说明：{t('(note or reason) | reason')}{{% endif %}}"),
        sms=("SMS_PALACE_CLASS_REQUEST", {"result": "(decision or status) | decision"})),
    # accounts (the gateway)
    "gateway.password_reset_requested": dict(
        category="account", urgency="always",
        en=("Your password reset code", f"Your Workers' Cultural Palace reset code is {t('code')}. "
            f"It works once, until {t('expires_at | when')}. Nobody from the union will ask you for it."),
        zh=("密码重置验证码", f"您的工人文化宫密码重置验证码为 {t('code')}，{t('expires_at | when')} 前有效，仅可使用一次。"
            "工会工作人员不会向您索要验证码。"),
        sms=("SMS_PALACE_RESET_CODE", {"code": "code"})),
    "gateway.phone_change_requested": dict(
        category="account", urgency="always",
        en=("Your phone change code", f"Your Workers' Cultural Palace code for using this phone is {t('code')}. "
            f"It works once, until {t('expires_at | when')}. Nobody from the union will ask you for it."),
        zh=("更换手机号验证码", f"您正在将工人文化宫账号改用本手机号，验证码为 {t('code')}，{t('expires_at | when')} 前有效，"
            "仅可使用一次。工会工作人员不会向您索要验证码。"),
        sms=("SMS_PALACE_PHONE_CODE", {"code": "code"})),
    "gateway.unit_invitation_sent": dict(  # a unit's workers are covered by its mutual-aid plans: welfare
        category="welfare", urgency="never",
        en=(f"Invitation to join {t(UNIT)}", f"{t(UNIT)} invites you to join it as one of its members. You join"
            " only if you accept the invitation; until then nothing changes."),
        zh=(f"单位邀请：{t(UNIT_ZH)}", f"{t(UNIT_ZH)}邀请您加入本单位。只有您接受邀请后才会加入，在此之前一切不变。"),
        sms=("SMS_PALACE_UNIT_INVITATION", {"unit": UNIT_ZH})),
    # venues
    "venues.booking_pending": dict(
        category="rooms", urgency="never",
        en=(f"Booking received: {t(ROOM)}", f"Your booking of {t(ROOM)} on {t('starts_at | when')} waits for approval."),
        zh=(f"预约已提交：{t(ROOM_ZH)}", f"您预约的{t(ROOM_ZH)}（{t('starts_at | when')}）正在等待审批。"),
        sms=("SMS_PALACE_BOOKING_PENDING", {"room": ROOM_ZH, "time": "starts_at | when"})),
    "venues.booking_confirmed": dict(
        category="rooms", urgency="never",
        en=(f"Booking confirmed: {t(ROOM)}", f"{t(ROOM)} is yours from {t('starts_at | when')} to {t('ends_at | when')}."),
        zh=(f"预约成功：{t(ROOM_ZH)}", f"{t(ROOM_ZH)}已为您预留：{t('starts_at | when')} 至 {t('ends_at | when')}。"),
        sms=("SMS_PALACE_BOOKING_OK", {"room": ROOM_ZH, "time": "starts_at | when"})),
    "venues.booking_rejected": dict(
        category="rooms", urgency="if_soon",
        en=(f"Booking declined: {t(ROOM)}", f"Your booking of {t(ROOM)} on {t('starts_at | when')} was declined.{{% if reason or cause %}} Reason: {t('reason | reason(cause, note)')}.{{% endif %}}"),
        zh=(f"预约未通过：{t(ROOM_ZH)}", f"您预约的{t(ROOM_ZH)}（{t('starts_at | when')}）未通过。{{% if reason or cause %}}原因：{t('reason | reason(cause, note)')}。{{% endif %}}"),
        sms=("SMS_PALACE_BOOKING_REJECTED", {"room": ROOM_ZH, "time": "starts_at | when"})),
    "venues.booking_cancelled": dict(
        category="rooms", urgency="if_soon",
        en=(f"Booking cancelled: {t(ROOM)}", f"The booking of {t(ROOM)} on {t('starts_at | when')} is cancelled.{{% if reason or cause %}} Reason: {t('reason | reason(cause, note)')}.{{% endif %}}"),
        zh=(f"预约已取消：{t(ROOM_ZH)}", f"{t(ROOM_ZH)}（{t('starts_at | when')}）的预约已取消。{{% if reason or cause %}}原因：{t('reason | reason(cause, note)')}。{{% endif %}}"),
        sms=("SMS_PALACE_BOOKING_CANCELLED", {"room": ROOM_ZH, "time": "starts_at | when"})),
    "venues.booking_released": dict(
        category="rooms", urgency="if_soon",
        en=(f"Booking released: {t(ROOM)}", f"The booking of {t(ROOM)} on {t('starts_at | when')} was released.{{% if reason or cause %}} Reason: {t('reason | reason(cause, note)')}.{{% endif %}}"),
        zh=(f"预约已释放：{t(ROOM_ZH)}", f"{t(ROOM_ZH)}（{t('starts_at | when')}）的预约已释放。{{% if reason or cause %}}原因：{t('reason | reason(cause, note)')}。{{% endif %}}"),
        sms=("SMS_PALACE_BOOKING_RELEASED", {"room": ROOM_ZH, "time": "starts_at | when"})),
    "venues.room_closed": dict(
        category="rooms", urgency="if_soon",
        en=(f"Room closed: {t(ROOM)}", f"{t(ROOM)} is closed{{% if starts_at %}} from {t('starts_at | when')}{{% endif %}}{{% if ends_at %}} to {t('ends_at | when')}{{% endif %}}.{{% if reason or cause %}} Reason: {t('reason | reason(cause, note)')}.{{% endif %}}"),
        zh=(f"场地关闭：{t(ROOM_ZH)}", f"{t(ROOM_ZH)}{{% if starts_at %}}自 {t('starts_at | when')}{{% endif %}}{{% if ends_at %}}至 {t('ends_at | when')}{{% endif %}}关闭。{{% if reason or cause %}}原因：{t('reason | reason(cause, note)')}。{{% endif %}}"),
        sms=("SMS_PALACE_ROOM_CLOSED", {"room": ROOM_ZH, "time": "starts_at | when"})),
    # welfare
    "welfare.application_submitted": dict(
        category="welfare", urgency="never",
        en=(f"Application received: {t(PROGRAMME)}", f"We received your application{{% if amount_requested %}} for {t('amount_requested | money')}{{% endif %}}. An officer will look at it soon."),
        zh=(f"申请已受理：{t(PROGRAMME_ZH)}", f"您的申请{{% if amount_requested %}}（{t('amount_requested | money')}）{{% endif %}}已受理，工作人员会尽快处理。"),
        sms=("SMS_PALACE_APPLICATION_RECEIVED", {"programme": PROGRAMME_ZH})),
    "welfare.application_decided": dict(
        category="welfare", urgency="never",
        en=(f"Decision on your application: {t('(decision or status) | decision')}",
            f"Your application ({t(PROGRAMME)}) was {t('(decision or status) | decision')}{{% if amount %}}: {t('amount | money')}{{% endif %}}.{{% if note or reason %}} Note: {t('(note or reason) | reason')}{{% endif %}}"),
        zh=(f"申请结果：{t('(decision or status) | decision')}",
            f"您的申请（{t(PROGRAMME_ZH)}）结果：{t('(decision or status) | decision')}{{% if amount %}}，金额 {t('amount | money')}{{% endif %}}。{{% if note or reason %}}说明：{t('(note or reason) | reason')}{{% endif %}}"),
        sms=("SMS_PALACE_APPLICATION_DECIDED", {"programme": PROGRAMME_ZH, "result": "(decision or status) | decision", "amount": "amount | money"})),
    "welfare.info_requested": dict(
        category="welfare", urgency="never",
        en=("More information needed", f"Your application ({t(PROGRAMME)}) needs more information: {t('(note or reason or request) | reason')}"),
        zh=("需要补充材料", f"您的申请（{t(PROGRAMME_ZH)}）需要补充材料：{t('(note or reason or request) | reason')}"),
        sms=("SMS_PALACE_INFO_REQUESTED", {"programme": PROGRAMME_ZH})),
    "welfare.case_escalated": dict(  # the applicant's: once per case, however long it waits
        category="welfare", urgency="never",
        en=("Your case is still in progress", f"Your case ({t(PROGRAMME)}) is taking longer than usual. It is still in progress: an officer is on it and we will tell you as soon as it is decided."),
        zh=("您的申请仍在办理中", f"您的申请（{t(PROGRAMME_ZH)}）办理时间比通常长一些，仍在办理中，工作人员正在处理，有结果会第一时间通知您。"),
        sms=("SMS_PALACE_CASE_ESCALATED", {"programme": PROGRAMME_ZH})),
    "welfare.payout_made": dict(
        category="welfare", urgency="never",
        en=(f"Payment sent: {t('amount | money')}", f"{t('amount | money')} was paid to you{{% if reference %}} (reference {t('reference')}){{% endif %}}."),
        zh=(f"款项已发放：{t('amount | money')}", f"{t('amount | money')} 已发放给您{{% if reference %}}（流水号 {t('reference')}）{{% endif %}}。"),
        sms=("SMS_PALACE_PAYOUT", {"amount": "amount | money", "reference": "reference"})),
    "welfare.claim_decided": dict(
        category="welfare", urgency="never",
        en=(f"Mutual-aid claim: {t('(decision or status) | decision')}",
            f"Your mutual-aid claim was {t('(decision or status) | decision')}{{% if amount %}}: {t('amount | money')}{{% endif %}}.{{% if note or reason %}} Note: {t('(note or reason) | reason')}{{% endif %}}"),
        zh=(f"互助理赔结果：{t('(decision or status) | decision')}",
            f"您的互助理赔结果：{t('(decision or status) | decision')}{{% if amount %}}，金额 {t('amount | money')}{{% endif %}}。{{% if note or reason %}}说明：{t('(note or reason) | reason')}{{% endif %}}"),
        sms=("SMS_PALACE_CLAIM_DECIDED", {"result": "(decision or status) | decision", "amount": "amount | money"})),
    "welfare.mutual_aid_enrolled": dict(
        category="welfare", urgency="never",
        en=("You are covered by mutual aid", f"Your unit enrolled you in the mutual-aid plan{{% if plan_title or plan %}} {t('plan_title or plan')}{{% endif %}}{{% if starts_on or covered_from %}} from {t('(starts_on or covered_from) | day')}{{% endif %}}."),
        zh=("您已加入职工互助保障", f"您所在单位已为您办理互助保障{{% if plan_title or plan %}}《{t('plan_title or plan')}》{{% endif %}}{{% if starts_on or covered_from %}}，自 {t('(starts_on or covered_from) | day')} 起生效{{% endif %}}。"),
        sms=("SMS_PALACE_MUTUAL_AID", {"plan": "plan_title or plan"})),
    "welfare.counselling_cancelled": dict(
        category="welfare", urgency="if_soon",
        en=("Counselling session cancelled", f"Your counselling session of {t('starts_at | when')} cannot take place{{% if reason or cause %}}: {t('reason | reason(cause, note)')}{{% endif %}}. Your officer will arrange another time."),
        zh=("心理咨询预约已取消", f"您 {t('starts_at | when')} 的心理咨询因故无法进行{{% if reason or cause %}}（{t('reason | reason(cause, note)')}）{{% endif %}}，工作人员会与您另约时间。"),
        sms=("SMS_PALACE_COUNSELLING_CANCELLED", {"time": "starts_at | when"})),
    # issue 19, counselling and escalation (welfare's own entries)
    "welfare.counselling_booked": dict(
        category="welfare", urgency="if_soon",
        en=("Counselling booked", f"Your counselling session is on {t('starts_at | when')}"
            f"{{% if room_name or site_name %}}, in {t(ROOM)}{{% if site_name and room_name %}}, {t('site_name')}{{% endif %}}{{% endif %}}"
            f"{{% if address %}} ({t('address')}){{% endif %}}."
            f"{{% if session_count and session_count > 1 %}} {t('session_count')} sessions in all, weekly at the same time.{{% endif %}}"),
        zh=("心理咨询已预约", f"您的心理咨询时间：{t('starts_at | when')}"
            f"{{% if room_name or site_name %}}，地点：{{% if site_name and room_name %}}{t('site_name')} {{% endif %}}{t(ROOM_ZH)}{{% endif %}}"
            f"{{% if address %}}（{t('address')}）{{% endif %}}。"
            f"{{% if session_count and session_count > 1 %}}共 {t('session_count')} 次，每周同一时间。{{% endif %}}"),
        sms=("SMS_PALACE_COUNSELLING_BOOKED", {"time": "starts_at | when", "room": ROOM_ZH, "address": "address or ''"})),
    # staff alerts: work waiting for a member of staff (see ALERTS)
    "staff.booking_waiting": dict(
        category="rooms", urgency="never",
        en=(f"Booking awaiting approval: {t(ROOM)}", f"A booking of {t(ROOM)}{{% if site_name and room_name %}} ({t('site_name')}){{% endif %}}"
            f" on {t('starts_at | when')}{{% if title %}} for {t('title')}{{% endif %}} waits for your approval."),
        zh=(f"待审批预约：{t(ROOM_ZH)}", f"{{% if site_name and room_name %}}{t('site_name')}{{% endif %}}{t(ROOM_ZH)}"
            f"（{t('starts_at | when')}）有一条预约{{% if title %}}《{t('title')}》{{% endif %}}等待您审批。"),
        sms=("SMS_PALACE_STAFF_BOOKING", {"room": ROOM_ZH, "time": "starts_at | when"})),
    "staff.class_request": dict(
        category="classes", urgency="never",
        en=(f"Class request: {t('title or topic')}", f"A unit asked for a class{{% if title or topic %}}, {t('title or topic')}{{% endif %}}"
            f"{{% if capacity %}}, for {t('capacity')} people{{% endif %}}. It waits for your decision."),
        zh=(f"开班申请待处理：{t('title or topic')}", f"有单位提交了开班申请{{% if title or topic %}}《{t('title or topic')}》{{% endif %}}"
            f"{{% if capacity %}}（{t('capacity')} 人）{{% endif %}}，等待您处理。"),
        sms=("SMS_PALACE_STAFF_CLASS_REQUEST", {"title": "title or topic or '开班申请'"})),
    "staff.case_assigned": dict(
        category="welfare", urgency="never",
        en=(f"Case assigned to you: {t('reference')}", f"Case {t('reference')} ({t(PROGRAMME)}) is yours now; priority:"
            f" {t('priority | priority')}."),
        zh=(f"新分派个案：{t('reference')}", f"个案 {t('reference')}（{t(PROGRAMME_ZH)}）已分派给您，优先级：{t('priority | priority')}。"),
        sms=("SMS_PALACE_STAFF_CASE", {"reference": "reference", "priority": "priority | priority"})),
    "staff.case_overdue": dict(
        category="welfare", urgency="always",
        en=(f"Case waiting too long: {t('reference')}", f"Case {t('reference')} ({t(PROGRAMME)}) has waited longer than"
            f" its time{{% if sla_hours %}} of {t('sla_hours')} hours{{% endif %}}{{% if waiting_since %}}, since"
            f" {t('waiting_since | when')}{{% endif %}}. Please see to it."),
        zh=(f"个案超时待办：{t('reference')}", f"个案 {t('reference')}（{t(PROGRAMME_ZH)}）已超过处理时限"
            f"{{% if sla_hours %}}（{t('sla_hours')} 小时）{{% endif %}}{{% if waiting_since %}}，自 {t('waiting_since | when')}"
            f" 起等待{{% endif %}}，请尽快处理。"),
        sms=("SMS_PALACE_STAFF_CASE_OVERDUE", {"reference": "reference"})),
    "staff.case_due_soon": dict(
        category="welfare", urgency="never",
        en=(f"Case nearly due: {t('reference')}", f"Case {t('reference')} ({t(PROGRAMME)}) has used most of its"
            f" time{{% if sla_hours %}} of {t('sla_hours')} hours{{% endif %}}{{% if due_at %}}: it is due"
            f" {t('due_at | when')}{{% endif %}}. Please see to it."),
        zh=(f"个案即将超时：{t('reference')}", f"个案 {t('reference')}（{t(PROGRAMME_ZH)}）即将超过处理时限"
            f"{{% if sla_hours %}}（{t('sla_hours')} 小时）{{% endif %}}{{% if due_at %}}，截止 {t('due_at | when')}"
            f"{{% endif %}}，请及时处理。"),
        sms=("SMS_PALACE_STAFF_CASE_DUE_SOON", {"reference": "reference", "time": "due_at | when"})),
    "staff.import_errors": dict(
        category="welfare", urgency="never",
        en=(f"Roster import needs a look: {t(PLAN)}", f"Your roster import for {t(PLAN)} finished"
            f"{{% if failed %}} with an error of its own{{% endif %}}: {t('enrolled_rows')} of {t('total_rows')}"
            f" rows enrolled, {t('bad_rows')} not. The import shows which lines and why."),
        zh=(f"名单导入有误：{t(PLAN_ZH)}", f"您为《{t(PLAN_ZH)}》导入的名单已处理完{{% if failed %}}（导入中途出错）{{% endif %}}："
            f"共 {t('total_rows')} 行，成功 {t('enrolled_rows')} 行，{t('bad_rows')} 行未导入，请查看导入结果中的行号和原因。"),
        sms=("SMS_PALACE_STAFF_IMPORT_ERRORS", {"plan": PLAN_ZH, "bad": "bad_rows"})),
    # broadcasts: the words staff wrote, in whatever language they wrote them (see fanout.py)
    "notify.broadcast": dict(
        category="classes", urgency="never",
        en=(t("broadcast_title or 'A notice from the palace'"), t("broadcast_body or 'See the palace app.'")),
        zh=(t("broadcast_title or '文化宫通知'"), t("broadcast_body or '详情请查看文化宫应用。'")),
        sms=("SMS_PALACE_BROADCAST", {"title": "broadcast_title or '文化宫通知'"})),
    # reminders notify makes itself (from session_upcoming and booking events)
    "notify.reminder": dict(
        category="reminders", urgency="if_soon",
        en=(f"Reminder: {t(REMINDED)}", f"{t(REMINDED)} starts on {t('starts_at | when')}{{% if place %}} in {t('place')}{{% endif %}}."),
        zh=(f"提醒：{t(REMINDED_ZH)}", f"{t(REMINDED_ZH)}将于 {t('starts_at | when')} 开始{{% if place %}}，地点：{t('place')}{{% endif %}}。"),
        sms=("SMS_PALACE_REMINDER", {"title": REMINDED_ZH, "time": "starts_at | when"})),
}

# an event that means work for staff -> (the alert's message, the roles told, the payload field
# naming a member of staff told as well); the event's own message (if any) still goes to its member
ALERTS = {
    "venues.booking_pending": ("staff.booking_waiting", (VENUE_MANAGER,), None),
    "enrolment.class_request_submitted": ("staff.class_request", (ADMIN,), None),
    "welfare.case_assigned": ("staff.case_assigned", (), "officer_id"),
    "welfare.case_overdue": ("staff.case_overdue", (ADMIN,), "assigned_officer"),  # past its SLA, each time
    "welfare.case_due_soon": ("staff.case_due_soon", (ADMIN,), "assigned_officer"),  # most of its SLA used
    "welfare.import_had_errors": ("staff.import_errors", (), "uploaded_by"),
}

SOURCES = {
    source: tuple(sorted({k.split(".", 1)[1] for k in (*CATALOGUE, *ALERTS) if k.startswith(source + ".")}))
    for source in ("enrolment", "venues", "welfare")
}


def _compile():
    compiled = {}
    for event_type, spec in CATALOGUE.items():
        sms_id, sms_params = spec["sms"]
        compiled[event_type] = {
            "en": tuple(_envs["en"].from_string(x) for x in spec["en"]),
            "zh-CN": tuple(_envs["zh-CN"].from_string(x) for x in spec["zh"]),
            "sms": (sms_id, {name: _envs["zh-CN"].from_string(t(expr)) for name, expr in sms_params.items()}),
        }
    return compiled


_COMPILED = _compile()


def known(event_type):
    return event_type in CATALOGUE


def spec(event_type):
    return CATALOGUE[event_type]


def _clean(text):
    return " ".join(text.split())


def _outcome(payload, member_id):
    """A member's own outcome of an event that names several (a lottery draw), or None."""
    if member_id is None:
        return None
    for outcome, field in (("confirmed", "confirmed_member_ids"), ("waitlisted", "waitlisted_member_ids")):
        if str(member_id) in {str(m) for m in payload.get(field) or ()}:
            return outcome
    return None


# WeChat keyword types: a code or a payment reference is a `character_string` (32 characters), any
# other value a `thing` (20 characters of any text; `time` and `amount` fields accept only their own
# formats, and a palace time carries its weekday)
WECHAT_STRINGS = ("code", "reference")
WECHAT_LIMITS = {"thing": 20, "character_string": 32}


def wechat_data(params):
    """The keyword fields of a WeChat template message from an SMS template's parameters, in order:
    `thing1`, `time2`... as WeChat names a template's keywords, each value cut to its limit."""
    data = {}
    for number, (name, value) in enumerate(params.items(), start=1):
        kind = "character_string" if name in WECHAT_STRINGS else "thing"
        data[f"{kind}{number}"] = {"value": value[:WECHAT_LIMITS[kind]] or "-"}  # WeChat refuses an empty one
    return data


def render(event_type, payload, language=DEFAULT_LANGUAGE, member_id=None):
    """{title, body, category, urgency, sms: {template_id, params}, wechat: {template_id, data}}
    for the member `member_id` (when given). KeyError for an event type without templates."""
    compiled, meta = _COMPILED[event_type], CATALOGUE[event_type]
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    facts = {k: v for k, v in (payload or {}).items() if isinstance(k, str)}
    facts["outcome"] = _outcome(facts, member_id)
    title, body = (_clean(tpl.render(facts)) for tpl in compiled[language])
    sms_id, sms_params = compiled["sms"]
    params = {name: _clean(tpl.render(facts)) for name, tpl in sms_params.items()}
    return {
        "title": title[:200], "body": body[:2000], "category": meta["category"], "urgency": meta["urgency"],
        "sms": {"template_id": sms_id, "params": params},
        "wechat": {"template_id": sms_id.replace("SMS_", "WX_"), "data": wechat_data(params)},
    }
