-- crmsync.map() validates before it writes; crmsync.unmap(); crmsync.create_slot() and
-- crmsync.drop_slot() and their errors. Errors are shown with their hints.
\set VERBOSITY terse
\set SHOW_CONTEXT never
CREATE TABLE api_contacts (id int PRIMARY KEY, email text, name text);
CREATE TABLE api_parted (id int PRIMARY KEY, email text) PARTITION BY RANGE (id);
CREATE TABLE api_parted_1 PARTITION OF api_parted FOR VALUES FROM (0) TO (100);
CREATE VIEW api_view AS SELECT * FROM api_contacts;
CREATE MATERIALIZED VIEW api_matview AS SELECT 1 AS id;
CREATE SEQUENCE api_seq;
CREATE TYPE api_composite AS (id int);
CREATE TEMP TABLE api_temp (id int PRIMARY KEY);
CREATE UNLOGGED TABLE api_unlogged (id int PRIMARY KEY);

\set VERBOSITY default
-- crm names: ^[a-z][a-z0-9_]{0,47}$
SELECT crmsync.map('Api', 'api_contacts', 'contacts', 'id');
SELECT crmsync.map('api-eu', 'api_contacts', 'contacts', 'id');
SELECT crmsync.map(repeat('a', 49), 'api_contacts', 'contacts', 'id');
SELECT crmsync.map(NULL, 'api_contacts', 'contacts', 'id');
-- required arguments
SELECT crmsync.map('api', 'api_contacts', '', 'id');
SELECT crmsync.map('api', 'api_contacts', NULL, 'id');
SELECT crmsync.map('api', NULL, 'contacts', 'id');
SELECT crmsync.map('api', 'api_contacts', 'contacts', NULL);
-- the table
SELECT crmsync.map('api', 'api_missing', 'contacts', 'id');
SELECT crmsync.map('api', 'api_parted', 'contacts', 'id');
SELECT crmsync.map('api', 'api_view', 'contacts', 'id');
SELECT crmsync.map('api', 'api_matview', 'contacts', 'id');
SELECT crmsync.map('api', 'api_seq', 'contacts', 'id');
SELECT crmsync.map('api', 'api_composite', 'contacts', 'id');
-- temporary and unlogged tables never reach the WAL
SELECT crmsync.map('api', 'api_unlogged', 'contacts', 'id');
\set VERBOSITY terse
SELECT crmsync.map('api', 'api_temp', 'contacts', 'id');
\set VERBOSITY default
-- the id column
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'missing');
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'ctid');
-- properties
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', properties => '["email"]');
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', properties => '"email"');
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', properties => '{"email":1,"name":"","id":"Id"}');
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', properties => '{"email":{"to":"Email"}}');
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', properties => '{"zip":"Zip","email":"Email","city":"City"}');
-- two columns to one property
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', properties => '{"email":"Email","name":"Email"}');
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', properties => '{"id":"x","email":"x","name":"y"}');
-- id_property: a name or NULL, not an empty string
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', id_property => '');
-- actions
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', actions => '{}');
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', actions => '{insert,upsert}');
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', actions => '{insert,NULL}');
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id', actions => NULL);
-- the replica identity
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'email');
SELECT crmsync.map('api', 'api_parted_1', 'contacts', 'email');
\set VERBOSITY terse
-- None of that wrote anything.
SELECT count(*) AS mappings FROM crmsync.mappings WHERE crm = 'api';

-- Valid: a partition, defaults, then a replacement of the same (crm, source).
SELECT crmsync.map('api', 'api_parted_1', 'contacts', 'id');
SELECT crmsync.map('api', 'api_contacts', 'contacts', 'id');
SELECT crm, source, object, id_column, id_property, properties, actions FROM crmsync.mappings WHERE crm = 'api' ORDER BY source::text;
SELECT crmsync.map('api', 'api_contacts', 'Contact', 'email', 'Email', '{"email":"Email","name":"LastName"}',
    '{insert,update}');
SELECT crmsync.map(repeat('a', 48), 'api_contacts', 'contacts', 'id');
SELECT crm, source, object, id_column, id_property, properties, actions FROM crmsync.mappings
WHERE crm IN ('api', repeat('a', 48)) ORDER BY crm, source::text;
-- The catalog is a user catalog table, and its own checks hold even when written directly.
SELECT reloptions FROM pg_class WHERE oid = 'crmsync.mappings'::regclass;
INSERT INTO crmsync.mappings (crm, source, object, id_column) VALUES ('Bad', 'api_contacts', 'x', 'id');
INSERT INTO crmsync.mappings (crm, source, object, id_column, actions) VALUES ('api2', 'api_contacts', 'x', 'id', '{merge}');
INSERT INTO crmsync.mappings (crm, source, object, id_column, properties) VALUES ('api2', 'api_contacts', 'x', 'id', '[]');

-- unmap: true when a mapping was removed, else false with a notice.
SELECT crmsync.unmap('api', 'api_parted_1');
SELECT crmsync.unmap('api', 'api_parted_1');
SELECT crmsync.unmap('nosuch', 'api_contacts');

-- create_slot / drop_slot
\set VERBOSITY default
SELECT crmsync.create_slot('nosuch');
SELECT crmsync.create_slot('Bad');
SELECT crmsync.drop_slot('nosuch');
SELECT crmsync.drop_slot('Bad');
\set VERBOSITY terse
SELECT 'init' FROM crmsync.create_slot('api');
SELECT slot_name, plugin, slot_type, database = current_database() AS this_db
FROM pg_replication_slots WHERE slot_name = 'crmsync_api';
SELECT crmsync.create_slot('api');
-- A failover slot where the server has them (17 and later), by default; the column exists
-- only there, hence to_jsonb.
SELECT coalesce((to_jsonb(s) ->> 'failover')::boolean, false)
       = (current_setting('server_version_num')::int >= 170000) AS failover_where_supported
FROM pg_replication_slots s WHERE slot_name = 'crmsync_api';
SELECT crmsync.drop_slot('api');
SELECT 'init' FROM crmsync.create_slot('api', failover => false);
SELECT coalesce((to_jsonb(s) ->> 'failover')::boolean, false) AS failover
FROM pg_replication_slots s WHERE slot_name = 'crmsync_api';
SELECT crmsync.drop_slot('api');
-- failover => true: made on 17 and later, refused with the reason before.
DO $$
BEGIN
    PERFORM crmsync.create_slot('api', failover => true);
    ASSERT current_setting('server_version_num')::int >= 170000, 'made a failover slot before 17';
    ASSERT (SELECT (to_jsonb(s) ->> 'failover')::boolean FROM pg_replication_slots s
            WHERE slot_name = 'crmsync_api'), 'failover => true made a slot without failover';
EXCEPTION WHEN feature_not_supported THEN
    ASSERT current_setting('server_version_num')::int < 170000, 'refused on 17 or later: ' || SQLERRM;
    ASSERT SQLERRM LIKE 'failover slots need PostgreSQL 17 or later; this server is %', SQLERRM;
    PERFORM crmsync.create_slot('api');
END $$;
-- The slot outlives its mappings: it is dropped explicitly.
SELECT crmsync.unmap('api', 'api_contacts');
SELECT crmsync.drop_slot('api');
SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'crmsync_api';
SELECT crmsync.drop_slot('api');

SELECT crmsync.unmap(repeat('a', 48), 'api_contacts');
DROP VIEW api_view;
DROP MATERIALIZED VIEW api_matview;
DROP SEQUENCE api_seq;
DROP TYPE api_composite;
DROP TABLE api_temp, api_unlogged;
DROP TABLE api_contacts, api_parted;
