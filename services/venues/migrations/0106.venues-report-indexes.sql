-- depends: 0105.venues-room-no-show-settings
-- The yearly report reads the bookings held in a period by their start (index-only: the hours and
-- the site ride in the index).
CREATE INDEX bookings_report ON bookings (starts_at) INCLUDE (ends_at, site_id)
    WHERE status IN ('confirmed', 'checked_in');
