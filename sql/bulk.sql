-- COPY writes many rows per WAL record (multi-insert), so a change's own LSN is not unique:
-- (commit_lsn, seq) is, with seq 1..N inside each transaction. The transactions here are
-- far larger than logical_decoding_work_mem (64kB in the test configuration) and spill to
-- disk; the output is the same.
\set VERBOSITY terse
SHOW logical_decoding_work_mem;
CREATE TABLE bulk_rows (
    id int PRIMARY KEY,
    email text GENERATED ALWAYS AS ('user' || id || '@example.com') STORED,
    pad text DEFAULT repeat('p', 100));
SELECT crmsync.map('bulk', 'bulk_rows', 'rows', 'email', actions => '{insert,update}');
SELECT 'init' FROM crmsync.create_slot('bulk');

COPY bulk_rows (id) FROM PROGRAM 'seq 1 1000';
BEGIN;
INSERT INTO bulk_rows (id) SELECT g FROM generate_series(1001, 1500) g;
UPDATE bulk_rows SET pad = 'updated' WHERE id % 2 = 0;
COMMIT;

CREATE TEMP TABLE bulk_out AS
SELECT n, lsn, data, data::json AS j
FROM pg_logical_slot_get_changes('crmsync_bulk', NULL, NULL, 'crm', 'bulk') WITH ORDINALITY AS c(lsn, xid, data, n);

-- Per transaction: messages, distinct seq, 1..N, in order, one commit_lsn and xid, and the
-- commit marker's count.
SELECT count(*) AS messages,
       count(DISTINCT (j->>'seq')::int) AS distinct_seq,
       min((j->>'seq')::int) AS min_seq, max((j->>'seq')::int) AS max_seq,
       bool_and((j->>'seq')::int = rn) AS seq_in_order,
       count(DISTINCT j->>'xid') AS xids,
       (SELECT (c.j->>'count')::int FROM bulk_out c
        WHERE c.j->>'action' = 'commit' AND c.j->>'commit_lsn' = m.commit_lsn) AS commit_count
FROM (SELECT j, j->>'commit_lsn' AS commit_lsn,
             row_number() OVER (PARTITION BY j->>'commit_lsn' ORDER BY n) AS rn
      FROM bulk_out WHERE j->>'action' <> 'commit') m
GROUP BY commit_lsn
ORDER BY commit_lsn::pg_lsn;
-- COPY's rows share change LSNs: the LSN of a change does not identify it.
SELECT count(*) AS copied_rows, count(DISTINCT lsn) < count(*) AS change_lsns_shared
FROM bulk_out WHERE j->>'action' = 'upsert' AND j->>'commit_lsn' = (SELECT j->>'commit_lsn' FROM bulk_out WHERE n = 1);
-- (commit_lsn, seq) is unique over the whole stream; commit markers follow their messages.
SELECT count(*) AS events, count(DISTINCT (j->>'commit_lsn', j->>'seq')) AS distinct_event_ids
FROM bulk_out WHERE j->>'action' <> 'commit';
SELECT count(*) AS commit_markers,
       bool_and(n = (SELECT max(n) FROM bulk_out m WHERE m.j->>'commit_lsn' = c.j->>'commit_lsn')) AS last_of_txn
FROM bulk_out c WHERE j->>'action' = 'commit';
-- Every row once, with what it had at that point.
SELECT j->>'key' AS key, j->'record'->'properties'->>'pad' AS pad, count(*)
FROM bulk_out WHERE j->>'key' IN ('user1@example.com', 'user2@example.com', 'user1000@example.com', 'user1500@example.com')
GROUP BY 1, 2 ORDER BY 1, 2;
-- A sample, byte for byte.
SELECT m.n, m.data
FROM regress.mask(ARRAY(SELECT data FROM bulk_out ORDER BY n)) WITH ORDINALITY AS m(data, n)
WHERE m.n IN (1, 1000, 1001, 1002, 2251, 2252);
-- The transactions were spilled to disk.
SELECT spill_txns > 0 AS spilled, spill_bytes > 65536 AS spilled_more_than_work_mem
FROM pg_stat_replication_slots WHERE slot_name = 'crmsync_bulk';

SELECT crmsync.drop_slot('bulk');
SELECT crmsync.unmap('bulk', 'bulk_rows');
DROP TABLE bulk_rows;
