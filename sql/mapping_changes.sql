-- A mapping change takes effect exactly at its position in the WAL: changes before it are
-- decoded with the old mapping, changes after it with the new one, within one transaction
-- and across transactions. The mapping change itself sends nothing.
\set VERBOSITY terse
CREATE TABLE remap_people (id int PRIMARY KEY, email text, name text);
CREATE TABLE remap_other (id int PRIMARY KEY);
SELECT crmsync.map('remap', 'remap_other', 'other', 'id');  -- so that the crm exists
SELECT 'init' FROM crmsync.create_slot('remap');

-- Not mapped yet, then mapped, in one transaction.
BEGIN;
INSERT INTO remap_people VALUES (1, 'one@example.com', 'One');
SELECT crmsync.map('remap', 'remap_people', 'contacts', 'id');
INSERT INTO remap_people VALUES (2, 'two@example.com', 'Two');
-- Remapped twice more inside the same transaction.
SELECT crmsync.map('remap', 'remap_people', 'leads', 'email', 'Email', '{"email":"Email","name":"FullName"}',
    '{insert,update}');
INSERT INTO remap_people VALUES (3, 'three@example.com', 'Three');
SELECT crmsync.map('remap', 'remap_people', 'leads', 'id', actions => '{insert}');
UPDATE remap_people SET name = 'Three B' WHERE id = 3;   -- 'update' is no longer mapped
INSERT INTO remap_people VALUES (4, 'four@example.com', 'Four');
COMMIT;
-- A later transaction sees the last mapping.
INSERT INTO remap_people VALUES (5, 'five@example.com', 'Five');
-- A mapping change alone sends nothing.
SELECT crmsync.map('remap', 'remap_people', 'people', 'id');
INSERT INTO remap_people VALUES (6, 'six@example.com', 'Six');
-- A mapping changed in a subtransaction that rolls back never applied.
BEGIN;
SAVEPOINT s;
SELECT crmsync.map('remap', 'remap_people', 'rolled_back', 'id');
INSERT INTO remap_people VALUES (7, 'seven@example.com', 'Seven');
ROLLBACK TO SAVEPOINT s;
INSERT INTO remap_people VALUES (8, 'eight@example.com', 'Eight');
COMMIT;
-- Unmapped: nothing more, not even a commit marker; in the same transaction as a change,
-- the change before it is still sent.
BEGIN;
UPDATE remap_people SET name = 'Eight B' WHERE id = 8;
SELECT crmsync.unmap('remap', 'remap_people');
UPDATE remap_people SET name = 'Eight C' WHERE id = 8;
COMMIT;
INSERT INTO remap_people VALUES (9, 'nine@example.com', 'Nine');
-- Mapped again.
SELECT crmsync.map('remap', 'remap_people', 'again', 'id', properties => '{"name":"n"}');
UPDATE remap_people SET name = 'Nine B' WHERE id = 9;

SELECT * FROM regress.get_changes('crmsync_remap', 'crm', 'remap');

SELECT crmsync.drop_slot('remap');
SELECT crmsync.unmap('remap', 'remap_people');
SELECT crmsync.unmap('remap', 'remap_other');
DROP TABLE remap_people, remap_other;

-- A crm whose last table was unmapped: its own slot, crmsync_<crm>, can still be drained
-- (the changes made while the table was mapped come out); a slot with another name gets
-- "unknown crm".
CREATE TABLE remap_last (id int PRIMARY KEY);
SELECT crmsync.map('remap_last', 'remap_last', 'last', 'id');
SELECT 'init' FROM crmsync.create_slot('remap_last');
SELECT 'init' FROM pg_create_logical_replication_slot('regression_remap_last', 'crmsync');
INSERT INTO remap_last VALUES (1);
SELECT crmsync.unmap('remap_last', 'remap_last');
INSERT INTO remap_last VALUES (2);
SELECT count(*) AS mappings FROM crmsync.mappings WHERE crm = 'remap_last';
\set VERBOSITY default
SELECT data FROM pg_logical_slot_peek_changes('regression_remap_last', NULL, NULL, 'crm', 'remap_last');
\set VERBOSITY terse
SELECT * FROM regress.get_changes('crmsync_remap_last', 'crm', 'remap_last');
SELECT crmsync.drop_slot('remap_last');
SELECT pg_drop_replication_slot('regression_remap_last');
DROP TABLE remap_last;
