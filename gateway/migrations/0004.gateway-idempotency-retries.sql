-- a claim whose request failed on our side (a 503 while a service or the database restarts) is
-- kept, released, instead of deleted: the member's retry with the same key takes it over, and
-- `tries` tells the rate limit that the key was already counted
ALTER TABLE idempotency_keys
    ADD COLUMN released boolean NOT NULL DEFAULT false,
    ADD COLUMN tries integer NOT NULL DEFAULT 1;
