-- depends: 0001.gateway-accounts

-- failed sign-ins and request bursts, counted per key (a phone, an address, a member) in fixed windows;
-- unlogged: losing the counts in a crash only forgives a few attempts
CREATE UNLOGGED TABLE rate_limits (
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- one-time codes to set a new password; only a hash is kept
CREATE TABLE password_resets (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id  uuid NOT NULL REFERENCES accounts (id),
    code_hash   text NOT NULL,
    expires_at  timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_resets_live ON password_resets (account_id, created_at) WHERE used_at IS NULL;

CREATE INDEX accounts_unit ON accounts (unit_id, name) WHERE deleted_at IS NULL;

-- the course catalog as the enrolment events describe it; `doc` is the public course, the counts
-- are kept apart because count events may arrive before the course's own event
CREATE TABLE catalog_courses (
    id               uuid PRIMARY KEY,
    doc              jsonb,
    doc_version      integer NOT NULL DEFAULT 0,
    version          integer NOT NULL DEFAULT 0,
    seats_left       integer,
    waitlist_length  integer,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX catalog_courses_listing ON catalog_courses ((doc ->> 'opens_at'), id) WHERE doc IS NOT NULL;
