-- depends: 0108.enrolment-waitlist-length
-- Issue 23: a waiting entry's place in line without counting the whole line ahead of it (18,000
-- entries after the largest class launch: 460 pages read for the last one). Each number
-- 1..courses.waitlist_seq is given to one entry, under the course lock; an entry leaving the line
-- (promoted, offered, cancelled) keeps its number in left_line_seq. A waiting entry's place is its
-- number less the departures ahead of it: none in a class launch, a handful in a term.
ALTER TABLE enrolments ADD COLUMN left_line_seq integer;
CREATE INDEX enrolments_left_line ON enrolments (course_id, left_line_seq) WHERE left_line_seq IS NOT NULL;
-- today's lines renumbered 1..n in their order (the numbers of those who left before were not kept)
UPDATE enrolments e SET waitlist_seq = r.n
FROM (SELECT id, row_number() OVER (PARTITION BY course_id ORDER BY waitlist_seq, created_at, id) AS n
      FROM enrolments WHERE status = 'waitlisted') r
WHERE r.id = e.id;
UPDATE courses SET waitlist_seq = waitlist_length;
