-- What the old row carries decides what deletes and changed-only updates can send.
--   DEFAULT (primary key), USING INDEX: old key columns only, and only when they change
--   FULL: the whole old row; changed-only then sends just the changed properties
--   NOTHING: no old row at all
\set VERBOSITY terse
\set SHOW_CONTEXT never
CREATE TABLE ident_default (id int PRIMARY KEY, email text, name text);
CREATE TABLE ident_full (id int PRIMARY KEY, email text, name text);
ALTER TABLE ident_full REPLICA IDENTITY FULL;
CREATE TABLE ident_index (id int NOT NULL, email text NOT NULL, name text);
CREATE UNIQUE INDEX ident_index_email ON ident_index (email);
ALTER TABLE ident_index REPLICA IDENTITY USING INDEX ident_index_email;
SELECT crmsync.map('ident', 'ident_default', 'c', 'id');
SELECT crmsync.map('ident', 'ident_full', 'c', 'id');
SELECT crmsync.map('ident', 'ident_index', 'c', 'email');
SELECT 'init' FROM crmsync.create_slot('ident');

INSERT INTO ident_default VALUES (1, 'a@example.com', 'A');
INSERT INTO ident_full VALUES (1, 'a@example.com', 'A');
INSERT INTO ident_index VALUES (1, 'a@example.com', 'A');
UPDATE ident_default SET name = 'A2';
UPDATE ident_full SET name = 'A2';
UPDATE ident_full SET name = NULL, email = 'b@example.com';
UPDATE ident_full SET name = NULL;
UPDATE ident_index SET name = 'A2';
-- changed-only applies only where the old row is whole (FULL); the others send everything.
SELECT * FROM regress.peek_changes('crmsync_ident', 'crm', 'ident', 'include-commits', 'false', 'changed-only', 'true');
SELECT * FROM regress.get_changes('crmsync_ident', 'crm', 'ident', 'include-commits', 'false');

-- crmsync.map() refuses a mapping whose deletes could not carry the id column.
\set VERBOSITY default
SELECT crmsync.map('ident', 'ident_default', 'c', 'email');
ALTER TABLE ident_index REPLICA IDENTITY DEFAULT;
SELECT crmsync.map('ident', 'ident_index', 'c', 'email');
ALTER TABLE ident_full REPLICA IDENTITY NOTHING;
SELECT crmsync.map('ident', 'ident_full', 'c', 'id');
\set VERBOSITY terse
-- Without the delete action it is accepted, and deletes are not sent.
SELECT crmsync.map('ident', 'ident_default', 'c', 'email', actions => '{insert,update}');
-- An identity changed after mapping: deletes still go out, unkeyed, with the reason.
CREATE TABLE ident_pk (id int PRIMARY KEY, email text);
ALTER TABLE ident_pk REPLICA IDENTITY FULL;
SELECT crmsync.map('ident', 'ident_pk', 'c', 'email');
ALTER TABLE ident_pk REPLICA IDENTITY DEFAULT;
INSERT INTO ident_pk VALUES (1, 'pk@example.com');
-- ident_full is NOTHING now and still mapped with delete.
DELETE FROM ident_default;
DELETE FROM ident_pk;
UPDATE ident_full SET name = 'N';
DELETE FROM ident_full;
SELECT * FROM regress.get_changes('crmsync_ident', 'crm', 'ident', 'changed-only', 'true');

-- A key change under FULL: a delete of the old key, then an upsert of the new key with all
-- properties, also with changed-only (the new key's record has none of the old one's).
-- The key set to NULL: the old key's delete, then the unkeyed upsert with its error.
CREATE TABLE ident_rekey (id int PRIMARY KEY, email text, name text);
ALTER TABLE ident_rekey REPLICA IDENTITY FULL;
SELECT crmsync.map('ident', 'ident_rekey', 'c', 'email');
INSERT INTO ident_rekey VALUES (1, 'k1@example.com', 'K'), (2, 'k2@example.com', 'L');
UPDATE ident_rekey SET email = 'k1b@example.com' WHERE id = 1;
UPDATE ident_rekey SET email = 'k1c@example.com', name = 'K2' WHERE id = 1;
UPDATE ident_rekey SET name = 'K3' WHERE id = 1;
UPDATE ident_rekey SET email = NULL WHERE id = 2;
SELECT * FROM regress.peek_changes('crmsync_ident', 'crm', 'ident', 'include-commits', 'false', 'changed-only', 'true');
SELECT * FROM regress.get_changes('crmsync_ident', 'crm', 'ident', 'include-commits', 'false');
-- DEFAULT without a primary key (dropped after mapping) logs no old row: deletes go out
-- unkeyed, with the reason.
CREATE TABLE ident_nopk (id int PRIMARY KEY, email text);
SELECT crmsync.map('ident', 'ident_nopk', 'c', 'id');
ALTER TABLE ident_nopk DROP CONSTRAINT ident_nopk_pkey;
INSERT INTO ident_nopk VALUES (1, 'nopk@example.com');
DELETE FROM ident_nopk;
SELECT * FROM regress.get_changes('crmsync_ident', 'crm', 'ident', 'include-commits', 'false');

SELECT crmsync.drop_slot('ident');
SELECT crmsync.unmap('ident', t)
FROM unnest('{ident_default,ident_full,ident_index,ident_pk,ident_rekey,ident_nopk}'::regclass[]) t;
DROP TABLE ident_default, ident_full, ident_index, ident_pk, ident_rekey, ident_nopk;
