-- depends: 0008.gateway-unit-invitations
-- A member moving to a new phone: a code sent to that phone proves it is theirs before the account
-- signs in with it (and notify texts it). Kept like password_resets: the code's hash, 5 guesses.
CREATE TABLE phone_changes (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id  uuid NOT NULL REFERENCES accounts (id),
    phone       text NOT NULL,
    code_hash   text NOT NULL,
    expires_at  timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX phone_changes_live ON phone_changes (account_id, created_at) WHERE used_at IS NULL;
