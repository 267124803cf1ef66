-- depends: 0001.common-outbox
CREATE TABLE inbox (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    member_id   uuid NOT NULL,
    event_id    uuid NOT NULL,
    event_type  text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    -- one entry per member and event, even if the handler's own record were bypassed
    UNIQUE (member_id, event_id)
);
CREATE INDEX inbox_member ON inbox (member_id, created_at DESC);
