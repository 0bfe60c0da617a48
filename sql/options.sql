-- Plugin options: each one's effect, and every bad option or value, which is an ERROR that
-- names the option and what it accepts (shown with their hints here).
\set VERBOSITY terse
\set SHOW_CONTEXT never
CREATE TABLE opts_contacts (id int PRIMARY KEY, email text NOT NULL, name text);
CREATE TABLE opts_accounts (id int PRIMARY KEY, name text);
SELECT crmsync.map('opts', 'opts_contacts', 'contacts', 'id');
SELECT crmsync.map('opts_other', 'opts_accounts', 'accounts', 'id');
SELECT 'init' FROM crmsync.create_slot('opts');

INSERT INTO opts_contacts VALUES (1, 'ann@example.com', 'Ann');
UPDATE opts_contacts SET name = 'Ann B' WHERE id = 1;
SELECT pg_logical_emit_message(true, 'crmsync', '{"note":"hello"}') IS NOT NULL AS emitted;

-- Defaults: format webhook, commit markers, messages passed through.
SELECT * FROM regress.peek_changes('crmsync_opts', 'crm', 'opts');
-- Every option given, values spelled the ways parse_bool accepts.
SELECT * FROM regress.peek_changes('crmsync_opts', 'crm', 'opts', 'format', 'hubspot',
    'include-commits', 'off', 'origin', 'any', 'changed-only', 'no', 'messages', '0');
SELECT * FROM regress.peek_changes('crmsync_opts', 'crm', 'opts', 'format', 'salesforce',
    'include-commits', 'yes', 'origin', 'none', 'changed-only', 'true', 'messages', 'on');
-- include-commits=false: no commit markers, and seq still counts within the transaction.
SELECT * FROM regress.peek_changes('crmsync_opts', 'crm', 'opts', 'include-commits', 'false');
-- The same slot read for another crm: only that crm's tables.
INSERT INTO opts_accounts VALUES (7, 'Acme');
SELECT * FROM regress.peek_changes('crmsync_opts', 'crm', 'opts_other');

\set VERBOSITY default
-- Unknown option (names are case-sensitive and hyphenated).
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts', 'bogus', '1');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts', 'include_commits', 'false');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'CRM', 'opts');
-- Duplicate option, even with the same value.
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts', 'crm', 'opts');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts', 'format', 'hubspot', 'format', 'webhook');
-- Bad format.
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts', 'format', 'xml');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts', 'format', 'HubSpot');
-- Bad booleans.
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts', 'include-commits', 'maybe');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts', 'changed-only', '');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts', 'messages', '2');
-- Bad origin.
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts', 'origin', 'local');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts', 'origin', 'NONE');
-- Missing crm.
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL);
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'format', 'hubspot');
-- Invalid crm names.
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', '');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'Opts');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', '1opts');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts-eu');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', repeat('a', 49));
-- A valid name with no mapping: the detail lists the crms that have one (just this file's,
-- when the files before it cleaned up).
SELECT crmsync.unmap('opts_other', 'opts_accounts');
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'salesforce');
-- An odd options array is Postgres' own error.
SELECT data FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm');
\set VERBOSITY terse

-- None of the failed calls consumed anything.
SELECT count(*) AS pending FROM pg_logical_slot_peek_changes('crmsync_opts', NULL, NULL, 'crm', 'opts');

-- A database without the extension: creating a slot needs no options and works, decoding
-- says what is missing.
\set regress_db :DBNAME
CREATE DATABASE regression_crmsync_noext TEMPLATE template0;
\c regression_crmsync_noext
\set VERBOSITY default
SELECT 'init' FROM pg_create_logical_replication_slot('regression_crmsync_noext', 'crmsync');
CREATE TABLE t (id int PRIMARY KEY);
INSERT INTO t VALUES (1);
SELECT data FROM pg_logical_slot_get_changes('regression_crmsync_noext', NULL, NULL, 'crm', 'opts');
SELECT pg_drop_replication_slot('regression_crmsync_noext');
\set VERBOSITY terse
\c :regress_db
DROP DATABASE regression_crmsync_noext;

SELECT crmsync.drop_slot('opts');
SELECT crmsync.unmap('opts', 'opts_contacts');
DROP TABLE opts_contacts, opts_accounts;
