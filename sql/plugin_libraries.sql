-- Postgres 15.19+ loads an output plugin only when output_plugin_libraries names it. The
-- setting is superuser-only (context "superuser"), so a superuser session can take crmsync
-- off the list and see what every entry point says.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SELECT context FROM pg_settings WHERE name = 'output_plugin_libraries';
SELECT 'crmsync' = ANY (string_to_array(replace(current_setting('output_plugin_libraries'), ' ', ''), ','))
    AS crmsync_listed;

CREATE TABLE libs_contacts (id int PRIMARY KEY, email text);
SELECT crmsync.map('libs', 'libs_contacts', 'contacts', 'id');
SELECT 'init' FROM crmsync.create_slot('libs');
INSERT INTO libs_contacts VALUES (1, 'ann@example.com');

\set VERBOSITY default
SET output_plugin_libraries = pgoutput, test_decoding;
-- crmsync.create_slot checks first and says what to do.
SELECT crmsync.create_slot('libs2');
-- The server refuses to load the plugin for a new slot and for an existing one.
SELECT pg_create_logical_replication_slot('regression_libs_direct', 'crmsync');
SELECT data FROM pg_logical_slot_get_changes('crmsync_libs', NULL, NULL, 'crm', 'libs');
-- Other plugins on the list still load.
SELECT 'init' FROM pg_create_logical_replication_slot('regression_libs_td', 'test_decoding');
SELECT pg_drop_replication_slot('regression_libs_td');
-- An empty list (as with output_plugin_libraries = '' in postgresql.conf): the hint sets
-- just crmsync.
SELECT 'emptied' FROM set_config('output_plugin_libraries', '', false);
SELECT crmsync.create_slot('libs2');
-- SET ... = '' stores a list of one empty name (""): reported as empty too.
SET output_plugin_libraries = '';
SELECT crmsync.create_slot('libs2');
RESET output_plugin_libraries;
\set VERBOSITY terse

-- Back on the list, the slot decodes what it kept.
SELECT * FROM regress.get_changes('crmsync_libs', 'crm', 'libs');

-- Only a superuser may change the setting.
CREATE ROLE regress_crmsync_user;
SET ROLE regress_crmsync_user;
SET output_plugin_libraries = pgoutput, crmsync;
RESET ROLE;
DROP ROLE regress_crmsync_user;

-- A role that is not a superuser, with REPLICATION and read access to the mapping catalog,
-- creates and drops the slot; it cannot read the superuser-only setting, and still gets the
-- same clear error when crmsync is not on the list.
CREATE ROLE regress_crmsync_repl REPLICATION;
GRANT USAGE ON SCHEMA crmsync TO regress_crmsync_repl;
GRANT SELECT ON crmsync.mappings TO regress_crmsync_repl;
SELECT crmsync.map('libs_repl', 'libs_contacts', 'contacts', 'id');
SET ROLE regress_crmsync_repl;
SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user;
-- The error's wording differs between majors (18: "permission denied to examine ..."); its
-- SQLSTATE does not.
DO $$
BEGIN
    PERFORM current_setting('output_plugin_libraries');
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'cannot read output_plugin_libraries (SQLSTATE %)', SQLSTATE;
END $$;
SELECT 'init' FROM crmsync.create_slot('libs_repl');
SELECT slot_name, plugin FROM pg_replication_slots WHERE slot_name = 'crmsync_libs_repl';
SELECT crmsync.drop_slot('libs_repl');
RESET ROLE;
\set VERBOSITY default
SET output_plugin_libraries = pgoutput;
SET ROLE regress_crmsync_repl;
SELECT crmsync.create_slot('libs_repl');
RESET ROLE;
SELECT 'emptied' FROM set_config('output_plugin_libraries', '', false);
SET ROLE regress_crmsync_repl;
SELECT crmsync.create_slot('libs_repl');
RESET ROLE;
RESET output_plugin_libraries;
\set VERBOSITY terse
SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'crmsync_libs_repl';
SELECT crmsync.unmap('libs_repl', 'libs_contacts');
REVOKE SELECT ON crmsync.mappings FROM regress_crmsync_repl;
REVOKE USAGE ON SCHEMA crmsync FROM regress_crmsync_repl;
DROP ROLE regress_crmsync_repl;

SELECT crmsync.drop_slot('libs');
SELECT crmsync.unmap('libs', 'libs_contacts');
DROP TABLE libs_contacts;
