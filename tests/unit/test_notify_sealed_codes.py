"""A reset code reaches notify sealed: the delivery row keeps it hidden, the sender opens it in memory
as it sends, and the console channel logs no SMS body."""
import logging
import uuid

import pytest
from cryptography.fernet import Fernet

from services.common import trust
from services.notify import channels, dispatch, fanout, templates

CODE = "40961234"


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("PALACE_RESET_CODE_KEY", Fernet.generate_key().decode())


def reset_delivery():
    payload = {"phone": "13900000001", "code": fanout.HIDDEN_CODE, "expires_at": "2026-11-25T12:00:00+00:00"}
    rendered = {**templates.render("gateway.password_reset_requested", payload, "zh-CN"),
                "code_sealed": trust.seal_code(CODE)}
    return {"id": uuid.uuid4(), "channel": "sms", "address": "13900000001", "title": rendered["title"],
            "body": rendered["body"], "rendered": rendered}


def test_the_stored_delivery_hides_the_code_and_the_sender_opens_it():
    stored = reset_delivery()
    assert CODE not in repr(stored) and fanout.HIDDEN_CODE in stored["body"]
    sent = dispatch.opened(stored)
    assert CODE in sent["body"] and sent["rendered"]["sms"]["params"]["code"] == CODE
    assert CODE not in repr(stored), "opening it changed nothing kept"


def test_a_code_sealed_with_another_key_fails_for_good():
    stored = reset_delivery()
    stored["rendered"]["code_sealed"] = trust.seal_code(CODE, secret=Fernet.generate_key().decode())
    with pytest.raises(channels.SendFailed) as failed:
        dispatch.opened(stored)
    assert not failed.value.retryable


def test_a_delivery_without_a_sealed_code_goes_as_it_is():
    plain = {"id": 1, "rendered": {"title": "t", "body": "b"}, "body": "b"}
    assert dispatch.opened(plain) is plain


def test_the_console_channel_logs_no_sms_body(caplog):
    caplog.set_level(logging.INFO)
    sent = dispatch.opened(reset_delivery())
    channels.Console("sms").send(sent)
    channels.Console("email").send({"address": "a@b.c", "title": "hello", "body": "an email body"})
    assert CODE not in caplog.text and "an email body" in caplog.text
