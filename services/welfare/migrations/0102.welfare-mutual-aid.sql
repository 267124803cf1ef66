-- depends: 0101.welfare-cases
-- The mutual-aid plan: plan years, units' contributions, enrolments, claims.

CREATE TABLE plans (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    year           integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    name           text NOT NULL,
    contribution   bigint NOT NULL CHECK (contribution >= 0),   -- per member, fen
    rules          jsonb NOT NULL,
    created_by     uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (year, name)
);

-- cover starts when the unit's contribution is recorded
CREATE TABLE unit_contributions (
    plan_id      uuid NOT NULL REFERENCES plans (id),
    unit_id      uuid NOT NULL,
    amount       bigint NOT NULL CHECK (amount > 0),
    recorded_by  uuid,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, unit_id)
);

CREATE TABLE plan_enrolments (
    id                 bigserial PRIMARY KEY,
    plan_id            uuid NOT NULL REFERENCES plans (id),
    unit_id            uuid NOT NULL,
    member_id          uuid,
    name               text NOT NULL,
    phone              text,
    national_id_hash   text NOT NULL,
    national_id_cipher bytea NOT NULL,
    national_id_mask   text NOT NULL,
    job_id             uuid,
    enrolled_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (plan_id, national_id_hash)
);
CREATE INDEX plan_enrolments_member ON plan_enrolments (member_id, plan_id) WHERE member_id IS NOT NULL;
CREATE INDEX plan_enrolments_unit ON plan_enrolments (plan_id, unit_id);

CREATE TABLE import_jobs (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id        uuid NOT NULL REFERENCES plans (id),
    unit_id        uuid NOT NULL,
    uploaded_by    uuid,
    status         text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    csv            text,
    total_rows     integer NOT NULL DEFAULT 0,
    processed_rows integer NOT NULL DEFAULT 0,
    enrolled_rows  integer NOT NULL DEFAULT 0,
    bad_rows       integer NOT NULL DEFAULT 0,
    errors         jsonb NOT NULL DEFAULT '[]',
    failure        text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz
);
CREATE INDEX import_jobs_queued ON import_jobs (created_at) WHERE status = 'queued';

CREATE TABLE claims (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id         uuid NOT NULL REFERENCES plans (id),
    enrolment_id    bigint NOT NULL REFERENCES plan_enrolments (id),
    member_id       uuid NOT NULL,
    submitted_by    uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('hospital', 'critical_illness', 'accident')),
    event_date      date NOT NULL,
    details         jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'submitted' CHECK (state IN ('submitted', 'approved', 'rejected', 'paid')),
    amount          bigint NOT NULL CHECK (amount >= 0),
    explanation     jsonb NOT NULL,
    decided_by      uuid,
    decided_at      timestamptz,
    note            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claims_member ON claims (member_id, created_at);
CREATE INDEX claims_enrolment ON claims (enrolment_id, state);
