-- depends: 0004.gateway-idempotency-retries
-- notify seeds a member's SMS contact from gateway.account_registered, which registration records
-- since this migration; the accounts opened before are told once here, in Chinese (the default).
-- Notify fills only contacts and preferences a member has not set, so nothing a member chose changes.
WITH opened AS (
    SELECT gen_random_uuid() AS event_id, id AS member_id, phone FROM accounts WHERE deleted_at IS NULL
)
INSERT INTO outbox (event_id, event_type, body)
SELECT event_id, 'account_registered', jsonb_build_object(
    'event_id', event_id, 'event_type', 'gateway.account_registered',
    'occurred_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'), 'version', 1,
    'payload', jsonb_build_object('member_id', member_id, 'phone', phone, 'language', 'zh-CN'))
FROM opened;
