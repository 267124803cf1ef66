-- depends: 0104.enrolment-course-teachers
-- the front desk enrols and cancels on a member's behalf: who acted is kept on the entry (NULL for
-- the member themselves), with the clerk's name as it was then, so the member's history names them
ALTER TABLE enrolments
    ADD COLUMN enrolled_by        uuid,
    ADD COLUMN enrolled_by_name   text,
    ADD COLUMN cancelled_by_name  text;
