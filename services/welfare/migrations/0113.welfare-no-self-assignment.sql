-- depends: 0112.welfare-report-indexes
-- Issue 18: an officer never assigns a case or a claim to themselves; a welfare admin or another
-- officer (the triager) gives it to them. The service refuses it with a 403; these checks keep it so
-- for any other writer. NOT VALID: rows assigned before the rule stay as they were (and are read
-- as such), every new assignment is checked.
ALTER TABLE applications ADD COLUMN assigned_by uuid;
ALTER TABLE applications ADD CONSTRAINT applications_not_self_assigned
    CHECK (assigned_by IS DISTINCT FROM assigned_officer OR assigned_officer IS NULL) NOT VALID;
ALTER TABLE claims ADD CONSTRAINT claims_not_self_assigned
    CHECK (assigned_by IS DISTINCT FROM assigned_officer OR assigned_officer IS NULL) NOT VALID;
