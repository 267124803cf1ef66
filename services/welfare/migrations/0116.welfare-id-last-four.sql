-- depends: 0115.welfare-key-ring
-- A national ID is shown by its last 4 only: the first 4 (the region) with the birth date a member's
-- account holds gave back most of the number.
UPDATE applications SET national_id_mask = repeat('*', length(national_id_mask) - 4) || right(national_id_mask, 4)
 WHERE national_id_mask IS NOT NULL AND national_id_mask !~ '^[*]+.{4}$';
UPDATE plan_enrolments SET national_id_mask = repeat('*', length(national_id_mask) - 4) || right(national_id_mask, 4)
 WHERE national_id_mask !~ '^[*]+.{4}$';
