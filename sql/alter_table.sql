-- ALTER TABLE between changes: each change is rendered with the table as it was at that
-- point. Without a properties object every column is sent under its own name, so a new,
-- dropped or renamed column shows up as such. With one, a mapped column that no longer
-- exists draws a WARNING and its property is no longer sent; an id column that no longer
-- exists makes upserts unkeyed, with an error.
\set VERBOSITY terse
CREATE SCHEMA ddl_s;
CREATE TABLE ddl_s.all_cols (id int PRIMARY KEY, a text, b int);
CREATE TABLE ddl_s.named (id int PRIMARY KEY, a text, b int);
SELECT crmsync.map('ddl', 'ddl_s.all_cols', 'all', 'id');
SELECT crmsync.map('ddl', 'ddl_s.named', 'named', 'id', properties => '{"id":"Id","a":"A","b":"B"}');
SELECT 'init' FROM crmsync.create_slot('ddl');

INSERT INTO ddl_s.all_cols VALUES (1, 'a1', 1);
INSERT INTO ddl_s.named VALUES (1, 'a1', 1);
ALTER TABLE ddl_s.all_cols ADD COLUMN c date DEFAULT '2026-01-01';
ALTER TABLE ddl_s.named ADD COLUMN c date DEFAULT '2026-01-01';
INSERT INTO ddl_s.all_cols VALUES (2, 'a2', 2);
INSERT INTO ddl_s.named VALUES (2, 'a2', 2);
ALTER TABLE ddl_s.all_cols DROP COLUMN b;
ALTER TABLE ddl_s.named DROP COLUMN b;
INSERT INTO ddl_s.all_cols VALUES (3, 'a3');
INSERT INTO ddl_s.named VALUES (3, 'a3');
ALTER TABLE ddl_s.all_cols RENAME COLUMN a TO a_renamed;
ALTER TABLE ddl_s.named RENAME COLUMN a TO a_renamed;
INSERT INTO ddl_s.all_cols VALUES (4, 'a4');
INSERT INTO ddl_s.named VALUES (4, 'a4');
-- A type change rewrites the table; the value follows the new type.
ALTER TABLE ddl_s.all_cols ALTER COLUMN c TYPE text;
INSERT INTO ddl_s.all_cols VALUES (5, 'a5', 'five');
-- Renamed table and schema: "table" follows.
ALTER TABLE ddl_s.all_cols RENAME TO all_cols_renamed;
INSERT INTO ddl_s.all_cols_renamed VALUES (6, 'a6', 'six');
ALTER SCHEMA ddl_s RENAME TO ddl_s2;
INSERT INTO ddl_s2.all_cols_renamed VALUES (7, 'a7', 'seven');
-- The id column renamed: unkeyed, with the reason; renamed back: keyed again.
ALTER TABLE ddl_s2.named RENAME COLUMN id TO id_renamed;
INSERT INTO ddl_s2.named VALUES (5, 'a5');
DELETE FROM ddl_s2.named WHERE id_renamed = 1;
ALTER TABLE ddl_s2.named RENAME COLUMN id_renamed TO id;
INSERT INTO ddl_s2.named VALUES (6, 'a6');

SELECT * FROM regress.get_changes('crmsync_ddl', 'crm', 'ddl', 'include-commits', 'false');

SELECT crmsync.drop_slot('ddl');
SELECT crmsync.unmap('ddl', 'ddl_s2.all_cols_renamed');
SELECT crmsync.unmap('ddl', 'ddl_s2.named');
DROP TABLE ddl_s2.all_cols_renamed, ddl_s2.named;
DROP SCHEMA ddl_s2;
