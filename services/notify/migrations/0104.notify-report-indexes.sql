-- depends: 0103.notify-broadcasts
-- The yearly report counts the messages sent in a period per channel, and the inbox entries made in
-- it: index-only scans of these, not walks of the messages' bodies.
CREATE INDEX deliveries_sent ON deliveries (finished_at) INCLUDE (channel) WHERE state = 'sent';
CREATE INDEX inbox_report ON inbox (created_at);
