"""The gateway migrations carry existing data: the accounts opened before registration told notify
their phone are told once by a migration, in the envelope the relay publishes."""
import json
import secrets

import psycopg
import pytest
from psycopg.rows import dict_row

from services.common.events import read_envelope
from services.common.outbox import signed
from tests.integration.test_venues_migrations import migrate


def test_the_accounts_opened_before_are_told_to_notify_once_each(scratch, monkeypatch):  # noqa: F811
    monkeypatch.setenv("PALACE_CONTEXT_KEY", secrets.token_urlsafe(32))  # the relay's, which signs them
    migrate(scratch, before="0005", part="gateway")
    with psycopg.connect(scratch, autocommit=True) as conn:
        for phone, closed in [("13900000001", False), ("13900000002", False), ("13900000003", True)]:
            conn.execute("INSERT INTO accounts (phone, name, password_hash, roles, deleted_at)"
                         " VALUES (%s, 'Wang', 'x', '{member}', CASE WHEN %s THEN now() END)", (phone, closed))
    migrate(scratch, part="gateway")
    with psycopg.connect(scratch, row_factory=dict_row) as conn:
        rows = conn.execute("SELECT event_id, event_type, body FROM outbox ORDER BY body->'payload'->>'phone'").fetchall()
        ids = {r["phone"]: str(r["id"]) for r in conn.execute("SELECT id, phone FROM accounts")}
    assert [r["event_type"] for r in rows] == ["account_registered"] * 2, "the open accounts, once each"
    events = [read_envelope(signed(json.dumps(r["body"]))) for r in rows]  # as the relay sends them
    assert [str(e["event_id"]) for e in events] == [str(r["event_id"]) for r in rows]
    assert [e["event_type"] for e in events] == ["gateway.account_registered"] * 2
    assert [e["payload"] for e in events] == [
        {"member_id": ids[phone], "phone": phone, "language": "zh-CN"} for phone in ("13900000001", "13900000002")]


def test_accounts_opened_before_the_front_desk_carry_over_and_only_the_ids_last_4_fit(scratch):  # noqa: F811
    migrate(scratch, before="0007", part="gateway")
    with psycopg.connect(scratch, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (phone, name, password_hash, roles) VALUES ('13900000001', 'Wang', 'x',"
                     " '{member}')")
    migrate(scratch, part="gateway")
    with psycopg.connect(scratch, autocommit=True) as conn:
        assert conn.execute("SELECT id_last4 FROM accounts").fetchall() == [(None,)]
        conn.execute("INSERT INTO accounts (phone, name, password_hash, roles, id_last4)"
                     " VALUES ('13900000002', 'Zhao', 'x', '{desk}', '002X')")
        for whole in ("11010519491231002X", "002x", "12"):
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute("INSERT INTO accounts (phone, name, password_hash, id_last4)"
                             " VALUES ('13900000003', 'Li', 'x', %s)", (whole,))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO accounts (phone, name, password_hash, roles)"
                         " VALUES ('13900000004', 'Li', 'x', '{janitor}')")
