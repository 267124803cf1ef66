-- depends: 0103.welfare-appointments
-- One claim per member, kind and event: a second claim for the same hospital stay, illness or
-- accident is refused (a rejected claim may be filed again).
CREATE UNIQUE INDEX claims_one_per_event ON claims (enrolment_id, kind, event_date) WHERE state <> 'rejected';
