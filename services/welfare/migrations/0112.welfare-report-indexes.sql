-- depends: 0111.welfare-counselling-where
-- The yearly report reads cases, approvals, payouts, mutual-aid enrolments and contributions of a
-- period by their times; what it groups and sums rides in each index (index-only scans).
CREATE INDEX applications_report ON applications (created_at) INCLUDE (programme, member_unit, state);
CREATE INDEX decisions_approved ON decisions (created_at) INCLUDE (application_id) WHERE to_state = 'approved';
CREATE INDEX payouts_report ON payouts (created_at) INCLUDE (application_id, claim_id, amount);
CREATE INDEX plan_enrolments_report ON plan_enrolments (enrolled_at) INCLUDE (unit_id);
CREATE INDEX unit_contributions_report ON unit_contributions (recorded_at) INCLUDE (unit_id, amount);
