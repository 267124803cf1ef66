-- depends: 0106.enrolment-report-indexes
-- Issue 18: the members whose account was closed (gateway.account_closed). Their data is erased once;
-- remembered here, and asked under the member's lock, so no enrolment made beside the erasure (the
-- front desk, a retry) brings the person back.
CREATE TABLE closed_members (
    member_id  uuid PRIMARY KEY,
    closed_at  timestamptz NOT NULL DEFAULT now()
);
