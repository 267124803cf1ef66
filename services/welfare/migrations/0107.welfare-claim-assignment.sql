-- depends: 0106.welfare-documents
-- A claim is triaged to an officer like a case: its health details are for the member, that
-- officer and the officer who decides it.
ALTER TABLE claims ADD COLUMN assigned_officer uuid;
ALTER TABLE claims ADD COLUMN assigned_by uuid;
ALTER TABLE claims ADD COLUMN assigned_at timestamptz;
CREATE INDEX claims_assigned ON claims (assigned_officer, created_at) WHERE assigned_officer IS NOT NULL;
