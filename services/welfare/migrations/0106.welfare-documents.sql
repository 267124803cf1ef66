-- depends: 0105.welfare-claim-reads
-- The documents of a case are the files themselves (PDF, JPEG or PNG, at most 10 MiB), kept in the
-- welfare database beside the case they prove: written in the same transaction, backed up with it,
-- and readable only through the service that knows who is on the case (compose runs no object store).
-- applications.documents (names typed before files were kept) is no longer written.
CREATE TABLE application_documents (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id  uuid NOT NULL REFERENCES applications (id),
    kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,59}$'),
    filename        text NOT NULL CHECK (length(filename) BETWEEN 1 AND 200),
    content_type    text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size            integer NOT NULL CHECK (size BETWEEN 1 AND 10485760),
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content         bytea NOT NULL CHECK (octet_length(content) = size),
    uploaded_by     uuid NOT NULL,
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    -- the same file sent again as the same document (a retry) is the same attachment
    UNIQUE (application_id, kind, sha256)
);
-- PDFs and photos are compressed already: keep them out of line without trying again
ALTER TABLE application_documents ALTER COLUMN content SET STORAGE EXTERNAL;
-- a decision froze the hashes of the files it saw: they stay as they were
CREATE TRIGGER application_documents_insert_only BEFORE UPDATE OR DELETE ON application_documents
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- a staff download of a document is a read of its case
ALTER TABLE case_reads ADD COLUMN document_id uuid REFERENCES application_documents (id);
