-- depends: 0102.welfare-mutual-aid
-- Counselling sessions remember the venues holder that booked them, and learn of cancellations.
ALTER TABLE appointments ADD COLUMN holder_reference text;
ALTER TABLE appointments ADD COLUMN cancelled_at timestamptz;
ALTER TABLE appointments ADD COLUMN cancel_reason text;
