"""A broadcast on real PostgreSQL, a round at a time as the dispatcher takes it (no dispatcher runs
here, so the test decides when each round happens): each member once, and a cancel midway stops
the members not told yet."""
import uuid

import psycopg
from psycopg.rows import dict_row

from services.common import config
from services.notify import fanout, store


def rounds_until_idle(conn, most=10):
    told = []
    for _ in range(most):
        with conn.transaction():
            n = fanout.send_broadcast_group(conn)
        if not n:
            return told
        told.append(n)
    raise AssertionError(f"still telling after {most} rounds: {told}")


def connect():
    return psycopg.connect(config.db_url("notify"), row_factory=dict_row)


def test_a_broadcast_tells_each_member_once_a_group_at_a_time_and_a_cancel_stops_the_rest(stack):
    members = [str(uuid.uuid4()) for _ in range(1200)]
    message = {"audience": "all", "title": "文化宫通知", "body": "元旦游园会1月1日上午开始。"}
    with connect() as conn:
        with conn.transaction():
            whole = store.add_broadcast(conn, message, str(uuid.uuid4()), members + members[:10])
            cut = store.add_broadcast(conn, {**message, "title": "取消的通知"}, str(uuid.uuid4()), members[:1100])
        assert whole["recipients"] == 1200 and cut["recipients"] == 1100, "each member counted once"
        assert rounds_until_idle(conn) == [500, 500, 200], "the first broadcast, each member once"
        with conn.transaction():
            assert fanout.send_broadcast_group(conn) == 500  # the second one's first group...
            assert store.cancel_broadcast(conn, cut["id"]) is not None  # ...then it is cancelled
        assert rounds_until_idle(conn) == []
        assert store.broadcast(conn, whole["id"])["state"] == "done"
        stopped = store.broadcast(conn, cut["id"])
        assert (stopped["state"], stopped["told"]) == ("cancelled", 500)
        per_member = conn.execute("SELECT event_id, count(*) AS n FROM inbox WHERE event_id = ANY (%s)"
                                  " GROUP BY event_id, member_id", ([whole["id"], cut["id"]],)).fetchall()
        assert sum(r["n"] for r in per_member if r["event_id"] == whole["id"]) == 1200
        assert {r["n"] for r in per_member} == {1}, "nobody twice"
        assert sum(r["n"] for r in per_member if r["event_id"] == cut["id"]) == 500
