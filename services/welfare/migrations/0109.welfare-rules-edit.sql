-- depends: 0108.welfare-eligibility-rules
-- Welfare staff change a programme's eligibility rules over the API (the city's relief line moves
-- every year). `rules_version` is the optimistic check: a change names the version it read, and
-- the UPDATE only matches that version, so of two officers saving at once one is refused.
ALTER TABLE programmes ADD COLUMN rules_version integer NOT NULL DEFAULT 1 CHECK (rules_version >= 1);
ALTER TABLE programmes ADD COLUMN rules_updated_at timestamptz;

-- Every change of a programme's rules: who, when, why, the rules before and after. Insert-only,
-- like the decision ledger and the case reads; one row per version a programme's rules reach.
CREATE TABLE programme_rule_changes (
    id          bigserial PRIMARY KEY,
    programme   text NOT NULL REFERENCES programmes (code),
    version     integer NOT NULL,
    old_rules   jsonb NOT NULL CHECK (jsonb_typeof(old_rules) = 'array'),
    new_rules   jsonb NOT NULL CHECK (jsonb_typeof(new_rules) = 'array'),
    actor_id    uuid NOT NULL,
    note        text NOT NULL DEFAULT '',
    request_id  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (programme, version)
);
CREATE TRIGGER programme_rule_changes_insert_only BEFORE UPDATE OR DELETE ON programme_rule_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
