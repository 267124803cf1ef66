-- depends: 0106.venues-report-indexes
-- Issue 18: a new room gets an advance limit (30 days) and a weekly quota (3 bookings per member or
-- club) unless its manager names others or null; the service's defaults (domain.ADVANCE_DAYS,
-- domain.BOOKINGS_PER_WEEK) and these are the same numbers. Rooms that exist keep what their managers
-- set: a NULL there was a manager's room until now, and changing it under bookings already made (a
-- series a year long) would refuse their moves without anyone having decided so; a manager sets the
-- limits on the room's screen.
ALTER TABLE rooms ALTER COLUMN max_advance_days SET DEFAULT 30;
ALTER TABLE rooms ALTER COLUMN max_bookings_per_week SET DEFAULT 3;
