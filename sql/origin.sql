-- origin=none skips changes that carry a replication origin: writes that came from the CRM
-- side (an inbound sync sets an origin), so they are not sent back. origin=any (the
-- default) sends everything. A transaction whose changes are all skipped sends nothing.
\set VERBOSITY terse
CREATE TABLE orig_contacts (id int PRIMARY KEY, name text);
SELECT crmsync.map('orig', 'orig_contacts', 'contacts', 'id');
SELECT 'init' FROM crmsync.create_slot('orig');
SELECT pg_replication_origin_create('regress_crm_inbound') IS NOT NULL AS created;

INSERT INTO orig_contacts VALUES (1, 'local');
SELECT pg_replication_origin_session_setup('regress_crm_inbound');
INSERT INTO orig_contacts VALUES (2, 'from the crm');
UPDATE orig_contacts SET name = 'local, updated from the crm' WHERE id = 1;
SELECT 'emitted' FROM pg_logical_emit_message(true, 'crmsync', '"from the crm"');
SELECT pg_replication_origin_session_reset();
UPDATE orig_contacts SET name = 'local again' WHERE id = 2;

SELECT * FROM regress.peek_changes('crmsync_orig', 'crm', 'orig');
SELECT * FROM regress.peek_changes('crmsync_orig', 'crm', 'orig', 'origin', 'any');
SELECT * FROM regress.get_changes('crmsync_orig', 'crm', 'orig', 'origin', 'none');

SELECT pg_replication_origin_drop('regress_crm_inbound');
SELECT crmsync.drop_slot('orig');
SELECT crmsync.unmap('orig', 'orig_contacts');
DROP TABLE orig_contacts;
