-- depends: 0105.enrolment-front-desk
-- The yearly report (GET /v1/reports/summary) reads a period by these times; the columns it groups
-- and counts ride in the index, so a year is an index-only scan, not a walk of the wide rows.
CREATE INDEX sessions_report ON sessions (starts_at) INCLUDE (course_id, state, ends_at);
CREATE INDEX enrolments_report ON enrolments (created_at) INCLUDE (course_id, status)
    WHERE status IN ('confirmed', 'waitlisted');
CREATE INDEX attendance_present ON attendance (session_id) INCLUDE (member_id) WHERE present;
