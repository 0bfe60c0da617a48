-- crmsync.status: one row per crm with mappings: its slot, whether a sender is attached,
-- the confirmed LSN, the WAL it holds back in bytes, wal_status and safe_wal_size, and what the
-- attached sender last wrote to crmsync.sender_state, and each mapped table with its object,
-- row filter and computed properties. A crm without a slot shows nulls; a slot without
-- mappings does not show.
\set VERBOSITY terse
SELECT attname, format_type(atttypid, atttypmod)
FROM pg_attribute WHERE attrelid = 'crmsync.status'::regclass AND attnum > 0 ORDER BY attnum;

CREATE TABLE st_a (id int PRIMARY KEY);
CREATE TABLE st_b (id int PRIMARY KEY);
SELECT crmsync.map('st', 'st_a', 'a', 'id');
SELECT crmsync.map('st', 'st_b', 'b', 'id', properties => '{"id": "id", "double": {"expr": "id * 2"}}',
                   row_filter => 'id > 0');
SELECT crmsync.map('st_noslot', 'st_a', 'a', 'id');
SELECT 'init' FROM crmsync.create_slot('st');

SELECT crm, slot_name, mapped_tables, active, active_pid, confirmed_flush_lsn IS NOT NULL AS confirmed,
       lag_bytes >= 0 AS lag_known, wal_status, safe_wal_size
FROM crmsync.status WHERE crm LIKE 'st%' ORDER BY crm;

SELECT crm, jsonb_pretty(mappings) FROM crmsync.status WHERE crm LIKE 'st%' ORDER BY crm;

-- The sender's state shows only while a sender is attached: a row a stopped sender left is not
-- shown as current.
INSERT INTO crmsync.sender_state (crm, state, detail, since) VALUES ('st', 'held', 'fix the mapping', now());
SELECT crm, active, sender_state, sender_detail, sender_state_since FROM crmsync.status WHERE crm = 'st';
DELETE FROM crmsync.sender_state WHERE crm = 'st';

-- Unread changes hold WAL back; reading them moves confirmed_flush_lsn forward.
SELECT confirmed_flush_lsn AS before_lsn FROM crmsync.status WHERE crm = 'st' \gset
INSERT INTO st_a SELECT g FROM generate_series(1, 100) g;
SELECT lag_bytes > 0 AS lagging FROM crmsync.status WHERE crm = 'st';
SELECT count(*) FROM pg_logical_slot_get_changes('crmsync_st', NULL, NULL, 'crm', 'st');
SELECT confirmed_flush_lsn > :'before_lsn'::pg_lsn AS advanced,
       lag_bytes < pg_wal_lsn_diff(pg_current_wal_lsn(), :'before_lsn'::pg_lsn) AS lag_shrank
FROM crmsync.status WHERE crm = 'st';

-- A slot whose crm has no mappings left is not listed.
SELECT crmsync.unmap('st', 'st_a');
SELECT crmsync.unmap('st', 'st_b');
SELECT count(*) FROM crmsync.status WHERE crm = 'st';
SELECT crmsync.drop_slot('st');
SELECT crmsync.unmap('st_noslot', 'st_a');
SELECT count(*) FROM crmsync.status WHERE crm LIKE 'st%';
DROP TABLE st_a, st_b;
