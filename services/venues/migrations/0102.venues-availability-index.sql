-- depends: 0101.venues-rooms-bookings
-- availability answers the smallest rooms that fit first, walking this index and stopping at the page
CREATE INDEX rooms_capacity ON rooms (capacity, id);
-- and asks each room "held around then?" by a btree walk (cheaper than a probe of the gist index)
CREATE INDEX booking_claims_room_start ON booking_claims (room_id, lower(blocked)) INCLUDE (blocked);
