"""Each channel adapter against the local fake of its provider (tests/providers.py), without a
palace: what the provider receives, and which refusals may pass later."""
import uuid
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

import pytest
from aiosmtpd.controller import Controller

from services.notify import channels, templates
from tests.harness import free_port
from tests.providers import (
    MAIL_PASSWORD,
    MAIL_USER,
    SMS_KEY_ID,
    SMS_SECRET,
    SMS_SIGN_NAME,
    WECHAT_APP_ID,
    WECHAT_SECRET,
    MailRelay,
    Providers,
    sms_codes,
    wechat_ids,
)


@pytest.fixture(scope="module")
def fake():
    providers = Providers()
    yield providers
    providers.stop()


def delivery(address, event_type="enrolment.enrolment_confirmed", **payload):
    payload = payload or {"course_title": "茶艺入门", "first_session_at": "2027-03-02T19:00:00+08:00"}
    return {"id": uuid.uuid4(), "address": address, "title": "t", "body": "b",
            "rendered": templates.render(event_type, payload, "zh-CN")}


def aliyun(fake, secret=SMS_SECRET, codes=None):
    return channels.AliyunSms(fake.url + "/sms", SMS_KEY_ID, secret, SMS_SIGN_NAME,
                              sms_codes() if codes is None else codes, 5)


def test_an_sms_reaches_aliyun_signed_with_its_template_code_sign_name_and_chinese_parameters(fake):
    d = delivery("13912345678")
    aliyun(fake).send(d)
    [(_, status, fields, _)] = fake.to("/sms", "13912345678")
    assert (status, fields["Code"]) == (200, "OK")
    assert fields["TemplateCode"] == fake.template("SMS_PALACE_ENROL_OK") and fields["SignName"] == "工人文化宫"
    assert fields["TemplateParam"] == {"course": "茶艺入门", "time": "3月2日 周二 19:00"}
    assert fields["OutId"] == str(d["id"])


def test_a_wrong_secret_is_refused_by_the_signature_check_for_good(fake):
    with pytest.raises(channels.SendFailed) as refused:
        aliyun(fake, secret="not-the-secret").send(delivery("13912345679"))
    assert "SignatureDoesNotMatch" in refused.value.reason and not refused.value.retryable


def test_a_template_without_an_aliyun_code_fails_for_good_without_asking_the_provider(fake):
    with pytest.raises(channels.SendFailed) as refused:
        aliyun(fake, codes={}).send(delivery("13912345670"))
    assert "SMS_PALACE_ENROL_OK" in refused.value.reason and not refused.value.retryable
    assert fake.to("/sms", "13912345670") == []


@pytest.mark.parametrize("answer, retryable", [
    ("isv.BUSINESS_LIMIT_CONTROL", True), ("Throttling.User", True), ("isp.SYSTEM_ERROR", True), (503, True),
    (429, True), ("isv.MOBILE_NUMBER_ILLEGAL", False), ("isv.AMOUNT_NOT_ENOUGH", False),
    ("isv.SMS_TEMPLATE_ILLEGAL", False)])
def test_aliyun_refusals_are_retried_or_final_by_their_code(fake, answer, retryable):
    with fake.lock:
        fake.script["/sms"] = [answer]
    with pytest.raises(channels.SendFailed) as refused:
        aliyun(fake).send(delivery("13912345671"))
    assert refused.value.retryable is retryable, refused.value.reason


def test_an_unreachable_provider_is_tried_again():
    with pytest.raises(channels.SendFailed) as refused:
        channels.AliyunSms("http://127.0.0.1:9/sms", SMS_KEY_ID, SMS_SECRET, SMS_SIGN_NAME, sms_codes(), 1).send(
            delivery("13912345672"))
    assert refused.value.retryable


# mail


@pytest.fixture(scope="module", params=["starttls", "ssl"])
def relay(request, tmp_path_factory):
    relay = MailRelay(tmp_path_factory.mktemp(request.param), request.param)
    yield relay, request.param
    relay.stop()


def smtp(relay, security, password=MAIL_PASSWORD, ca=True):
    relay, _ = relay
    return channels.Smtp(f"127.0.0.1:{relay.port}", "工人文化宫 <notices@palace.example.org>", 5, security,
                         (MAIL_USER, password), str(relay.certificate) if ca else None)


def test_mail_goes_over_tls_after_a_login_with_a_date_and_a_message_id_of_the_senders_domain(relay):
    server, security = relay
    d = {**delivery(None), "address": "ruan@example.org", "title": "报名成功：茶艺入门", "body": "您在《茶艺入门》的名额已确认。"}
    smtp(relay, security).send(d)
    [(recipients, content, login)] = server.to("ruan@example.org")
    mail = message_from_bytes(content.encode(), policy=policy.default)
    assert recipients == ["ruan@example.org"] and login == MAIL_USER
    assert mail["Message-ID"] == f"<{d['id']}@palace.example.org>"
    assert abs(parsedate_to_datetime(mail["Date"]) - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert mail["Subject"] == "报名成功：茶艺入门" and mail["Content-Transfer-Encoding"] == "base64"
    assert mail.get_content().strip() == d["body"]


def test_a_wrong_password_is_final_and_an_untrusted_certificate_is_not_sent_to(relay):
    server, security = relay
    d = {**delivery(None), "address": "wrong@example.org"}
    with pytest.raises(channels.SendFailed) as refused:
        smtp(relay, security, password="guess").send(d)
    assert "535" in refused.value.reason and not refused.value.retryable
    with pytest.raises(channels.SendFailed) as untrusted:
        smtp(relay, security, ca=False).send(d)
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.value.reason
    assert server.to("wrong@example.org") == []


def test_a_relay_that_offers_no_starttls_is_not_sent_to_in_the_clear():
    plain = Controller(type("Sink", (), {"handle_DATA": None})(), hostname="127.0.0.1", port=free_port())
    plain.start()
    try:
        with pytest.raises(channels.SendFailed) as refused:
            channels.Smtp(f"127.0.0.1:{plain.port}", "notices@palace.example.org", 5, "starttls",
                          (MAIL_USER, MAIL_PASSWORD)).send({**delivery(None), "address": "a@example.org"})
        assert "STARTTLS" in refused.value.reason and not refused.value.retryable
    finally:
        plain.stop()


# WeChat


def wechat(fake, secret=WECHAT_SECRET, ids=None):
    return channels.WeChatTemplates(fake.url + "/wechat", WECHAT_APP_ID, secret,
                                    wechat_ids() if ids is None else ids, 5)


def test_a_template_message_goes_in_the_current_format_with_each_value_cut_to_twenty_characters(fake):
    long_title = "工会职工书法与国画进阶研修班（周二晚间班）"  # 21 characters
    d = delivery("oPalaceMember0001", course_title=long_title, first_session_at="2027-03-02T19:00:00+08:00")
    wechat(fake).send(d)
    [(_, status, body, _)] = fake.to("/wechat", "oPalaceMember0001")
    assert (status, body["errcode"]) == (200, 0)
    assert body["template_id"] == fake.template_id("WX_PALACE_ENROL_OK") and body["client_msg_id"] == str(d["id"])
    assert body["data"] == {"thing1": {"value": long_title[:20]}, "thing2": {"value": "3月2日 周二 19:00"}}
    assert "first" not in body["data"] and "remark" not in body["data"]


def test_a_payment_reference_is_a_character_string_and_a_lapsed_token_is_fetched_again_once(fake):
    sender = wechat(fake)
    sender.send(delivery("oPalaceMember0002", "enrolment.certificate_issued", course_title="二胡"))
    fake.expire_tokens()  # as WeChat does when a token lapses or another fetch replaced it
    tokens_before = len(fake.sent("/wechat/token"))
    d = delivery("oPalaceMember0002", "welfare.payout_made", amount="800", reference="PAY-2027-000123")
    sender.send(d)
    answers = [r[2]["errcode"] for r in fake.to("/wechat", "oPalaceMember0002")]
    assert answers == [0, 40001, 0] and len(fake.sent("/wechat/token")) == tokens_before + 1
    assert fake.to("/wechat", "oPalaceMember0002")[-1][2]["data"]["character_string2"] == {"value": "PAY-2027-000123"}


def test_a_second_send_of_one_delivery_is_dropped_by_its_client_msg_id(fake):
    d = delivery("oPalaceMember0003")
    sender = wechat(fake)
    sender.send(d)
    sender.send(d)  # an answer lost, the dispatcher sends again
    assert [r[2]["duplicate"] for r in fake.to("/wechat", "oPalaceMember0003")] == [False, True]


def test_a_wrong_app_secret_or_a_template_without_an_id_fails_for_good(fake):
    with pytest.raises(channels.SendFailed) as refused:
        wechat(fake, secret="guess").send(delivery("oPalaceMember0004"))
    assert "40125" in refused.value.reason and not refused.value.retryable
    with pytest.raises(channels.SendFailed) as unknown:
        wechat(fake, ids={}).send(delivery("oPalaceMember0004"))
    assert "WX_PALACE_ENROL_OK" in unknown.value.reason and not unknown.value.retryable
    assert fake.to("/wechat", "oPalaceMember0004") == []


@pytest.mark.parametrize("errcode, retryable", [(-1, True), (45009, True), (43004, False), (40003, False)])
def test_wechat_refusals_are_retried_or_final_by_their_code(fake, errcode, retryable):
    with fake.lock:
        fake.script["/wechat"] = [errcode]
    with pytest.raises(channels.SendFailed) as refused:
        wechat(fake).send(delivery("oPalaceMember0005"))
    assert refused.value.retryable is retryable, refused.value.reason
