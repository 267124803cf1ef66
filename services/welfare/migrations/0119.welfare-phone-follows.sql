-- depends: 0118.welfare-erased-file-names
-- The phone welfare finds a member's roster rows by follows their account (gateway.account_phone_changed):
-- `phone_at` is when the account had it (the event's time), so a registration and a phone change,
-- each on a queue of its own, cannot put an older phone back whatever order they arrive in. Rows
-- from before keep NULL: any account event is newer.
ALTER TABLE members ADD COLUMN phone_at timestamptz;

-- Members whose account was closed: an account event that arrives after the erasure (a phone
-- change sent just before it) must not write their phone back.
CREATE TABLE closed_members (
    member_id  uuid PRIMARY KEY,
    closed_at  timestamptz NOT NULL DEFAULT now()
);
