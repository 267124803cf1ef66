-- depends: 0113.welfare-no-self-assignment
-- Issue 18: a unit's roster file names only the unit's workers. The rows whose member_id the
-- gateway's accounts do not place in the unit ({line: why}, found when the file is uploaded) are
-- error rows of the import, never linked to those accounts.
ALTER TABLE import_jobs ADD COLUMN untrusted jsonb NOT NULL DEFAULT '{}';
