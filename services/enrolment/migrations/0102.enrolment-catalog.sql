-- depends: 0101.enrolment-courses
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE terms (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    holidays    date[] NOT NULL DEFAULT '{}',
    class_cap   integer NOT NULL DEFAULT 3 CHECK (class_cap > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on)
);

ALTER TABLE courses
    ADD COLUMN version               integer NOT NULL DEFAULT 1,
    ADD COLUMN state                 text NOT NULL DEFAULT 'published'
                                     CHECK (state IN ('draft', 'published', 'cancelled')),
    ADD COLUMN term_id               uuid REFERENCES terms (id),
    ADD COLUMN teacher               text,
    ADD COLUMN site_id               uuid,
    ADD COLUMN district              text,
    ADD COLUMN room_id               uuid,
    ADD COLUMN allocation            text NOT NULL DEFAULT 'first_come'
                                     CHECK (allocation IN ('first_come', 'lottery')),
    ADD COLUMN draw_at               timestamptz,
    ADD COLUMN min_age               integer CHECK (min_age >= 0),
    ADD COLUMN max_age               integer CHECK (max_age >= 0),
    ADD COLUMN unit_ids              uuid[],
    ADD COLUMN group_limit           integer NOT NULL DEFAULT 1 CHECK (group_limit >= 1),
    ADD COLUMN cancel_cutoff         timestamptz,
    ADD COLUMN offer_hours           integer CHECK (offer_hours > 0),
    ADD COLUMN attendance_threshold  numeric(4, 3) NOT NULL DEFAULT 0.8
                                     CHECK (attendance_threshold > 0 AND attendance_threshold <= 1),
    ADD COLUMN drawn_at              timestamptz,
    ADD COLUMN updated_at            timestamptz NOT NULL DEFAULT now(),
    ADD CHECK (allocation <> 'lottery' OR draw_at IS NOT NULL),
    ADD CHECK (max_age IS NULL OR min_age IS NULL OR max_age >= min_age),
    ADD CHECK (group_limit <= capacity);
CREATE INDEX courses_term ON courses (term_id);
CREATE INDEX courses_lottery_due ON courses (draw_at) WHERE allocation = 'lottery' AND drawn_at IS NULL;

ALTER TABLE enrolments
    ADD COLUMN seats             integer NOT NULL DEFAULT 1 CHECK (seats >= 1),
    ADD COLUMN offer_expires_at  timestamptz,
    ADD COLUMN cancel_reason     text,
    ADD COLUMN cancelled_by      uuid,
    ADD COLUMN birth_date        date,
    ADD CHECK ((status = 'offered') = (offer_expires_at IS NOT NULL));
CREATE INDEX enrolments_offers ON enrolments (offer_expires_at) WHERE status = 'offered';

CREATE TABLE sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id     uuid NOT NULL REFERENCES courses (id),
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    state         text NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'room_lost', 'cancelled')),
    booking_id    uuid,
    checkin_code  text NOT NULL,
    reminded_at   timestamptz,
    CHECK (ends_at > starts_at),
    UNIQUE (course_id, starts_at)
);
CREATE INDEX sessions_upcoming ON sessions (starts_at) WHERE reminded_at IS NULL;
CREATE INDEX sessions_booking ON sessions (booking_id);

-- a member's confirmed classes never overlap: one row per confirmed seat and session
CREATE TABLE member_slots (
    enrolment_id  uuid NOT NULL REFERENCES enrolments (id),
    member_id     uuid NOT NULL,
    session_id    uuid NOT NULL REFERENCES sessions (id),
    during        tstzrange NOT NULL,
    PRIMARY KEY (enrolment_id, session_id),
    EXCLUDE USING gist (member_id WITH =, during WITH &&)
);

-- the per-member cap of classes per term: counted under this row's lock, checked by PostgreSQL
CREATE TABLE member_terms (
    member_id   uuid NOT NULL,
    term_id     uuid NOT NULL REFERENCES terms (id),
    live_count  integer NOT NULL DEFAULT 0,
    cap         integer NOT NULL,
    PRIMARY KEY (member_id, term_id),
    CHECK (live_count BETWEEN 0 AND cap)
);

CREATE TABLE lotteries (
    course_id  uuid PRIMARY KEY REFERENCES courses (id),
    seed       text NOT NULL,
    seats      integer NOT NULL,
    inputs     jsonb NOT NULL,
    result     jsonb NOT NULL,
    drawn_at   timestamptz NOT NULL DEFAULT now(),
    drawn_by   uuid
);

CREATE TABLE attendance (
    session_id    uuid NOT NULL REFERENCES sessions (id),
    member_id     uuid NOT NULL,
    enrolment_id  uuid NOT NULL REFERENCES enrolments (id),
    present       boolean NOT NULL,
    source        text NOT NULL CHECK (source IN ('teacher', 'check_in')),
    marked_by     uuid,
    marked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, member_id)
);

CREATE TABLE strikes (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    member_id     uuid NOT NULL,
    session_id    uuid NOT NULL REFERENCES sessions (id),
    course_id     uuid NOT NULL REFERENCES courses (id),
    term_id       uuid REFERENCES terms (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    cleared_at    timestamptz,
    cleared_by    uuid,
    clear_reason  text,
    UNIQUE (session_id, member_id),
    CHECK ((cleared_at IS NULL) = (clear_reason IS NULL))
);
CREATE INDEX strikes_member ON strikes (member_id) WHERE cleared_at IS NULL;

CREATE TABLE certificates (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enrolment_id    uuid NOT NULL UNIQUE REFERENCES enrolments (id),
    code            text NOT NULL UNIQUE,
    member_id       uuid NOT NULL,
    course_id       uuid NOT NULL REFERENCES courses (id),
    course_title    text NOT NULL,
    attended        integer NOT NULL,
    sessions_count  integer NOT NULL,
    issued_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE class_requests (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    unit_id       uuid NOT NULL,
    requested_by  uuid NOT NULL,
    title         text NOT NULL,
    category      text,
    description   text,
    site_id       uuid NOT NULL,
    capacity      integer NOT NULL CHECK (capacity > 0),
    note          text,
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'declined')),
    reason        text,
    course_id     uuid REFERENCES courses (id),
    decided_by    uuid,
    decided_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'declined') = (reason IS NOT NULL) OR state = 'approved'),
    CHECK ((state = 'approved') = (course_id IS NOT NULL))
);
CREATE INDEX class_requests_unit ON class_requests (unit_id, created_at);
