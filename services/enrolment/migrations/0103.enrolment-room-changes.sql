-- depends: 0102.enrolment-catalog
-- a course's room series is held in venues under "<course id>" and, after each change of its
-- timetable or room, "<course id>/<n>": a new series may be reserved while the old one still holds
ALTER TABLE courses ADD COLUMN room_series integer NOT NULL DEFAULT 0 CHECK (room_series >= 0);

-- a session whose room venues took away may be rebooked alone in another room of the site
ALTER TABLE sessions
    ADD COLUMN room_id           uuid,  -- NULL: the course's room
    ADD COLUMN holder_reference  text;  -- NULL: the course's series
