-- depends: 0114.welfare-import-untrusted-rows
-- Welfare's private data sealed under a versioned key ring (services/welfare/crypto.py): a sealed
-- value starts with byte 1, the length of its key's id, the id, then AES-GCM's nonce and ciphertext.
-- The keys are never here: the service seals and opens; this database holds only ciphertext.

-- national IDs sealed before the ring (under PALACE_WELFARE_KEY, no head) name key '1': an existing
-- palace gives its old key that id (PALACE_WELFARE_KEYS=1:<the old key>) until a rotation reseals them
UPDATE applications SET national_id_cipher = '\x010131'::bytea || national_id_cipher
 WHERE national_id_cipher IS NOT NULL AND get_byte(national_id_cipher, 0) <> 1;
UPDATE plan_enrolments SET national_id_cipher = '\x010131'::bytea || national_id_cipher
 WHERE get_byte(national_id_cipher, 0) <> 1;

-- the id of the key a value was sealed under; NULL for a value from before sealing (plain)
CREATE FUNCTION sealed_key(value bytea) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN octet_length(value) > 2 AND get_byte(value, 0) = 1
                THEN convert_from(substring(value FROM 3 FOR get_byte(value, 1)), 'SQL_ASCII') END
$$;

-- a case's reason and private facts ({"reason", "private"}), a decision's copy of them, a claim's
-- health details: sealed. Rows from before keep their plain columns until welfare's resealing round
-- (or `palace welfare rotate-key`) seals them and empties those columns.
ALTER TABLE applications ADD COLUMN sealed bytea;
ALTER TABLE decisions ADD COLUMN sealed bytea;
ALTER TABLE claims ADD COLUMN sealed bytea;
-- files are sealed in place: the size and hash stay those of the file itself
ALTER TABLE application_documents DROP CONSTRAINT application_documents_check;
ALTER TABLE claim_documents DROP CONSTRAINT claim_documents_check;

-- Insert-only rows may be sealed again (a new key), and a decision's plain copy of the case's
-- private facts moved into its sealed column once; nothing else of them changes.
CREATE FUNCTION refuse_change_but_reseal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kept jsonb := to_jsonb(OLD) - TG_ARGV;
BEGIN
    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) - TG_ARGV = kept THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'decisions' AND OLD.sealed IS NULL AND NEW.sealed IS NOT NULL
       AND NEW.facts = OLD.facts - 'reason' - 'private'
       AND to_jsonb(NEW) - 'sealed' - 'facts' = to_jsonb(OLD) - 'sealed' - 'facts' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is insert-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER decisions_insert_only ON decisions;
CREATE TRIGGER decisions_insert_only BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change_but_reseal('sealed');
DROP TRIGGER application_documents_insert_only ON application_documents;
CREATE TRIGGER application_documents_insert_only BEFORE UPDATE OR DELETE ON application_documents
    FOR EACH ROW EXECUTE FUNCTION refuse_change_but_reseal('content');
DROP TRIGGER claim_documents_insert_only ON claim_documents;
CREATE TRIGGER claim_documents_insert_only BEFORE UPDATE OR DELETE ON claim_documents
    FOR EACH ROW EXECUTE FUNCTION refuse_change_but_reseal('content');
