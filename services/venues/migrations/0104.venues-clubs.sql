-- depends: 0103.venues-calendar-feeds
-- Clubs (the choir, the dance troupe...) as records of their own: a venue manager sets one up with
-- its leader, who may then book for it; bookings and weekly quotas refer to the club by id.
CREATE TABLE clubs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    leader_id   uuid NOT NULL,           -- the member who books for it
    site_id     uuid REFERENCES sites (id),  -- the Workers' Home it belongs to; NULL: the palace's or the city's
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- one club of a name per site (and one among the clubs of no site)
CREATE UNIQUE INDEX clubs_name ON clubs (lower(name), site_id) NULLS NOT DISTINCT;
CREATE INDEX clubs_leader ON clubs (leader_id);

ALTER TABLE bookings ADD COLUMN club_id uuid REFERENCES clubs (id);

-- the club names typed so far become clubs, led by the member who first booked under each
INSERT INTO clubs (name, leader_id, created_at)
SELECT DISTINCT ON (lower(club)) club, member_id, created_at FROM bookings
WHERE club IS NOT NULL AND member_id IS NOT NULL ORDER BY lower(club), created_at;
UPDATE bookings b SET club_id = c.id FROM clubs c WHERE lower(b.club) = lower(c.name);

ALTER TABLE bookings DROP COLUMN club;
CREATE INDEX bookings_club ON bookings (club_id, room_id, starts_at) WHERE club_id IS NOT NULL;
