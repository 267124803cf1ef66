CREATE TABLE units (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    phone          text NOT NULL UNIQUE,
    name           text NOT NULL,
    password_hash  text NOT NULL,
    roles          text[] NOT NULL DEFAULT '{member}',
    unit_id        uuid REFERENCES units (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    CHECK (roles <@ ARRAY['member', 'teacher', 'venue_manager', 'welfare_officer', 'unit_admin', 'admin'])
);

-- refresh tokens are stored as hashes and rotated on use
CREATE TABLE refresh_tokens (
    token_hash  text PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

-- the answer to each create, so a retry with the same Idempotency-Key replays it
CREATE TABLE idempotency_keys (
    account_id    uuid NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    status        integer,
    body          jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);

-- settings the gateway makes for itself on first start (e.g. a token key when none is configured)
CREATE TABLE settings (
    name   text PRIMARY KEY,
    value  text NOT NULL
);
