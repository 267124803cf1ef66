-- depends: 0102.notify-deliveries
-- a message staff send to many members at once: a course's students, a unit, everyone
CREATE TABLE broadcasts (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    audience     text NOT NULL CHECK (audience IN ('course', 'unit', 'all')),
    course_id    uuid,
    unit_id      uuid,
    title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 60),
    body         text NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 500),
    sent_by      uuid NOT NULL,
    recipients   integer NOT NULL CHECK (recipients > 0),
    -- sending: the dispatcher tells its members a group at a time; cancelled: the rest are not told
    state        text NOT NULL DEFAULT 'sending' CHECK (state IN ('sending', 'done', 'cancelled')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);

-- each member once per broadcast, whatever the audience lists twice
CREATE TABLE broadcast_recipients (
    broadcast_id  uuid NOT NULL REFERENCES broadcasts (id),
    member_id     uuid NOT NULL,
    told_at       timestamptz,
    PRIMARY KEY (broadcast_id, member_id)
);
CREATE INDEX broadcast_recipients_waiting ON broadcast_recipients (broadcast_id) WHERE told_at IS NULL;
