-- depends: 0102.venues-availability-index
-- A holder's secret feed address, for calendar apps that cannot send a bearer token. Only the
-- token's SHA-256 is kept: the address is shown once, and a new one replaces (and kills) the old.
CREATE TABLE calendar_feeds (
    holder_service   text NOT NULL,
    holder_reference text NOT NULL,
    token_sha256     bytea NOT NULL UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (holder_service, holder_reference)
);
