-- depends: 0104.welfare-one-claim-per-event
-- Staff reads of mutual-aid claims (health data) are logged like reads of cases.
ALTER TABLE case_reads ALTER COLUMN application_id DROP NOT NULL;
ALTER TABLE case_reads ADD COLUMN claim_id uuid REFERENCES claims (id);
ALTER TABLE case_reads ADD CHECK ((application_id IS NULL) <> (claim_id IS NULL));
CREATE INDEX case_reads_claim ON case_reads (claim_id, id) WHERE claim_id IS NOT NULL;
