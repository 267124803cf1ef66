"""The account event that seeds a member's SMS contact is asynchronous: whatever the member did in
notify before it arrived (bound WeChat, set an email, set a phone) must not lose either side."""
import uuid

import psycopg
from psycopg.rows import dict_row

from services.common import config
from services.notify import fanout, store


def registered(member, phone):
    return {"event_id": str(uuid.uuid4()), "event_type": "gateway.account_registered",
            "payload": {"member_id": member, "phone": phone, "language": "zh-CN"}}


def contacts(conn, member):
    return conn.execute("SELECT phone, email, wechat_openid FROM contacts WHERE member_id = %s",
                        (member,)).fetchone()


def test_a_wechat_binding_before_the_account_event_keeps_both_the_openid_and_the_phone(stack):
    member = str(uuid.uuid4())
    with psycopg.connect(config.db_url("notify"), row_factory=dict_row) as conn:
        with conn.transaction():
            store.bind_wechat(conn, member, "oWxEarlyBinder")
        with conn.transaction():
            fanout.seed_member(conn, registered(member, "13900002222"))
        assert contacts(conn, member) == {"phone": "13900002222", "email": None, "wechat_openid": "oWxEarlyBinder"}


def test_a_phone_the_member_set_before_the_account_event_stays(stack):
    member = str(uuid.uuid4())
    with psycopg.connect(config.db_url("notify"), row_factory=dict_row) as conn:
        with conn.transaction():
            store.set_phone(conn, member, "13900003333")
        with conn.transaction():
            fanout.seed_member(conn, registered(member, "13900002222"))
        assert contacts(conn, member)["phone"] == "13900003333"
