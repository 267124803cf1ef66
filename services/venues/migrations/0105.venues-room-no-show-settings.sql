-- depends: 0104.venues-clubs
-- Each room sets how early check-in opens and how many no-shows (in how many days) stop a holder
-- from booking it; the defaults are the values every room had before.
ALTER TABLE rooms
    ADD COLUMN checkin_opens_minutes integer NOT NULL DEFAULT 15 CHECK (checkin_opens_minutes BETWEEN 0 AND 240),
    ADD COLUMN no_show_limit integer NOT NULL DEFAULT 3 CHECK (no_show_limit BETWEEN 1 AND 100),
    ADD COLUMN no_show_days integer NOT NULL DEFAULT 90 CHECK (no_show_days BETWEEN 1 AND 366);
