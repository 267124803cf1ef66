-- depends: 0107.welfare-claim-assignment
-- The common eligibility rules as data each programme is checked against when a case is submitted
-- (the `eligibility` text stays as what members read). A rule is {"rule": name, ...its figures}:
--   min_membership_months {months}, income_per_person_below {amount: fen a month},
--   unit_in_plan {}, one_per_year {}.
ALTER TABLE programmes ADD COLUMN eligibility_rules jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(eligibility_rules) = 'array');

-- what the gateway knows of the applicant when the case is opened: since when they are a member
-- (their account), and the unit they work for
ALTER TABLE applications ADD COLUMN member_since date;
ALTER TABLE applications ADD COLUMN member_unit uuid;
CREATE INDEX applications_member_programme ON applications (member_id, programme, created_at);

UPDATE programmes SET eligibility_rules = '[{"rule": "income_per_person_below", "amount": 150000}]'
 WHERE code = 'hardship_relief';
UPDATE programmes SET eligibility_rules = '[{"rule": "unit_in_plan"}]' WHERE code = 'mutual_aid';
UPDATE programmes SET eligibility_rules = '[{"rule": "one_per_year"}]' WHERE code = 'education_subsidy';
UPDATE programmes SET eligibility_rules = '[{"rule": "min_membership_months", "months": 12}, {"rule": "one_per_year"}]'
 WHERE code = 'merit_scholarship';
