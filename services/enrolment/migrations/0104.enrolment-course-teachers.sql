-- depends: 0103.enrolment-room-changes
-- the teacher accounts who run a course: they alone (with admins) see and act on its staff side
ALTER TABLE courses ADD COLUMN teacher_ids uuid[] NOT NULL DEFAULT '{}';
-- "the courses I teach": teacher_ids @> ARRAY[me]
CREATE INDEX courses_teachers ON courses USING gin (teacher_ids);
