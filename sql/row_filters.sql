-- Row filters: crmsync.map(..., row_filter => '<boolean expression>') decides which rows
-- reach the CRM, evaluated in the walsender on the old and the new row. Checked when the
-- mapping is written, the way Postgres checks publication row filters; every refusal says
-- why. An update whose row leaves the filter becomes a delete (or nothing, with
-- on_filter_exit => 'ignore'); one that enters it becomes an upsert of the whole row.
\set VERBOSITY default
-- The PL/pgSQL call stack adds nothing here: each error shows the filter as its QUERY.
\set SHOW_CONTEXT never
CREATE TABLE rf_contacts (id int PRIMARY KEY, email text NOT NULL, tenant int, is_test bool NOT NULL DEFAULT false,
                          name text, body text);
ALTER TABLE rf_contacts REPLICA IDENTITY FULL;
ALTER TABLE rf_contacts ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE TABLE rf_keyed (id int PRIMARY KEY, tenant int, name text);
CREATE TYPE rf_mood AS ENUM ('happy', 'sad');
CREATE TABLE rf_typed (id int PRIMARY KEY, mood rf_mood, born date);
ALTER TABLE rf_typed REPLICA IDENTITY FULL;
CREATE FUNCTION rf_user_function(int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';

-- Refused, each with its reason.
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => '');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'tenant + 1');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'no_such_column = 1');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'tenant = ');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'true; DROP TABLE rf_keyed');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'true FROM pg_authid');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'tenant IN (SELECT 1)');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'count(*) > 1');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'public.rf_user_function(tenant)');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'random() > 0.5');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'tenant > 0 OR now() > ''2000-01-01''');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'xmin::text <> ''''');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'name::date > date ''2000-01-01''');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'id > 0 AND ctid IS NOT NULL');
-- As for publication row filters, a column of a user-defined type (here an enum) cannot be
-- read at all, not even by IS NULL.
SELECT crmsync.map('rf', 'rf_typed', 'typed', 'id', row_filter => 'mood = ''happy''');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'true', on_filter_exit => 'drop');
-- Updates and deletes are filtered on the old row, which holds only the replica identity:
-- the identity must cover the filter, unless only inserts are mapped.
SELECT crmsync.map('rf', 'rf_keyed', 'keyed', 'id', row_filter => 'tenant = 7');
SELECT crmsync.map('rf', 'rf_keyed', 'keyed', 'id', row_filter => 'tenant = 7', actions => '{insert}');
SELECT crmsync.map('rf', 'rf_keyed', 'keyed', 'id', row_filter => 'id > 0');
-- Written around crmsync.map(), the filter is checked all the same.
INSERT INTO crmsync.mappings (crm, source, object, id_column, row_filter)
VALUES ('rf', 'rf_typed', 'typed', 'id', 'born > now()');
\set VERBOSITY terse

-- Accepted: immutable built-in functions and operators, casts, CASE, IN, IS NULL.
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email',
                   row_filter => 'NOT is_test AND tenant IN (7, 8) AND lower(email) NOT LIKE ''%@example.org''');
SELECT crmsync.map('rf', 'rf_typed', 'typed', 'id', row_filter => 'born >= date ''2000-01-01''');
SELECT source, row_filter, row_filter_plan IS NOT NULL AS planned, on_filter_exit
FROM crmsync.mappings WHERE crm = 'rf' ORDER BY source::text;
SELECT 'init' FROM crmsync.create_slot('rf');

-- Inserts: only rows in the filter.
INSERT INTO rf_contacts (id, email, tenant, name) VALUES
    (1, 'a@example.com', 7, 'in'),
    (2, 'b@example.com', 9, 'other tenant'),
    (3, 'c@example.org', 7, 'excluded domain'),
    (4, 'd@example.com', NULL, 'NULL tenant: the filter is NULL, not true');
INSERT INTO rf_contacts (id, email, tenant, is_test, name) VALUES (5, 'e@example.com', 8, true, 'test account');
-- Updates: in -> in (an upsert), in -> out (a delete), out -> in (the whole row), out -> out (nothing).
UPDATE rf_contacts SET name = 'still in' WHERE id = 1;
UPDATE rf_contacts SET is_test = true WHERE id = 1;
UPDATE rf_contacts SET tenant = 8, body = repeat('b', 5000) WHERE id = 2;
UPDATE rf_contacts SET name = 'still out' WHERE id = 3;
-- Entering the filter with an unchanged TOASTed value: REPLICA IDENTITY FULL carries it in
-- the old row, so the whole row goes out.
UPDATE rf_contacts SET tenant = 9 WHERE id = 2;
UPDATE rf_contacts SET tenant = 7 WHERE id = 2;
-- Deletes: only of rows that were in the filter.
DELETE FROM rf_contacts WHERE id IN (2, 3);
SELECT replace(data, repeat('b', 5000), '<5000 b>') AS data FROM regress.get_changes('crmsync_rf', 'crm', 'rf');

-- A filter change takes effect at its position in the WAL: the first insert is decoded with
-- the old filter, the second with the new one. on_filter_exit => 'ignore': leaving the
-- filter sends nothing.
INSERT INTO rf_contacts (id, email, tenant, name) VALUES (10, 'j@example.com', 5, 'tenant 5, before');
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email', row_filter => 'tenant = 5', on_filter_exit => 'ignore');
INSERT INTO rf_contacts (id, email, tenant, name) VALUES (11, 'k@example.com', 5, 'tenant 5, after');
UPDATE rf_contacts SET tenant = 6 WHERE id = 11;
-- Without a filter again: every row.
SELECT crmsync.map('rf', 'rf_contacts', 'contacts', 'email');
UPDATE rf_contacts SET name = 'unfiltered' WHERE id = 11;
-- Dates.
INSERT INTO rf_typed VALUES (1, 'happy', '1999-12-31'), (2, 'sad', '2000-01-01'), (3, NULL, '2001-01-01');
SELECT data FROM regress.get_changes('crmsync_rf', 'crm', 'rf');

-- crmsync.render() previews the filter: NULL for a row it leaves out.
SELECT id, crmsync.render('rf', 'rf_typed', t) IS NOT NULL AS sent FROM rf_typed t ORDER BY id;

-- The table changes under the filter: its plan no longer fits. Changes are not dropped:
-- they go out with the reason (the sender dead-letters them), until the mapping is set again.
ALTER TABLE rf_typed ALTER COLUMN born TYPE timestamp;
INSERT INTO rf_typed VALUES (4, 'happy', '2002-01-01');
SELECT id, crmsync.render('rf', 'rf_typed', t) FROM rf_typed t WHERE id = 4;
SELECT crmsync.map('rf', 'rf_typed', 'typed', 'id', row_filter => 'born >= timestamp ''2000-01-01''');
INSERT INTO rf_typed VALUES (5, 'sad', '2003-01-01'), (6, 'sad', '1990-01-01');
SELECT data FROM regress.get_changes('crmsync_rf', 'crm', 'rf');

SELECT crmsync.drop_slot('rf');
SELECT crmsync.unmap('rf', t) FROM unnest('{rf_contacts,rf_keyed,rf_typed}'::regclass[]) t;
DROP TABLE rf_contacts, rf_keyed, rf_typed;
DROP TYPE rf_mood;
DROP FUNCTION rf_user_function(int);
