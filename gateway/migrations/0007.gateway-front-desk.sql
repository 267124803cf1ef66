-- depends: 0006.gateway-token-generations-and-chains
-- the front desk: a `desk` role for the service-centre clerk, and the last 4 characters of a
-- member's national ID, which the clerk asks a walk-in for to find them. The full ID is never kept
-- (the 4 alone name no one; the phone or name narrows them down); the 18th character may be X.
ALTER TABLE accounts DROP CONSTRAINT accounts_roles_check,
    ADD CONSTRAINT accounts_roles_check
        CHECK (roles <@ ARRAY['member', 'teacher', 'venue_manager', 'welfare_officer', 'unit_admin', 'desk', 'admin']),
    ADD COLUMN id_last4 text CHECK (id_last4 ~ '^[0-9]{3}[0-9X]$'),
    -- the clerk who opened a walk-in's account (NULL: the member registered, or an admin made a staff account)
    ADD COLUMN opened_by uuid REFERENCES accounts (id);
CREATE INDEX accounts_id_last4 ON accounts (id_last4) WHERE deleted_at IS NULL AND id_last4 IS NOT NULL;
