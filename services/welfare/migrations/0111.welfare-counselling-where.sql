-- depends: 0110.welfare-mutual-aid-pays
-- A counselling session says where it is, as venues named it when it was booked: the member is
-- told the room and the address, and their timetable shows them. The first escalation of a case is
-- the one the applicant hears of; the staff alert of every escalation names the officer.
ALTER TABLE appointments ADD COLUMN room_name text;
ALTER TABLE appointments ADD COLUMN site_name text;
ALTER TABLE appointments ADD COLUMN site_address text;
ALTER TABLE applications ADD COLUMN applicant_told_overdue_at timestamptz;
