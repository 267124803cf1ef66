-- depends: 0001.common-outbox
CREATE TABLE courses (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    category         text,
    description      text,
    capacity         integer NOT NULL CHECK (capacity > 0),
    -- seats are counted under the course's row lock; the check is the last guard against overbooking
    confirmed_count  integer NOT NULL DEFAULT 0 CHECK (confirmed_count BETWEEN 0 AND capacity),
    waitlist_seq     integer NOT NULL DEFAULT 0,
    opens_at         timestamptz NOT NULL DEFAULT now(),
    closes_at        timestamptz,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (closes_at IS NULL OR closes_at > opens_at)
);

CREATE TABLE enrolments (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id        uuid NOT NULL REFERENCES courses (id),
    member_id        uuid NOT NULL,
    status           text NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'offered', 'registered', 'cancelled')),
    waitlist_seq     integer,
    idempotency_key  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'waitlisted') = (waitlist_seq IS NOT NULL))
);
-- one live enrolment per member and course, whatever the concurrency
CREATE UNIQUE INDEX enrolments_one_live ON enrolments (course_id, member_id) WHERE status <> 'cancelled';
-- a retried request (same member, same Idempotency-Key) finds its first answer
CREATE UNIQUE INDEX enrolments_request ON enrolments (member_id, idempotency_key);
CREATE INDEX enrolments_waitlist ON enrolments (course_id, waitlist_seq) WHERE status = 'waitlisted';
CREATE INDEX enrolments_member ON enrolments (member_id, created_at);
