"""A closed account's files lose the names they were sent under with their contents, on real
PostgreSQL: a case's and a claim's documents erased by welfare's erasure, and those erased before
names were erased too (by migration 0118); a document that is not erased still cannot be renamed."""
import base64
import uuid

import psycopg
import pytest

from services.welfare import store
from tests.integration.test_venues_migrations import migrate
from tests.integration.test_welfare_keys import FILE, private_case_and_claim
from tests.integration.test_welfare_payouts import MEMBER, rpc_as


@pytest.fixture(scope="module")
def welfare(stack):
    stack.start("welfare")
    return stack


def names(conn, table, owner, owner_id):
    return [r["filename"] for r in conn.execute(f"SELECT filename FROM {table} WHERE {owner} = %s ORDER BY filename",
                                                (owner_id,))]


def test_the_erasure_of_a_member_empties_their_files_and_blanks_their_names(welfare):
    _, draft, claim, worker = private_case_and_claim(welfare)
    with rpc_as(welfare, MEMBER, "member") as rpc:
        rpc.welfare.attach_document(draft["id"], "medical_report", "diagnosis_cancer.pdf",
                                    base64.b64encode(FILE + b"% oncology\n").decode())
    with welfare.db("welfare") as conn:
        assert "diagnosis_cancer.pdf" in names(conn, "application_documents", "application_id", draft["id"])
        with conn.transaction():
            store.erase_member(conn, MEMBER)
            store.erase_member(conn, str(worker))
        with conn.transaction():
            store.erase_member(conn, MEMBER)  # a redelivered account_closed changes nothing
        for table, owner, owner_id in (("application_documents", "application_id", draft["id"]),
                                       ("claim_documents", "claim_id", claim["id"])):
            assert set(names(conn, table, owner, owner_id)) == {"erased"}, table
            assert conn.execute(f"SELECT max(octet_length(content)) AS n FROM {table} WHERE {owner} = %s",
                                (owner_id,)).fetchone()["n"] == 0


def test_files_erased_before_lose_their_names_and_a_kept_file_still_cannot_be_renamed(scratch):  # noqa: F811
    migrate(scratch, before="0118", part="welfare")
    with psycopg.connect(scratch, autocommit=True) as conn:
        case = conn.execute(
            "INSERT INTO applications (reference, programme, member_id, submitted_by, state, amount_requested, reason)"
            " VALUES ('WA-ERASED', 'hardship_relief', %(m)s, %(m)s, 'closed', 0, '') RETURNING id",
            {"m": str(uuid.uuid4())}).fetchone()[0]
        for filename, digest, content in (("diagnosis_cancer.pdf", "a" * 64, b""),  # erased before
                                          ("payslip.pdf", "b" * 64, FILE)):
            conn.execute("INSERT INTO application_documents (application_id, kind, filename, content_type, size,"
                         " sha256, content, uploaded_by) VALUES (%s, 'medical_report', %s, 'application/pdf', %s,"
                         " %s, %s, %s)", (case, filename, len(FILE), digest, content, str(uuid.uuid4())))
    migrate(scratch, part="welfare")
    with psycopg.connect(scratch, autocommit=True) as conn:
        rows = conn.execute("SELECT filename, octet_length(content) FROM application_documents ORDER BY 1").fetchall()
        assert rows == [("erased", 0), ("payslip.pdf", len(FILE))]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE application_documents SET filename = 'erased' WHERE filename = 'payslip.pdf'")
