-- depends: 0109.welfare-rules-edit
-- Mutual aid that pays: workers enrolled by their unit's roster are linked to their accounts, an
-- officer claims for a worker who has none, claims carry documents, large claims need two
-- officers and are never paid by one who approved them, contributions reach the fund ledger.

-- The accounts welfare has heard of (gateway.account_registered): how a roster row finds its member.
CREATE TABLE members (
    member_id      uuid PRIMARY KEY,
    phone          text NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_phone ON members (phone, registered_at);
CREATE INDEX plan_enrolments_unlinked_phone ON plan_enrolments (phone) WHERE member_id IS NULL;
-- (hash, id): the latest linked row of a person is one index probe, not a walk of every row
CREATE INDEX plan_enrolments_person ON plan_enrolments (national_id_hash, id);

-- Renewal (续保) copies last year's roster: its rows wait for the unit administrator to confirm them.
ALTER TABLE plan_enrolments ADD COLUMN renewed_from bigint REFERENCES plan_enrolments (id);
ALTER TABLE plan_enrolments ADD COLUMN confirmed_at timestamptz;
UPDATE plan_enrolments SET confirmed_at = enrolled_at;
ALTER TABLE plan_enrolments ALTER COLUMN confirmed_at SET DEFAULT now();

-- A claim filed by an officer for a worker with no account yet: the member is known once linked.
ALTER TABLE claims ALTER COLUMN member_id DROP NOT NULL;
ALTER TABLE payouts ALTER COLUMN member_id DROP NOT NULL;
ALTER TABLE payouts ADD COLUMN enrolment_id bigint REFERENCES plan_enrolments (id);
ALTER TABLE payouts ADD CHECK (member_id IS NOT NULL OR enrolment_id IS NOT NULL);

-- N-of-M sign-off of claims, as for cases: one row per officer who approved, each officer once.
ALTER TABLE claims DROP CONSTRAINT claims_state_check;
ALTER TABLE claims ADD CONSTRAINT claims_state_check
    CHECK (state IN ('submitted', 'under_review', 'approved', 'rejected', 'paid'));
ALTER TABLE claims ADD COLUMN approvals_needed integer NOT NULL DEFAULT 1 CHECK (approvals_needed BETWEEN 1 AND 5);

CREATE TABLE claim_approvals (
    claim_id     uuid NOT NULL REFERENCES claims (id),
    officer_id   uuid NOT NULL,
    amount       bigint NOT NULL CHECK (amount >= 0),
    approved_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (claim_id, officer_id)
);
CREATE TRIGGER claim_approvals_insert_only BEFORE UPDATE OR DELETE ON claim_approvals
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- a claim is approved only with as many distinct officers' approvals as it needs
CREATE FUNCTION claim_signed_enough() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'approved' AND OLD.state <> 'approved'
       AND (SELECT count(*) FROM claim_approvals WHERE claim_id = NEW.id) < NEW.approvals_needed THEN
        RAISE EXCEPTION 'claim % needs % approvals', NEW.id, NEW.approvals_needed USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER claims_signed_enough BEFORE UPDATE OF state ON claims
    FOR EACH ROW EXECUTE FUNCTION claim_signed_enough();

-- whoever approved a claim never pays it
CREATE FUNCTION payout_not_by_approver() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.claim_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM claim_approvals WHERE claim_id = NEW.claim_id AND officer_id = NEW.paid_by) THEN
        RAISE EXCEPTION 'the officer who approved claim % may not pay it', NEW.claim_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_not_by_approver';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payouts_not_by_approver BEFORE INSERT ON payouts
    FOR EACH ROW EXECUTE FUNCTION payout_not_by_approver();

-- claims' documents: the same rules as cases' documents
CREATE TABLE claim_documents (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    claim_id        uuid NOT NULL REFERENCES claims (id),
    kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,59}$'),
    filename        text NOT NULL CHECK (length(filename) BETWEEN 1 AND 200),
    content_type    text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size            integer NOT NULL CHECK (size BETWEEN 1 AND 10485760),
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content         bytea NOT NULL CHECK (octet_length(content) = size),
    uploaded_by     uuid NOT NULL,
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (claim_id, kind, sha256)
);
ALTER TABLE claim_documents ALTER COLUMN content SET STORAGE EXTERNAL;
CREATE TRIGGER claim_documents_insert_only BEFORE UPDATE OR DELETE ON claim_documents
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
ALTER TABLE case_reads ADD COLUMN claim_document_id uuid REFERENCES claim_documents (id);

-- a unit's contribution is money into the plan's fund: a ledger transaction of its own kind
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('budget', 'commitment', 'payout', 'reversal', 'contribution'));
ALTER TABLE ledger_transactions ADD COLUMN plan_id uuid;
ALTER TABLE ledger_transactions ADD COLUMN unit_id uuid;
CREATE UNIQUE INDEX ledger_one_contribution ON ledger_transactions (plan_id, unit_id) WHERE kind = 'contribution';
ALTER TABLE unit_contributions ADD COLUMN headcount integer;
