"""Every secret a part reads passes one check (config.checked_secret): a placeholder of .env.example
(`change-me...`, however long) or a short value stops the part with a message naming the setting."""
import base64
import os

import pytest

from gateway import internal
from gateway.auth import checked_token_secret
from services.common import config, trust
from services.welfare import crypto

REAL_WELFARE_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.mark.parametrize("value", ["change-me", "CHANGE-ME-to-a-long-random-string-of-forty-chars", "short", ""])
def test_a_placeholder_or_short_secret_is_refused_naming_it(value, monkeypatch):
    with pytest.raises(RuntimeError, match="PALACE_TOKEN_SECRET must hold at least 32 random characters"):
        checked_token_secret(value)
    with pytest.raises(RuntimeError, match="PALACE_RESET_CODE_KEY must hold at least 44"):
        trust.code_key(value)
    if value:  # unset: nobody reads /metrics, no secret to check
        monkeypatch.setenv("PALACE_METRICS_TOKEN", value)
        with pytest.raises(RuntimeError, match="PALACE_METRICS_TOKEN must hold at least 32"):
            internal.metrics_token()


def test_welfare_refuses_a_missing_key_ring_even_in_development(monkeypatch):
    monkeypatch.setenv("PALACE_DEVELOPMENT", "1")  # no key kept beside the data, ever: make run makes a ring in var/
    with pytest.raises(RuntimeError, match="PALACE_WELFARE_KEYS is not set"):
        crypto.parse_ring("")


@pytest.mark.parametrize("value", ["change-me", "change-me" + "x" * 40, base64.urlsafe_b64encode(b"k" * 31).decode()])
def test_a_placeholder_short_or_malformed_welfare_key_is_refused_even_in_development(monkeypatch, value):
    monkeypatch.setenv("PALACE_DEVELOPMENT", "1")
    with pytest.raises(RuntimeError, match="PALACE_WELFARE_KEYS key '1' must"):
        crypto.parse_ring(f"1:{value}")
    assert [kid for kid, _ in crypto.parse_ring(f"2:{REAL_WELFARE_KEY},1:{REAL_WELFARE_KEY}")] == ["2", "1"]


def test_broker_and_database_passwords_are_checked_outside_development_only(monkeypatch):
    monkeypatch.setenv("PALACE_DEVELOPMENT", "0")
    monkeypatch.setenv("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    with pytest.raises(RuntimeError, match="the password in AMQP_URI must hold at least 16"):
        config.check_connection_secrets()
    monkeypatch.setenv("AMQP_URI", "amqp://palace-venues:a-real-long-password-0123@rabbitmq:5672/")
    monkeypatch.setenv("PALACE_PG", "postgresql://palace:change-me@postgres:5432")
    with pytest.raises(RuntimeError, match="the password in PALACE_PG"):
        config.check_connection_secrets()
    monkeypatch.setenv("PALACE_PG", "postgresql://postgres@127.0.0.1:5432")  # no password: the server's affair
    config.check_connection_secrets()
    monkeypatch.setenv("PALACE_DEVELOPMENT", "1")
    monkeypatch.setenv("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    config.check_connection_secrets()
