"""Retention: each part deletes its old delivery records (outbox rows sent, processed events,
notify's finished deliveries, the gateway's idempotency keys and ended rate-limit windows) by a
periodic sweep of its own, a bounded batch at a time; rows are aged here by SQL."""
import uuid

import psycopg

from services.common import config, retention
from services.notify import store as notify_store
from tests.harness import eventually

SWEEP = {"PALACE_RETENTION_SWEEP": "0.5", "PALACE_RETAIN_EVENTS_DAYS": "30", "PALACE_RETAIN_DELIVERIES_DAYS": "90",
         "PALACE_RETAIN_IDEMPOTENCY_DAYS": "2"}


def outbox_row(conn, age_days, sent=True):
    event_id = str(uuid.uuid4())
    conn.execute("INSERT INTO outbox (event_id, event_type, body, created_at, sent_at)"
                 " VALUES (%s, 'test', '{}', now() - make_interval(days => %s),"
                 " CASE WHEN %s THEN now() - make_interval(days => %s) END)", (event_id, age_days, sent, age_days))
    return event_id


def processed(conn, age_days):
    event_id = str(uuid.uuid4())
    conn.execute("INSERT INTO processed_events (consumer, event_id, processed_at)"
                 " VALUES ('test', %s, now() - make_interval(days => %s))", (event_id, age_days))
    return event_id


def delivery(conn, age_days, state="sent", failover_of=None):
    row = conn.execute(
        "INSERT INTO deliveries (member_id, event_id, event_type, category, channel, address, language, title,"
        " body, rendered, route, state, event_at, created_at, finished_at, failover_of)"
        " VALUES (gen_random_uuid(), gen_random_uuid(), 'test', 'test', 'sms', '13900000001', 'zh', 't',"
        " 'your code', '{}', '[]', %s, now(), now() - make_interval(days => %s),"
        " CASE WHEN %s IN ('sent', 'failed', 'skipped') THEN now() - make_interval(days => %s) END, %s)"
        " RETURNING id", (state, age_days, state, age_days, failover_of)).fetchone()
    return str(row["id"])


def present(conn, table, column, ids):
    return {str(r["k"]) for r in conn.execute(f"SELECT {column} AS k FROM {table} WHERE {column}::text = ANY(%s)",
                                               (list(ids),))}


def test_a_service_sweeps_its_sent_outbox_and_processed_events(stack):
    with stack.db("venues") as conn:
        old_sent, new_sent, old_unsent = outbox_row(conn, 31), outbox_row(conn, 29), outbox_row(conn, 40, sent=False)
        old_done, new_done = processed(conn, 31), processed(conn, 1)
    stack.start("venues", extra_env=SWEEP)
    with stack.db("venues") as conn:
        eventually(lambda: not present(conn, "outbox", "event_id", [old_sent]), timeout=20)
        eventually(lambda: not present(conn, "processed_events", "event_id", [old_done]), timeout=20)
        assert present(conn, "outbox", "event_id", [new_sent, old_unsent]) == {new_sent, old_unsent}, \
            "a recent row and an unsent one stay"
        assert present(conn, "processed_events", "event_id", [new_done]) == {new_done}


def test_notify_sweeps_finished_deliveries_but_not_those_still_to_send(stack):
    with stack.db("notify") as conn:
        first = delivery(conn, 100, "failed")
        failover = delivery(conn, 100, "sent", failover_of=first)
        pending, recent = delivery(conn, 100, "pending"), delivery(conn, 10, "sent")
    stack.start("notify", extra_env=SWEEP)
    with stack.db("notify") as conn:
        eventually(lambda: not present(conn, "deliveries", "id", [first, failover]), timeout=20)
        assert present(conn, "deliveries", "id", [pending, recent]) == {pending, recent}


def test_the_gateway_sweeps_old_idempotency_keys_and_ended_rate_limit_windows(stack):
    account = str(uuid.uuid4())
    with stack.db("gateway") as conn:
        conn.execute("INSERT INTO idempotency_keys (account_id, key, request_hash, status, body, created_at) VALUES"
                     " (%s, 'old', 'h', 201, '{}', now() - interval '3 days'), (%s, 'new', 'h', 201, '{}', now())",
                     (account, account))
        conn.execute("INSERT INTO rate_limits (key, window_start, hits) VALUES"
                     " ('test:old', now() - interval '3 days', 1), ('test:now', now(), 1)")
    stack.start("gateway-feed", extra_env={**SWEEP, "PALACE_RATE_LIMIT_SWEEP": "0.5"})
    with stack.db("gateway") as conn:
        eventually(lambda: not present(conn, "idempotency_keys", "key", ["old"]), timeout=20)
        eventually(lambda: not present(conn, "rate_limits", "key", ["test:old"]), timeout=20)
        assert present(conn, "idempotency_keys", "key", ["new"]) == {"new"}
        assert present(conn, "rate_limits", "key", ["test:now"]) == {"test:now"}


def test_a_sweep_deletes_a_bounded_batch_per_transaction(stack, monkeypatch):
    monkeypatch.setenv("PALACE_RETAIN_EVENTS_DAYS", "30")
    with stack.db("welfare") as conn:
        old = [outbox_row(conn, 60) for _ in range(5)]
    with psycopg.connect(f"{config.pg_server()}/{stack.tag}_welfare", autocommit=True) as conn:
        assert retention.sweep(conn, retention.EVENTS[:1], batch=2, most_batches=2) == {"outbox": 4}
        assert retention.sweep(conn, retention.EVENTS[:1], batch=2) == {"outbox": 1}
    with stack.db("welfare") as conn:
        assert not present(conn, "outbox", "event_id", old)
    assert notify_store.FINISHED_DELIVERIES.table == "deliveries"

