-- crmsync.render(crm, source, row, format) is the plugin's own map and render code: its
-- record is byte for byte the record the slot streams for the same row (preview and
-- backfill). Its header has no transaction: commit_lsn 0/0, seq 0, xid and commit_time null.
\set VERBOSITY terse
-- Non-ASCII output: psql measures its width in UTF-8 whatever the database encoding.
SET client_encoding = 'UTF8';
\set SHOW_CONTEXT never
CREATE TABLE rend_contacts (
    id int PRIMARY KEY, email text, name text, score numeric, vip bool, seen timestamptz,
    tags text[], prefs jsonb, photo bytea, dropped int);
ALTER TABLE rend_contacts DROP COLUMN dropped;
SELECT crmsync.map('rend', 'rend_contacts', 'Contact', 'email', 'Email',
    '{"email":"Email","name":"Name","score":"Score","vip":"VIP","seen":"Seen","tags":"Tags","prefs":"Prefs","photo":"Photo"}',
    '{insert,update}');
CREATE TABLE rend_other (id int PRIMARY KEY);
INSERT INTO rend_other VALUES (1);
SELECT 'init' FROM crmsync.create_slot('rend');

INSERT INTO rend_contacts VALUES
    (1, 'ann@example.com', 'Ann "A" \', 12.50, true, '2026-05-06 07:08:09.123456+00', '{a,NULL,b}',
        '{"x": [1, "é"]}', '\xdeadbeef'),
    (2, 'bob@example.com', NULL, 'NaN', NULL, 'infinity', '{}', 'null', ''),
    (3, NULL, 'No Email', NULL, false, NULL, NULL, NULL, NULL);

-- The rendered messages.
SELECT f, crmsync.render('rend', 'rend_contacts', c, f)
FROM rend_contacts c, unnest('{webhook,hubspot,salesforce}'::text[]) f
ORDER BY c.id, f;
-- The default format is webhook.
SELECT crmsync.render('rend', 'rend_contacts', c)::text = crmsync.render('rend', 'rend_contacts', c, 'webhook')::text
       AS webhook_by_default
FROM rend_contacts c ORDER BY id;

-- The streamed messages, in each format, decoded first.
CREATE TEMP TABLE rend_stream AS
SELECT f, (data::json->>'seq')::int AS seq, data
FROM unnest('{webhook,hubspot,salesforce}'::text[]) f,
     LATERAL pg_logical_slot_peek_changes('crmsync_rend', NULL, NULL, 'crm', 'rend', 'format', f,
                                          'include-commits', 'false');
-- Everything from ,"record": on is identical (the error field too); so is the header up
-- to commit_lsn. The rows were inserted in id order, so seq = id.
SELECT c.id, s.f,
       substr(r, strpos(r, ',"record":')) = substr(s.data, strpos(s.data, ',"record":')) AS same_record,
       split_part(r, ',"commit_lsn":', 1) = split_part(s.data, ',"commit_lsn":', 1) AS same_head,
       substring(r FROM ',"error":.*') IS NOT DISTINCT FROM substring(s.data FROM ',"error":.*') AS same_error
FROM rend_contacts c
JOIN rend_stream s ON s.seq = c.id
CROSS JOIN LATERAL (SELECT crmsync.render('rend', 'rend_contacts', c, s.f)::text AS r) x
ORDER BY c.id, s.f;

-- Errors.
\set VERBOSITY default
-- a table the crm does not map, a crm with no mappings
SELECT crmsync.render('rend', 'rend_other', o) FROM rend_other o;
SELECT crmsync.render('nosuch', 'rend_contacts', c) FROM rend_contacts c WHERE id = 1;
-- a row of another table, an anonymous record
SELECT crmsync.render('rend', 'rend_contacts', o) FROM rend_other o;
SELECT crmsync.render('rend', 'rend_contacts', ROW(1, 'x'));
SELECT crmsync.render('rend', 'rend_contacts', s) FROM (SELECT 1 AS id) s;
-- not a row at all: a scalar, a text, an array (an ERROR, not a crashed backend)
SELECT crmsync.render('rend', 'rend_contacts', 1);
SELECT crmsync.render('rend', 'rend_contacts', 'ann@example.com'::text);
SELECT crmsync.render('rend', 'rend_contacts', c.email) FROM rend_contacts c WHERE id = 1;
SELECT crmsync.render('rend', 'rend_contacts', ARRAY[1, 2]);
-- The session is still there.
SELECT crmsync.render('rend', 'rend_contacts', c) IS NOT NULL AS still_renders FROM rend_contacts c WHERE id = 1;
-- bad names
SELECT crmsync.render('Bad Name', 'rend_contacts', c) FROM rend_contacts c WHERE id = 1;
SELECT crmsync.render('rend', 'rend_contacts', c, 'xml') FROM rend_contacts c WHERE id = 1;
\set VERBOSITY terse
-- STRICT: a NULL argument gives NULL.
SELECT crmsync.render(NULL, 'rend_contacts', c) IS NULL AS null_crm,
       crmsync.render('rend', NULL, c) IS NULL AS null_source,
       crmsync.render('rend', 'rend_contacts', NULL::rend_contacts) IS NULL AS null_row,
       crmsync.render('rend', 'rend_contacts', c, NULL) IS NULL AS null_format
FROM rend_contacts c WHERE id = 1;

SELECT crmsync.drop_slot('rend');
SELECT crmsync.unmap('rend', 'rend_contacts');
DROP TABLE rend_contacts, rend_other;
