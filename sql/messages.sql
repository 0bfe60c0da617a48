-- pg_logical_emit_message payloads pass through when the prefix is "crmsync" or
-- "crmsync:<this crm>". Transactional ones are part of their transaction (seq, commit
-- marker); non-transactional ones are sent at once, identified by their own LSN with seq 1
-- and no commit time. Content that is valid JSON is embedded as is, any other content
-- becomes a JSON string. messages=false drops them all.
\set VERBOSITY terse
-- Non-ASCII output: psql measures its width in UTF-8 whatever the database encoding.
SET client_encoding = 'UTF8';
CREATE TABLE msgs_items (id int PRIMARY KEY);
CREATE TABLE msgs_unmapped (id int);
SELECT crmsync.map('msgs', 'msgs_items', 'items', 'id');
SELECT crmsync.map('msgs_other', 'msgs_items', 'items', 'id', actions => '{truncate}');
SELECT 'init' FROM crmsync.create_slot('msgs');

-- Transactional: one transaction of messages, then one with a row change and a message.
SELECT 'emitted' FROM (VALUES
    (pg_logical_emit_message(true, 'crmsync', '{"a":1}')),
    (pg_logical_emit_message(true, 'crmsync:msgs', '[1, "two", null]')),
    (pg_logical_emit_message(true, 'crmsync:msgs_other', '{"for":"another crm"}')),
    (pg_logical_emit_message(true, 'crmsync:', '"empty crm"')),
    (pg_logical_emit_message(true, 'crmsync:msgs:x', '"longer prefix"')),
    (pg_logical_emit_message(true, 'crmsyncmsgs', '"no colon"')),
    (pg_logical_emit_message(true, 'CRMSYNC', '"upper case"')),
    (pg_logical_emit_message(true, 'other', '{"not":"ours"}')),
    (pg_logical_emit_message(true, 'crmsync', 'plain text, not JSON')),
    (pg_logical_emit_message(true, 'crmsync', '  {"spaces": true}  ')),
    (pg_logical_emit_message(true, 'crmsync', '')),
    (pg_logical_emit_message(true, 'crmsync', '{"a":')),
    (pg_logical_emit_message(true, 'crmsync', 'say "hi"\n')),
    (pg_logical_emit_message(true, 'crmsync', '"Zoë 😀"')),
    (pg_logical_emit_message(true, 'crmsync', '\x7b2278223a22ff227d'::bytea)),
    (pg_logical_emit_message(true, 'crmsync', '\x00ff41'::bytea))) v(lsn);
BEGIN;
INSERT INTO msgs_items VALUES (1);
SELECT 'emitted' FROM pg_logical_emit_message(true, 'crmsync', '"after the insert"');
COMMIT;
-- A transactional message in a transaction that rolls back is never sent.
BEGIN;
SELECT 'emitted' FROM pg_logical_emit_message(true, 'crmsync', '"rolled back"');
ROLLBACK;

SELECT * FROM regress.peek_changes('crmsync_msgs', 'crm', 'msgs');
-- The same stream for another crm: its own prefix now matches, msgs' does not.
SELECT substr(data, strpos(data, '"commit_lsn":')) AS message_tail
FROM regress.peek_changes('crmsync_msgs', 'crm', 'msgs_other')
WHERE data LIKE '{"action":"message"%';
-- messages=false: only the row change and its commit marker remain.
SELECT * FROM regress.get_changes('crmsync_msgs', 'crm', 'msgs', 'messages', 'false');

-- Non-transactional: alone, inside a transaction with a change and a transactional
-- message (it comes first, at its own LSN), and inside a transaction that rolls back (it
-- is sent all the same). Read without commit markers.
SELECT 'emitted' FROM pg_logical_emit_message(false, 'crmsync:msgs', '{"now":true}');
BEGIN;
INSERT INTO msgs_items VALUES (2);
SELECT 'emitted' FROM pg_logical_emit_message(false, 'crmsync', '"right away"');
SELECT 'emitted' FROM pg_logical_emit_message(true, 'crmsync', '"at commit"');
COMMIT;
BEGIN;
SELECT 'emitted' FROM pg_logical_emit_message(false, 'crmsync', '"sent anyway"');
ROLLBACK;
-- Decoding reads only flushed WAL and an abort does not flush: a commit that writes
-- nothing mapped makes the message above readable, and sends nothing itself.
INSERT INTO msgs_unmapped VALUES (1);
SELECT * FROM regress.peek_changes('crmsync_msgs', 'crm', 'msgs', 'include-commits', 'false');
SELECT * FROM regress.get_changes('crmsync_msgs', 'crm', 'msgs', 'include-commits', 'false', 'messages', 'false');

-- With commit markers (the default), a non-transactional message is delivered as a unit of
-- its own: "xid" null (it belongs to no transaction; the one that emitted it may roll back),
-- commit_lsn the LSN of its last byte, then its own commit marker whose end_lsn is the
-- message's end (the next record's start), no commit time,
-- count 1; inside a transaction it still comes first, ahead of the transaction's own
-- messages. A message for another crm gets neither. (The payload's own "xid",
-- "commit_lsn" and "commit_time" are not masked.)
SELECT 'emitted' FROM pg_logical_emit_message(false, 'crmsync',
    '{"xid":7,"commit_lsn":"0/1","commit_time":"2026-01-01T00:00:00.000000Z"}');
SELECT 'emitted' FROM pg_logical_emit_message(false, 'crmsync:msgs_other', '"not for msgs"');
BEGIN;
SELECT 'emitted' FROM pg_logical_emit_message(false, 'crmsync:msgs', '"inside"');
INSERT INTO msgs_items VALUES (3);
COMMIT;
SELECT * FROM regress.peek_changes('crmsync_msgs', 'crm', 'msgs');
SELECT * FROM regress.get_changes('crmsync_msgs', 'crm', 'msgs', 'messages', 'false');

-- Emitted as the last thing before COMMIT, the message ends where the transaction's commit
-- record starts; the two still have distinct event ids (commit_lsn, seq), and the message
-- comes first in delivery order.
BEGIN;
INSERT INTO msgs_items VALUES (4);
SELECT 'emitted' FROM pg_logical_emit_message(false, 'crmsync', '"last before commit"');
COMMIT;
CREATE TEMP TABLE msgs_last AS
SELECT o, data::json AS m FROM pg_logical_slot_get_changes('crmsync_msgs', NULL, NULL, 'crm', 'msgs')
     WITH ORDINALITY AS t(lsn, xid, data, o);
SELECT m->>'action' AS action, m->>'transactional' AS transactional FROM msgs_last ORDER BY o;
SELECT count(*) AS events, count(DISTINCT (m->>'commit_lsn', m->>'seq')) AS distinct_ids,
       bool_and((m->>'commit_lsn')::pg_lsn < (SELECT (m->>'commit_lsn')::pg_lsn FROM msgs_last
                                              WHERE m->>'action' = 'upsert'))
           FILTER (WHERE m->>'action' = 'message') AS message_first
FROM msgs_last WHERE m->>'action' = 'message' OR m->>'action' = 'upsert';
SELECT count(*) AS markers, count(DISTINCT m->>'commit_lsn') AS distinct_commit_lsns
FROM msgs_last WHERE m->>'action' = 'commit';

-- The sender's backfill watermarks, prefix "crmsync-backfill:<crm>", pass for their own crm
-- only, and even with messages=false: the sender needs their stream position.
BEGIN;
SELECT 'emitted' FROM pg_logical_emit_message(true, 'crmsync-backfill:msgs', '"w1"');
SELECT 'emitted' FROM pg_logical_emit_message(true, 'crmsync-backfill:msgs_other', '"w2"');
SELECT 'emitted' FROM pg_logical_emit_message(true, 'crmsync-backfill:', '"w3"');
SELECT 'emitted' FROM pg_logical_emit_message(true, 'crmsync-backfill', '"w4"');
COMMIT;
SELECT * FROM regress.peek_changes('crmsync_msgs', 'crm', 'msgs', 'messages', 'false');
SELECT * FROM regress.get_changes('crmsync_msgs', 'crm', 'msgs_other', 'include-commits', 'false');

SELECT crmsync.drop_slot('msgs');
SELECT crmsync.unmap('msgs', 'msgs_items');
SELECT crmsync.unmap('msgs_other', 'msgs_items');
DROP TABLE msgs_items, msgs_unmapped;
