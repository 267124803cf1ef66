-- depends: 0104.notify-report-indexes
-- A WeChat binding a member started: the `state` WeChat hands back with the code (kept as its
-- SHA-256 only, so the table cannot be used to finish someone else's), good once and for minutes.
CREATE TABLE wechat_states (
    digest      text PRIMARY KEY,
    member_id   uuid NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX wechat_states_expiry ON wechat_states (expires_at);
