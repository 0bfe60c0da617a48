-- Output is UTF-8 JSON whatever the database encoding. In a LATIN1 database the plugin
-- declares binary output (its bytes are not in the database encoding), so it is read with
-- pg_logical_slot_get_binary_changes(); the textual function refuses it. Names (table,
-- object, properties) are converted too. In a SQL_ASCII database, bytes that are not valid
-- UTF-8 become U+FFFD.
\set VERBOSITY terse
\set SHOW_CONTEXT never
\set regress_db :DBNAME
CREATE DATABASE regression_crmsync_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c regression_crmsync_latin1
SET client_encoding = 'UTF8';
SHOW server_encoding;
CREATE EXTENSION crmsync;
CREATE FUNCTION mask(data bytea) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT regexp_replace(regexp_replace(regexp_replace(convert_from(data, 'UTF8'),
    '"(commit_lsn|end_lsn)":"[0-9A-F]+/[0-9A-F]+"', '"\1":"<lsn>"', 'g'),
    '"xid":[0-9]+', '"xid":<xid>', 'g'),
    '"commit_time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"', '"commit_time":"<time>"', 'g')
$$;
CREATE TABLE "clientes_ñ" (id text PRIMARY KEY, nombre text, "naïve" text, j json, arr text[], c char(4),
    jb jsonb, n numeric);
SELECT crmsync.map('latin', '"clientes_ñ"', 'Kontakt_ä', 'id', 'Idé');
SELECT 'init' FROM crmsync.create_slot('latin');
INSERT INTO "clientes_ñ" VALUES
    ('Zoë', 'Ça va? ½ ÿ', 'façade', '{"clé": "été"}', '{é,ß,NULL}', 'ñ', '{"clé": ["été", 1.50]}', 12.50),
    ('high', (SELECT string_agg(chr(c), '' ORDER BY c) FROM generate_series(128, 255) c), NULL, NULL, NULL, NULL,
     NULL, NULL);

\set VERBOSITY default
SELECT data FROM pg_logical_slot_peek_changes('crmsync_latin', NULL, NULL, 'crm', 'latin');
\set VERBOSITY terse
-- expected/encoding_1.out: psql 18 pads these three results one column narrower than psql 15
-- (its table of character widths changed for one of U+0080..U+00FF in the second row); the
-- rows themselves are the same.
SELECT mask(data) FROM pg_logical_slot_peek_binary_changes('crmsync_latin', NULL, NULL, 'crm', 'latin');
SELECT mask(data) FROM pg_logical_slot_peek_binary_changes('crmsync_latin', NULL, NULL, 'crm', 'latin', 'format', 'hubspot');
SELECT mask(data) FROM pg_logical_slot_peek_binary_changes('crmsync_latin', NULL, NULL, 'crm', 'latin', 'format', 'salesforce');
-- The bytes: "ë" is c3 ab in UTF-8 (eb in LATIN1); every message converts from UTF-8 and
-- parses as JSON. Decoded once, checked in separate statements.
CREATE TEMP TABLE latin_out AS
SELECT n, data FROM pg_logical_slot_peek_binary_changes('crmsync_latin', NULL, NULL, 'crm', 'latin')
    WITH ORDINALITY AS c(lsn, xid, data, n);
SELECT encode(convert_to('ë', 'UTF8'), 'hex') AS utf8, encode(convert_to('ë', 'LATIN1'), 'hex') AS latin1;
SELECT n, position(convert_to('"Zoë"', 'UTF8') IN data) > 0 AS has_utf8,
       position(convert_to('"Zoë"', 'LATIN1') IN data) > 0 AS has_latin1,
       json_typeof(convert_from(data, 'UTF8')::json) AS parses_as
FROM latin_out ORDER BY n;
-- The Latin-1 characters 128-255 come back whole (U+0080..U+00FF).
SELECT (convert_from(data, 'UTF8')::json->'record'->'properties'->>'nombre')
           = (SELECT nombre FROM "clientes_ñ" WHERE id = 'high') AS same,
       length(convert_from(data, 'UTF8')::json->'record'->'properties'->>'nombre') AS chars
FROM latin_out WHERE n = 2;
-- crmsync.render() returns the same record, in the database encoding.
SELECT substr(convert_from(o.data, 'UTF8'), strpos(convert_from(o.data, 'UTF8'), '"record":'))
       = substr(r::text, strpos(r::text, '"record":')) AS render_matches
FROM latin_out o,
     (SELECT crmsync.render('latin', '"clientes_ñ"', cl) AS r FROM "clientes_ñ" cl WHERE id = 'Zoë') x
WHERE o.n = 1;
SELECT crmsync.render('latin', '"clientes_ñ"', cl) AS rendered_after_decoding
FROM "clientes_ñ" cl WHERE id = 'Zoë' \gset
SELECT :'rendered_after_decoding' AS render;
-- The same in a fresh session, where render() is the first thing to run the plugin's code
-- (no decoding in that backend): text ('ñ') and json ('é') converted to UTF-8 all the same.
\c regression_crmsync_latin1
SET client_encoding = 'UTF8';
SELECT crmsync.render('latin', '"clientes_ñ"', cl)::text = :'rendered_after_decoding' AS same_as_after_decoding
FROM "clientes_ñ" cl WHERE id = 'Zoë';
SELECT r->'record'->'properties'->>'c' AS c, r->'record'->'properties'->'j'->>'clé' AS j_cle,
       r->'record'->'properties'->>'naïve' AS naive, r->>'object' AS object
FROM (SELECT crmsync.render('latin', '"clientes_ñ"', cl) AS r FROM "clientes_ñ" cl WHERE id = 'Zoë') x;
\c regression_crmsync_latin1
SET client_encoding = 'UTF8';
SELECT crmsync.render('latin', '"clientes_ñ"', cl, 'hubspot') FROM "clientes_ñ" cl WHERE id = 'Zoë';

SELECT crmsync.drop_slot('latin');
\c :regress_db
DROP DATABASE regression_crmsync_latin1;

-- SQL_ASCII: no conversion; invalid UTF-8 is replaced, valid UTF-8 passes through.
CREATE DATABASE regression_crmsync_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c regression_crmsync_ascii
SHOW server_encoding;
CREATE EXTENSION crmsync;
CREATE TABLE t (id int PRIMARY KEY, v text);
SELECT crmsync.map('ascii', 't', 'o', 'id');
SELECT 'init' FROM crmsync.create_slot('ascii');
INSERT INTO t VALUES (1, E'latin1 \xe9t\xe9'), (2, E'utf8 \xc3\xa9t\xc3\xa9'), (3, E'cut \xc3');
SELECT substr(data, strpos(data, '"record":')) AS record,
       encode(convert_to(data::json->'record'->'properties'->>'v', 'SQL_ASCII'), 'hex') AS v_bytes
FROM pg_logical_slot_get_changes('crmsync_ascii', NULL, NULL, 'crm', 'ascii', 'include-commits', 'false');
SELECT crmsync.drop_slot('ascii');
\c :regress_db
DROP DATABASE regression_crmsync_ascii;
