-- depends: 0106.notify-follows
-- Members whose account was closed: an event that arrives after the erasure (a payout decided just
-- before, a class cancelled) must not write their inbox, reminders or contacts back.
CREATE TABLE closed_members (
    member_id  uuid PRIMARY KEY,
    closed_at  timestamptz NOT NULL DEFAULT now()
);
