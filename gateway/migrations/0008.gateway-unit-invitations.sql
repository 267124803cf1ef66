-- depends: 0007.gateway-front-desk
-- Issue 18: a unit administrator invites a member by phone and the member joins by accepting; the
-- administrator no longer pulls an account into the unit. One open invitation per unit and account.
CREATE TABLE unit_invitations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    unit_id     uuid NOT NULL REFERENCES units (id),
    account_id  uuid NOT NULL REFERENCES accounts (id),
    invited_by  uuid NOT NULL REFERENCES accounts (id),
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    answered_at timestamptz,
    CHECK ((status = 'pending') = (answered_at IS NULL))
);
CREATE UNIQUE INDEX unit_invitations_open ON unit_invitations (unit_id, account_id) WHERE status = 'pending';
CREATE INDEX unit_invitations_mine ON unit_invitations (account_id, created_at) WHERE status = 'pending';
