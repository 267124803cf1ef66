-- depends: 0107.venues-room-default-limits
-- Issue 18: the members whose account was closed (gateway.account_closed). Their bookings' words are
-- erased once; remembered here, and asked under the member's holder lock, so no booking made beside
-- the erasure brings the person back.
CREATE TABLE closed_members (
    member_id  uuid PRIMARY KEY,
    closed_at  timestamptz NOT NULL DEFAULT now()
);
