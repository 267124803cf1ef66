-- a member's birth date, given when the account is opened: the age limits of classes are checked
-- against it, not against what the member types when enrolling
ALTER TABLE accounts ADD COLUMN birth_date date CHECK (birth_date BETWEEN DATE '1900-01-01' AND DATE '2100-01-01');
