-- depends: 0101.notify-inbox
-- when the event happened, for the latency from event to inbox
ALTER TABLE inbox ADD COLUMN event_at timestamptz;

CREATE TABLE contacts (
    member_id      uuid PRIMARY KEY,
    phone          text CHECK (phone ~ '^\+?[0-9]{5,20}$'),
    email          text CHECK (position('@' IN email) > 1 AND length(email) <= 254),
    wechat_openid  text CHECK (length(wechat_openid) BETWEEN 1 AND 128),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- a member's choices; the defaults (services/notify/domain.py) apply while there is no row
CREATE TABLE preferences (
    member_id   uuid PRIMARY KEY,
    settings    jsonb NOT NULL CHECK (jsonb_typeof(settings) = 'object'),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- one message to one member on one channel outside the app
CREATE TABLE deliveries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    member_id        uuid NOT NULL,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    category         text NOT NULL,
    urgent           boolean NOT NULL DEFAULT false,
    channel          text NOT NULL CHECK (channel IN ('wechat', 'sms', 'email', 'console')),
    address          text NOT NULL,
    language         text NOT NULL,
    title            text NOT NULL,
    body             text NOT NULL,
    rendered         jsonb NOT NULL,  -- the message for every channel (title, body, sms and wechat templates)
    route            jsonb NOT NULL,  -- [[channel, address], ...]: where to fail over to
    -- held: waiting for the quiet hours to end; pending: due at next_attempt_at; sending: claimed
    -- by a dispatcher until lease_until; skipped: over the daily cap
    state            text NOT NULL CHECK (state IN ('held', 'pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    last_error       text,
    failover_of      uuid REFERENCES deliveries (id),
    event_at         timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    -- one message per member, event and channel: a redelivered event cannot send a second SMS
    UNIQUE (member_id, event_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('held', 'pending', 'sending');
CREATE INDEX deliveries_failed ON deliveries (finished_at DESC) WHERE state = 'failed';
CREATE INDEX deliveries_member_day ON deliveries (member_id, created_at);

-- reminders of class sessions and bookings, sent `lead` before they start
CREATE TABLE reminders (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    member_id   uuid NOT NULL,
    subject     text NOT NULL,           -- 'session:<id>' or 'booking:<id>'
    grp         text,                    -- 'course:<id>': cancelling a course cancels its reminders
    title       text NOT NULL,
    place       text,
    starts_at   timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'sent', 'cancelled')),
    sent_at     timestamptz,
    UNIQUE (member_id, subject)
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE state = 'due';
