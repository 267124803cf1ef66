-- depends: 0116.welfare-id-last-four
-- A case nearing its programme's time limit warns its officer and the admins once per wait, as
-- escalated_at marks the alert once it is past.
ALTER TABLE applications ADD COLUMN warned_at timestamptz;
