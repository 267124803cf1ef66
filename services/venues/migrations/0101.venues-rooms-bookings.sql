-- depends: 0001.common-outbox
-- Sites, rooms and bookings. No double booking is PostgreSQL's job: every live booking (pending
-- ones included) claims its room, and the rooms it contains, for its time plus the cleaning buffer,
-- and an exclusion constraint refuses two overlapping claims on one room.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE sites (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('palace', 'own_unit', 'shared', 'mobile')),
    district    text,
    address     text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_district ON sites (district);

CREATE TABLE rooms (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id            uuid NOT NULL REFERENCES sites (id),
    -- a part of a divisible room (a half of the hall); the whole and its parts block each other
    parent_id          uuid REFERENCES rooms (id),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    floor              integer,
    capacity           integer NOT NULL CHECK (capacity > 0),
    features           text[] NOT NULL DEFAULT '{}',
    -- {"mon": ["08:00", "22:00"], ...}; a weekday not named is closed; NULL: always open
    opening_hours      jsonb,
    bookable_by        text[] NOT NULL DEFAULT '{member}',
    buffer_minutes     integer NOT NULL DEFAULT 0 CHECK (buffer_minutes BETWEEN 0 AND 240),
    requires_approval  boolean NOT NULL DEFAULT false,
    checkin_minutes    integer CHECK (checkin_minutes BETWEEN 1 AND 240),
    max_advance_days   integer CHECK (max_advance_days BETWEEN 1 AND 1000),
    min_notice_minutes integer CHECK (min_notice_minutes BETWEEN 0 AND 100000),
    max_hours_per_week numeric CHECK (max_hours_per_week > 0),
    max_bookings_per_week integer CHECK (max_bookings_per_week > 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, name)
);
CREATE INDEX rooms_site ON rooms (site_id);
CREATE INDEX rooms_parent ON rooms (parent_id);
CREATE INDEX rooms_features ON rooms USING gin (features);

CREATE TABLE series (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    room_id          uuid NOT NULL REFERENCES rooms (id),
    title            text NOT NULL,
    holder_service   text NOT NULL,
    holder_reference text NOT NULL,
    rule             jsonb,
    released_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX series_holder ON series (holder_service, holder_reference);

CREATE TABLE bookings (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    room_id          uuid NOT NULL REFERENCES rooms (id),
    site_id          uuid NOT NULL REFERENCES sites (id),
    series_id        uuid REFERENCES series (id),
    occurrence       integer,
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    status           text NOT NULL CHECK (status IN
                       ('pending', 'confirmed', 'checked_in', 'rejected', 'cancelled', 'released')),
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    -- the time the room is held: the booking and the cleaning buffer after it
    blocked          tstzrange NOT NULL,
    holder_service   text NOT NULL,          -- 'members', 'enrolment', 'welfare'
    holder_reference text NOT NULL,          -- the member's id, or the other service's id
    member_id        uuid,
    club             text,
    reason           text,
    decided_by       uuid,
    checked_in_at    timestamptz,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (lower(blocked) = starts_at AND upper(blocked) >= ends_at),
    EXCLUDE USING gist (room_id WITH =, blocked WITH &&)
        WHERE (status IN ('pending', 'confirmed', 'checked_in'))
);
CREATE INDEX bookings_room_time ON bookings (room_id, starts_at);
CREATE INDEX bookings_holder ON bookings (holder_service, holder_reference, starts_at);
CREATE INDEX bookings_member ON bookings (member_id, starts_at);
CREATE INDEX bookings_series ON bookings (series_id, starts_at);
CREATE INDEX bookings_checkin ON bookings (starts_at) WHERE status = 'confirmed';

-- What each live booking holds: its room, and every part of it when it is a divisible whole.
-- A half's claim and the whole's claim on that half collide here.
CREATE TABLE booking_claims (
    booking_id  uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    room_id     uuid NOT NULL REFERENCES rooms (id),
    blocked     tstzrange NOT NULL,
    PRIMARY KEY (booking_id, room_id),
    EXCLUDE USING gist (room_id WITH =, blocked WITH &&)
);

CREATE FUNCTION sync_booking_claims() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.status = OLD.status AND NEW.blocked = OLD.blocked AND NEW.room_id = OLD.room_id THEN
            RETURN NEW;
        END IF;
        DELETE FROM booking_claims WHERE booking_id = NEW.id;
    END IF;
    IF NEW.status IN ('pending', 'confirmed', 'checked_in') THEN
        INSERT INTO booking_claims (booking_id, room_id, blocked)
        SELECT NEW.id, r.id, NEW.blocked FROM rooms r WHERE r.id = NEW.room_id OR r.parent_id = NEW.room_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bookings_claim AFTER INSERT OR UPDATE ON bookings
    FOR EACH ROW EXECUTE FUNCTION sync_booking_claims();

-- a part added to a room that already has bookings is held by them too
CREATE FUNCTION claim_new_part() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL THEN
        INSERT INTO booking_claims (booking_id, room_id, blocked)
        SELECT c.booking_id, NEW.id, c.blocked FROM booking_claims c WHERE c.room_id = NEW.parent_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER rooms_claim AFTER INSERT ON rooms FOR EACH ROW EXECUTE FUNCTION claim_new_part();

-- closures of a room, or of a whole site when room_id is NULL
CREATE TABLE closures (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES sites (id),
    room_id     uuid REFERENCES rooms (id),
    during      tstzrange NOT NULL CHECK (NOT isempty(during)),
    reason      text NOT NULL,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX closures_during ON closures USING gist (site_id, during);

-- public holidays and make-up working days (调休), loaded per year from calendar/<year>.json
CREATE TABLE calendar_days (
    day       date PRIMARY KEY,
    kind      text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name      text NOT NULL,
    -- a make-up working day keeps the timetable of this weekday (1 = Monday ... 7 = Sunday)
    as_weekday integer CHECK (as_weekday BETWEEN 1 AND 7),
    CHECK ((kind = 'workday') = (as_weekday IS NOT NULL))
);

-- which years were loaded from their file (a loaded year is then edited in the database)
CREATE TABLE calendar_years (
    year       integer PRIMARY KEY,
    source     text NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);

-- no-shows: a booking released because nobody checked in counts against its holder
CREATE TABLE strikes (
    booking_id       uuid PRIMARY KEY REFERENCES bookings (id),
    holder_service   text NOT NULL,
    holder_reference text NOT NULL,
    series_id        uuid,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX strikes_holder ON strikes (holder_service, holder_reference, created_at);
