-- JSON string escaping of values and of names: quotes, backslashes, every control
-- character, non-ASCII and 4-byte UTF-8, long texts whose multi-byte characters straddle
-- the escaper's 4096-byte chunks; and identifiers that need quoting in SQL.
\set VERBOSITY terse
-- Non-ASCII output: psql measures its width in UTF-8 whatever the database encoding.
SET client_encoding = 'UTF8';
CREATE SCHEMA "Quoting ""Schema""";
CREATE TABLE "Quoting ""Schema"""."Tab.le ü" (
    "Id" int PRIMARY KEY,
    "we""ird col" text,
    "back\slash" text,
    "Ünïcödé ✓" text,
    "with space" text);
SELECT crmsync.map('quoting', '"Quoting ""Schema"""."Tab.le ü"', 'Ob"ject\', 'Id', 'i"d\prop');
SELECT 'init' FROM crmsync.create_slot('quoting');

INSERT INTO "Quoting ""Schema"""."Tab.le ü" VALUES
    (1, 'say "hi"', 'C:\path\to\x', 'Zoë 😀 ✓', E'tab\there\nnew line\rcr\bbs\fff'),
    (2, (SELECT string_agg(chr(c), '' ORDER BY c) FROM generate_series(1, 31) c), chr(127) || '/' || '<>&''',
        -- e + combining acute, U+2028, U+2029, U+1F600, spelled as UTF-8 bytes
        convert_from('\x65cc8120e280a8e280a920f09f9880', 'UTF8'), '');

SELECT * FROM regress.peek_changes('crmsync_quoting', 'crm', 'quoting', 'include-commits', 'false');
SELECT substr(data, strpos(data, '"record":')) AS hubspot
FROM regress.peek_changes('crmsync_quoting', 'crm', 'quoting', 'include-commits', 'false', 'format', 'hubspot');
SELECT substr(data, strpos(data, '"record":')) AS salesforce
FROM regress.peek_changes('crmsync_quoting', 'crm', 'quoting', 'include-commits', 'false', 'format', 'salesforce');

-- Long values: every escaping case across chunk boundaries. Compared after decoding, in a
-- separate statement.
INSERT INTO "Quoting ""Schema"""."Tab.le ü" VALUES
    (3, 'a' || repeat('😀', 3000), 'ab' || repeat('é', 5000), repeat('"\', 3000),
        repeat(E'\x01', 2000) || repeat('✓', 2000)),
    (4, repeat('x', 4095) || '😀', repeat('x', 4094) || '😀', repeat('x', 4093) || '😀', repeat('x', 4096) || '😀');
CREATE TEMP TABLE quoting_out AS
SELECT data FROM pg_logical_slot_get_changes('crmsync_quoting', NULL, NULL, 'crm', 'quoting', 'include-commits', 'false');
-- The record's bytes: the header's xid and LSNs vary with what ran before.
SELECT t."Id", octet_length((o.data::json -> 'record')::text) AS record_bytes,
       p->>'we"ird col' = t."we""ird col" AND p->>'back\slash' = t."back\slash"
         AND p->>'Ünïcödé ✓' = t."Ünïcödé ✓" AND p->>'with space' = t."with space" AS same_text
FROM quoting_out o
CROSS JOIN LATERAL (SELECT o.data::json->'record'->'properties' AS p) j
JOIN "Quoting ""Schema"""."Tab.le ü" t ON t."Id" = (p->>'Id')::int
ORDER BY 1;

SELECT crmsync.drop_slot('quoting');
SELECT crmsync.unmap('quoting', '"Quoting ""Schema"""."Tab.le ü"');
DROP TABLE "Quoting ""Schema"""."Tab.le ü";
DROP SCHEMA "Quoting ""Schema""";
