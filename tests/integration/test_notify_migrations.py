"""Notify's migrations carry existing preferences: English saved only because it was the default
when a member saved other settings becomes Chinese, the default now; English a member chose stays."""
import json
import time
import uuid

import psycopg

from tests.integration.test_venues_migrations import migrate

WHOLE = {"timezone": "Asia/Shanghai", "quiet_hours": {"start": "22:00", "end": "08:00"}, "daily_cap": 10,
         "categories": {c: ["wechat", "sms"] for c in ("classes", "rooms", "welfare", "reminders")}}


def saved(conn, settings):
    member = str(uuid.uuid4())
    conn.execute("INSERT INTO preferences (member_id, settings) VALUES (%s, %s)", (member, json.dumps(settings)))
    return member


def test_english_saved_as_the_old_default_becomes_chinese_and_english_chosen_stays(scratch):
    migrate(scratch, before="0103", part="notify")  # English was the default
    with psycopg.connect(scratch, autocommit=True) as conn:
        old_default = saved(conn, {**WHOLE, "language": "en", "daily_cap": 3})
        chose_chinese = saved(conn, {**WHOLE, "language": "zh-CN"})
    time.sleep(0.05)
    migrate(scratch, before="0108", part="notify")  # Chinese is the default: English saved now is chosen
    time.sleep(0.05)
    with psycopg.connect(scratch, autocommit=True) as conn:
        chose_english = saved(conn, {**WHOLE, "language": "en"})
        browser_english = saved(conn, {"language": "en"})  # registration from an English browser
    migrate(scratch, part="notify")
    with psycopg.connect(scratch) as conn:
        rows = {str(m): s for m, s in conn.execute("SELECT member_id, settings FROM preferences")}
    assert "language" not in rows[old_default] and rows[old_default]["daily_cap"] == 3, "the rest stays"
    assert "language" not in rows[chose_chinese]
    assert rows[chose_english]["language"] == "en" and rows[browser_english] == {"language": "en"}
