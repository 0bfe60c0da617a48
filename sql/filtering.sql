-- Only tables mapped for the slot's crm produce messages, and only for the mapped actions.
-- A transaction that sends nothing sends no commit marker either; the count of one that
-- does counts only what it sent.
\set VERBOSITY terse
CREATE TABLE filt_mapped (id int PRIMARY KEY, v text);
CREATE TABLE filt_unmapped (id int PRIMARY KEY, v text);
CREATE TABLE filt_other_crm (id int PRIMARY KEY, v text);
CREATE TABLE filt_inserts (id int PRIMARY KEY, v text);
CREATE TABLE filt_updates (id int PRIMARY KEY, v text);
CREATE TABLE filt_deletes (id int PRIMARY KEY, v text);
SELECT crmsync.map('filt', 'filt_mapped', 'mapped', 'id');
SELECT crmsync.map('filt_other', 'filt_other_crm', 'other', 'id');
SELECT crmsync.map('filt', 'filt_inserts', 'inserts', 'id', actions => '{insert}');
SELECT crmsync.map('filt', 'filt_updates', 'updates', 'id', actions => '{update}');
SELECT crmsync.map('filt', 'filt_deletes', 'deletes', 'id', actions => '{delete}');
SELECT 'init' FROM crmsync.create_slot('filt');

-- Only unmapped tables, or tables of another crm: nothing.
INSERT INTO filt_unmapped VALUES (1, 'u');
INSERT INTO filt_other_crm VALUES (1, 'o');
BEGIN;
INSERT INTO filt_unmapped SELECT g, 'u' FROM generate_series(2, 500) g;
UPDATE filt_other_crm SET v = 'o2';
DELETE FROM filt_unmapped;
COMMIT;
-- Mixed: only the mapped table's rows, numbered without gaps.
BEGIN;
INSERT INTO filt_unmapped VALUES (1, 'u');
INSERT INTO filt_mapped VALUES (1, 'm');
INSERT INTO filt_other_crm VALUES (2, 'o');
UPDATE filt_mapped SET v = 'm2';
DELETE FROM filt_unmapped;
DELETE FROM filt_mapped;
COMMIT;
-- Per-action mappings.
INSERT INTO filt_inserts VALUES (1, 'i');
INSERT INTO filt_updates VALUES (1, 'u');
INSERT INTO filt_deletes VALUES (1, 'd');
UPDATE filt_inserts SET v = 'i2';
UPDATE filt_updates SET v = 'u2';
UPDATE filt_deletes SET v = 'd2';
DELETE FROM filt_inserts;
DELETE FROM filt_updates;
DELETE FROM filt_deletes;

SELECT * FROM regress.get_changes('crmsync_filt', 'crm', 'filt');

SELECT crmsync.drop_slot('filt');
SELECT crmsync.unmap('filt', t) FROM unnest('{filt_mapped,filt_inserts,filt_updates,filt_deletes}'::regclass[]) t;
SELECT crmsync.unmap('filt_other', 'filt_other_crm');
DROP TABLE filt_mapped, filt_unmapped, filt_other_crm, filt_inserts, filt_updates, filt_deletes;
