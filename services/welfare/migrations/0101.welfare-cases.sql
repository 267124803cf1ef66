-- depends: 0001.common-outbox
-- Money is integer fen (1 yuan = 100 fen) everywhere in this database.

CREATE TABLE settings (
    name   text PRIMARY KEY,
    value  text NOT NULL
);

-- A fund holds money for one or more programmes; its ledger has four accounts.
CREATE TABLE funds (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]{1,60}$'),
    name        text NOT NULL
);

-- Double entry: every transaction's entries sum to zero, so all balances together are zero.
--   allocation  the money the union put in (negative: where it came from)
--   available   budget not yet promised
--   committed   promised by an approval, not yet paid
--   paid_out    paid to members
CREATE TABLE ledger_accounts (
    fund_id   text NOT NULL REFERENCES funds (id),
    kind      text NOT NULL CHECK (kind IN ('allocation', 'available', 'committed', 'paid_out')),
    balance   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (fund_id, kind),
    -- a fund cannot go below zero: nothing is promised or paid that it does not hold
    CHECK (kind = 'allocation' OR balance >= 0),
    CHECK (kind <> 'allocation' OR balance <= 0)
);

CREATE TABLE ledger_transactions (
    id           bigserial PRIMARY KEY,
    fund_id      text NOT NULL REFERENCES funds (id),
    kind         text NOT NULL CHECK (kind IN ('budget', 'commitment', 'payout', 'reversal')),
    year         integer NOT NULL,
    application_id uuid,
    claim_id     uuid,
    payout_id    uuid,
    memo         text NOT NULL,
    actor_id     uuid,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_transactions_fund ON ledger_transactions (fund_id, id);
-- one payout moves money once per fund
CREATE UNIQUE INDEX ledger_one_payout_per_fund ON ledger_transactions (payout_id, fund_id) WHERE kind = 'payout';

CREATE TABLE ledger_entries (
    id              bigserial PRIMARY KEY,
    transaction_id  bigint NOT NULL REFERENCES ledger_transactions (id),
    fund_id         text NOT NULL,
    account         text NOT NULL,
    amount          bigint NOT NULL CHECK (amount <> 0),
    FOREIGN KEY (fund_id, account) REFERENCES ledger_accounts (fund_id, kind)
);
CREATE INDEX ledger_entries_txn ON ledger_entries (transaction_id);

CREATE FUNCTION ledger_entry_posts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_accounts SET balance = balance + NEW.amount
     WHERE fund_id = NEW.fund_id AND kind = NEW.account;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_entries_post AFTER INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_posts();

CREATE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE total bigint;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (sum %)', NEW.transaction_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balance AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is insert-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_entries_insert_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER ledger_transactions_insert_only BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE programmes (
    code                 text PRIMARY KEY,
    name                 text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('money', 'service')),
    fund_id              text REFERENCES funds (id),
    -- amounts above the threshold need `approvals_required` sign-offs by distinct officers
    approval_threshold   bigint NOT NULL DEFAULT 0 CHECK (approval_threshold >= 0),
    approvals_required   integer NOT NULL DEFAULT 1 CHECK (approvals_required BETWEEN 1 AND 5),
    max_amount           bigint CHECK (max_amount > 0),
    sla                  interval NOT NULL DEFAULT interval '5 days',
    required_documents   text[] NOT NULL DEFAULT '{}',
    eligibility          text NOT NULL DEFAULT '',
    yearly_budget        bigint NOT NULL DEFAULT 0 CHECK (yearly_budget >= 0),
    -- legal aid and counselling move no money; education pays from the funds of its parts
    CHECK (kind = 'service' OR fund_id IS NOT NULL OR code = 'education_subsidy')
);

-- fixed parts of a programme's benefit, each from its own fund (education: province + city)
CREATE TABLE programme_parts (
    programme  text NOT NULL REFERENCES programmes (code),
    fund_id    text NOT NULL REFERENCES funds (id),
    amount     bigint NOT NULL CHECK (amount > 0),
    label      text NOT NULL,
    PRIMARY KEY (programme, fund_id)
);

CREATE TABLE applications (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reference          text NOT NULL UNIQUE,
    programme          text NOT NULL REFERENCES programmes (code),
    member_id          uuid NOT NULL,
    submitted_by       uuid NOT NULL,
    state              text NOT NULL CHECK (state IN
                         ('draft', 'submitted', 'under_review', 'approved', 'rejected', 'returned', 'paid', 'closed')),
    round              integer NOT NULL DEFAULT 1,
    amount_requested   bigint NOT NULL CHECK (amount_requested >= 0),
    amount_approved    bigint CHECK (amount_approved >= 0),
    reason             text NOT NULL,
    documents          text[] NOT NULL DEFAULT '{}',
    -- health, income and family: seen only by the applicant and the officers on the case
    private            jsonb NOT NULL DEFAULT '{}',
    national_id_cipher bytea,
    national_id_mask   text,
    assigned_officer   uuid,
    priority           text NOT NULL DEFAULT 'normal' CHECK (priority IN ('urgent', 'normal', 'low')),
    escalated_at       timestamptz,
    state_since        timestamptz NOT NULL DEFAULT now(),
    decided_at         timestamptz,
    idempotency_key    text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (state NOT IN ('approved', 'paid') OR amount_approved IS NOT NULL)
);
CREATE INDEX applications_member ON applications (member_id, created_at);
CREATE INDEX applications_open ON applications (state_since) WHERE state IN ('submitted', 'under_review');
CREATE UNIQUE INDEX applications_request ON applications (submitted_by, idempotency_key);
CREATE SEQUENCE application_numbers;

-- The decision ledger: every transition, who made it, when, why, and the facts it rested on.
CREATE TABLE decisions (
    id              bigserial PRIMARY KEY,
    application_id  uuid NOT NULL REFERENCES applications (id),
    round           integer NOT NULL,
    action          text NOT NULL CHECK (action IN
                      ('submit', 'approve', 'reject', 'return', 'pay', 'close', 'escalate', 'assign', 'appointment')),
    from_state      text NOT NULL,
    to_state        text NOT NULL,
    actor_id        uuid,
    amount          bigint,
    note            text NOT NULL DEFAULT '',
    facts           jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_application ON decisions (application_id, id);
-- no officer signs the same case twice in one round
CREATE UNIQUE INDEX decisions_one_approval ON decisions (application_id, round, actor_id) WHERE action = 'approve';
CREATE TRIGGER decisions_insert_only BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE payouts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reference       text NOT NULL UNIQUE,
    application_id  uuid UNIQUE REFERENCES applications (id),
    claim_id        uuid UNIQUE,
    member_id       uuid NOT NULL,
    amount          bigint NOT NULL CHECK (amount > 0),
    paid_by         uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((application_id IS NULL) <> (claim_id IS NULL))
);
CREATE SEQUENCE payout_numbers;
CREATE TRIGGER payouts_insert_only BEFORE UPDATE OR DELETE ON payouts
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- every read of a case by staff
CREATE TABLE case_reads (
    id              bigserial PRIMARY KEY,
    application_id  uuid NOT NULL REFERENCES applications (id),
    reader_id       uuid NOT NULL,
    saw_private     boolean NOT NULL,
    request_id      text,
    read_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_reads_application ON case_reads (application_id, id);
CREATE TRIGGER case_reads_insert_only BEFORE UPDATE OR DELETE ON case_reads
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE appointments (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id  uuid NOT NULL REFERENCES applications (id),
    room_id         text NOT NULL,
    booking_id      text NOT NULL,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (application_id, booking_id)
);

-- Seed: the funds and the six programmes.
INSERT INTO funds (id, name) VALUES
    ('hardship_relief', 'Hardship relief fund'),
    ('mutual_aid', 'Mutual-aid plan fund'),
    ('education_province', 'Education support: provincial fund'),
    ('education_city', 'Education support: city fund'),
    ('merit_scholarship', 'Merit scholarship fund');
INSERT INTO ledger_accounts (fund_id, kind)
    SELECT f.id, k.kind FROM funds f CROSS JOIN (VALUES ('allocation'), ('available'), ('committed'), ('paid_out')) k (kind);

INSERT INTO programmes (code, name, kind, fund_id, approval_threshold, approvals_required, max_amount, sla,
                        required_documents, eligibility, yearly_budget) VALUES
    ('hardship_relief', 'Hardship relief', 'money', 'hardship_relief', 300000, 2, 2000000, interval '5 days',
     '{income_statement}', 'a member whose household income is below the local minimum, or who met a sudden hardship', 500000000),
    ('mutual_aid', 'Mutual-aid plan', 'money', 'mutual_aid', 500000, 2, 10000000, interval '10 days',
     '{}', 'a member enrolled in this year''s plan by their unit', 2000000000),
    ('education_subsidy', 'Education support (province 1,000 + city 500)', 'money', NULL, 150000, 1, 150000,
     interval '10 days', '{enrolment_certificate}', 'a worker enrolled in a degree course', 0),
    ('merit_scholarship', 'Merit scholarship', 'money', 'merit_scholarship', 500000, 2, 1000000, interval '10 days',
     '{award_certificate}', 'a model worker or their child admitted to higher education', 100000000),
    ('legal_aid', 'Legal aid', 'service', NULL, 0, 1, NULL, interval '2 days', '{}',
     'any member with a labour dispute', 0),
    ('counselling', 'Counselling (heart station)', 'service', NULL, 0, 1, NULL, interval '2 days', '{}',
     'any member', 0);
INSERT INTO programme_parts (programme, fund_id, amount, label) VALUES
    ('education_subsidy', 'education_province', 100000, 'provincial education support'),
    ('education_subsidy', 'education_city', 50000, 'city education support');

-- this year's budgets, as balanced ledger transactions
DO $$
DECLARE
    budget record;
    txn bigint;
    this_year integer := extract(year FROM now() AT TIME ZONE 'Asia/Shanghai');
BEGIN
    FOR budget IN SELECT * FROM (VALUES
        ('hardship_relief', 500000000::bigint), ('mutual_aid', 2000000000), ('education_province', 200000000),
        ('education_city', 100000000), ('merit_scholarship', 100000000)) b (fund_id, amount)
    LOOP
        INSERT INTO ledger_transactions (fund_id, kind, year, memo)
            VALUES (budget.fund_id, 'budget', this_year, 'yearly budget ' || this_year) RETURNING id INTO txn;
        INSERT INTO ledger_entries (transaction_id, fund_id, account, amount) VALUES
            (txn, budget.fund_id, 'allocation', -budget.amount), (txn, budget.fund_id, 'available', budget.amount);
    END LOOP;
END $$;
