-- depends: 0107.enrolment-closed-members
-- Issue 23: a course's waitlist length, kept beside confirmed_count under the course's row lock by
-- the statements that move an entry into or out of the line (store.add_enrolment, set_status,
-- waitlist_again). It was counted: each enrolment into a full course counted the whole line under
-- the lock to answer its place (O(n) per enrolment, O(n^2) per class launch; 18,000 rows at the
-- 20,000-member rush). The CHECK is the guard against a path that forgets to count a departure.
ALTER TABLE courses ADD COLUMN waitlist_length integer NOT NULL DEFAULT 0 CHECK (waitlist_length >= 0);
UPDATE courses c SET waitlist_length = w.n
FROM (SELECT course_id, count(*) AS n FROM enrolments WHERE status = 'waitlisted' GROUP BY course_id) w
WHERE w.course_id = c.id;
