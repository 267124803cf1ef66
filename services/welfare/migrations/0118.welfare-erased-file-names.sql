-- depends: 0117.welfare-sla-warnings
-- A closed account's documents lose the name they were sent under with their content: a name such as
-- "diagnosis_cancer.pdf" says what the erased file said. The kind, type, size and hash stay (a
-- decision froze the hashes of the files it saw). A document row may still only be sealed again, or
-- erased: its content emptied and its name made 'erased' (a file is never empty otherwise).
CREATE FUNCTION refuse_change_but_reseal_or_erase() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) - 'content' = to_jsonb(OLD) - 'content' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND octet_length(NEW.content) = 0 AND NEW.filename = 'erased'
       AND to_jsonb(NEW) - 'content' - 'filename' = to_jsonb(OLD) - 'content' - 'filename' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is insert-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER application_documents_insert_only ON application_documents;
CREATE TRIGGER application_documents_insert_only BEFORE UPDATE OR DELETE ON application_documents
    FOR EACH ROW EXECUTE FUNCTION refuse_change_but_reseal_or_erase();
DROP TRIGGER claim_documents_insert_only ON claim_documents;
CREATE TRIGGER claim_documents_insert_only BEFORE UPDATE OR DELETE ON claim_documents
    FOR EACH ROW EXECUTE FUNCTION refuse_change_but_reseal_or_erase();

-- the documents erased before this kept their names: they go now
UPDATE application_documents SET filename = 'erased' WHERE octet_length(content) = 0;
UPDATE claim_documents SET filename = 'erased' WHERE octet_length(content) = 0;
