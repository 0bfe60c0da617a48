-- INSERT, UPDATE and DELETE of a mapped table: one message per row, seq 1..n within the
-- transaction, the commit marker's count = n. An UPDATE that changes the key sends the
-- delete of the old key first, then the upsert under the new one.
\set VERBOSITY terse
CREATE TABLE dml_contacts (id int PRIMARY KEY, email text, name text);
SELECT crmsync.map('dml', 'dml_contacts', 'contacts', 'id');
SELECT 'init' FROM crmsync.create_slot('dml');

INSERT INTO dml_contacts VALUES (1, 'ann@example.com', 'Ann');
INSERT INTO dml_contacts VALUES (2, 'bob@example.com', 'Bob'), (3, 'cy@example.com', NULL);
UPDATE dml_contacts SET name = 'Ann A' WHERE id = 1;
-- An update that changes nothing is still an update.
UPDATE dml_contacts SET name = name WHERE id = 2;
DELETE FROM dml_contacts WHERE id = 3;
SELECT * FROM regress.get_changes('crmsync_dml', 'crm', 'dml');

-- Several statements in one transaction, in order.
BEGIN;
INSERT INTO dml_contacts VALUES (4, 'dee@example.com', 'Dee');
UPDATE dml_contacts SET email = upper(email) WHERE id IN (1, 2);
DELETE FROM dml_contacts WHERE id = 4;
COMMIT;
SELECT * FROM regress.get_changes('crmsync_dml', 'crm', 'dml');

-- Key changes: under REPLICA IDENTITY DEFAULT the old key comes with the update.
UPDATE dml_contacts SET id = 10 WHERE id = 1;
-- Key changes among other changes of one transaction.
BEGIN;
UPDATE dml_contacts SET id = 102 WHERE id = 2;
UPDATE dml_contacts SET id = 110, name = 'Ann B' WHERE id = 10;
UPDATE dml_contacts SET name = 'Bob B' WHERE id = 102;
COMMIT;
SELECT * FROM regress.get_changes('crmsync_dml', 'crm', 'dml');

-- The id column NULL: the message still goes out, unkeyed, with an error.
ALTER TABLE dml_contacts REPLICA IDENTITY FULL;
ALTER TABLE dml_contacts DROP CONSTRAINT dml_contacts_pkey;
ALTER TABLE dml_contacts ALTER COLUMN id DROP NOT NULL;
INSERT INTO dml_contacts VALUES (NULL, 'nokey@example.com', 'No Key');
UPDATE dml_contacts SET name = 'Still No Key' WHERE id IS NULL;
DELETE FROM dml_contacts WHERE id IS NULL;
SELECT * FROM regress.get_changes('crmsync_dml', 'crm', 'dml');

SELECT crmsync.drop_slot('dml');
SELECT crmsync.unmap('dml', 'dml_contacts');
DROP TABLE dml_contacts;
