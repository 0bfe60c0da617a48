-- How each column type is rendered (docs/mapping.md, "Type rendering"), in the three formats, and that the
-- typed webhook values read back to the stored ones. The session runs in PST8PDT (set by
-- pg_regress): timestamptz still comes out in UTC with Z.
\set VERBOSITY terse
SHOW timezone;
CREATE TYPE types_mood AS ENUM ('sad', 'happy');
CREATE DOMAIN types_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN types_email AS text;
CREATE TABLE types_all (
    id int PRIMARY KEY,
    i2 int2, i4 int4, i8 int8, n numeric, f4 float4, f8 float8, b bool,
    t text, vc varchar(10), c char(5), j json, jb jsonb,
    tz timestamptz, ts timestamp, d date, u uuid, by bytea,
    a1 int[], a2 int[], ta text[], tza timestamptz[], jba jsonb[], bya bytea[], ea types_mood[],
    e types_mood, dm types_posint, de types_email, iv interval, o oid, nm name, ip inet, pt point);
SELECT crmsync.map('types', 'types_all', 'rows', 'id');
SELECT 'init' FROM crmsync.create_slot('types');

-- 1: ordinary values
INSERT INTO types_all VALUES (1,
    -32768, 2147483647, -9223372036854775808, 12.50, 1.5, 0.1, true,
    'plain', 'varchar', 'ab', '{"a" : [1, 2.50, null],  "b":"x"}', '{"b": 1, "a": [1, 2.50]}',
    '2026-01-02 03:04:05.678901-08', '2026-01-02 03:04:05.5', '2026-01-02',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x000102fffe',
    '{1,NULL,3}', '{{1,2},{3,4}}', '{a,"b c",NULL,""}', '{"2026-01-02 00:00:00+00",NULL}',
    ARRAY['{"x":1}'::jsonb, 'null', '[1]'], '{"\\x01ff",NULL}', '{happy,sad}',
    'happy', 5, 'e@example.com', '1 day 02:00:00', 42, 'a_name', '10.0.0.1/8', '(1,2)');
-- 2: every column NULL
INSERT INTO types_all (id) VALUES (2);
-- 3, 4: NaN and infinities
INSERT INTO types_all (id, n, f4, f8, tz, ts, d)
    VALUES (3, 'NaN', 'NaN', 'Infinity', 'infinity', 'infinity', 'infinity');
INSERT INTO types_all (id, n, f4, f8, tz, ts, d)
    VALUES (4, '-Infinity', '-Infinity', '-Infinity', '-infinity', '-infinity', '-infinity');
INSERT INTO types_all (id, n) VALUES (5, 'Infinity');
-- 6: edges: 40+ digit numerics, extreme floats and integers, before 2000 and 1970, BC and
-- five-digit years, nil uuid, empty bytea, empty and non-1-based arrays
INSERT INTO types_all (id, i2, i4, i8, n, f4, f8, tz, ts, d, u, by, a1, a2, ta)
    VALUES (6, 32767, -2147483648, 9223372036854775807,
    -12345678901234567890123456789012345678901234.5678901234567890,
    1e-45, '-0', '1999-12-31 23:59:59.999999+00', '1969-12-31 23:59:59.5', '1970-01-01',
    '00000000-0000-0000-0000-000000000000', '', '{}', '[0:1]={5,6}', '{NULL}');
INSERT INTO types_all (id, n, f8) VALUES (7, 0.000000000000000000000000000000000000000001, 1.7976931348623157e308);
-- 8, 9: timestamptz literals read in the session time zone (PST in winter, PDT in summer)
INSERT INTO types_all (id, tz, ts) VALUES (8, '2026-01-15 12:00:00', '2026-01-15 12:00:00');
INSERT INTO types_all (id, tz, ts) VALUES (9, '2026-07-15 12:00:00.000001', '2026-07-15 12:00:00.000001');
-- 10: years outside 0001-9999 in ISO 8601's expanded form, astronomical numbering (1 BC is
-- 0000, 44 BC is -0043). Postgres' own input does not read these back.
INSERT INTO types_all (id, tz, ts, d)
    VALUES (10, '0044-03-15 12:00:00 BC', '10000-01-01 00:00', '0001-01-01 BC');
INSERT INTO types_all (id, d) VALUES (11, '5874897-12-31');

SELECT * FROM regress.peek_changes('crmsync_types', 'crm', 'types', 'include-commits', 'false');
-- The record part, byte for byte, in the two other formats.
SELECT substr(data, strpos(data, '"record":')) AS hubspot
FROM regress.peek_changes('crmsync_types', 'crm', 'types', 'include-commits', 'false', 'format', 'hubspot');
SELECT substr(data, strpos(data, '"record":')) AS salesforce
FROM regress.peek_changes('crmsync_types', 'crm', 'types', 'include-commits', 'false', 'format', 'salesforce');

-- Typed values read back to what is stored. Decoded first, compared in a separate statement.
CREATE TEMP TABLE types_out AS
SELECT (data::json->'record'->>'id')::int AS id, data::json->'record'->'properties' AS p
FROM pg_logical_slot_get_changes('crmsync_types', NULL, NULL, 'crm', 'types', 'include-commits', 'false');
SELECT r.id,
    (p->>'i2')::int2 IS NOT DISTINCT FROM i2 AND (p->>'i4')::int4 IS NOT DISTINCT FROM i4
        AND (p->>'i8')::int8 IS NOT DISTINCT FROM i8 AS ints,
    (p->>'n')::numeric IS NOT DISTINCT FROM n AND (p->>'n') IS NOT DISTINCT FROM n::text AS numeric,
    (p->>'f4')::float4 IS NOT DISTINCT FROM f4 AND (p->>'f8')::float8 IS NOT DISTINCT FROM f8 AS floats,
    (p->>'b')::bool IS NOT DISTINCT FROM b AS bool,
    (p->>'t') IS NOT DISTINCT FROM t AND (p->>'vc') IS NOT DISTINCT FROM vc
        AND (p->>'c') IS NOT DISTINCT FROM c::text || repeat(' ', 5 - length(c)) AS texts,
    (p->'j')::text = coalesce(j::text, 'null') AS json,
    (p->'jb')::jsonb = coalesce(jb, 'null') AS jsonb,
    (p->>'tz')::timestamptz IS NOT DISTINCT FROM tz AND (p->>'ts')::timestamp IS NOT DISTINCT FROM ts
        AND (p->>'d')::date IS NOT DISTINCT FROM d AS times,
    (p->>'u')::uuid IS NOT DISTINCT FROM u AS uuid,
    decode(p->>'by', 'base64') IS NOT DISTINCT FROM by AS bytea,
    (CASE json_typeof(p->'a1') WHEN 'array' THEN ARRAY(SELECT json_array_elements_text(p->'a1'))::int[] END)
        IS NOT DISTINCT FROM a1 AS int_array,
    (CASE json_typeof(p->'ta') WHEN 'array' THEN ARRAY(SELECT json_array_elements_text(p->'ta')) END)
        IS NOT DISTINCT FROM ta AS text_array,
    (p->>'e')::types_mood IS NOT DISTINCT FROM e AND (p->>'dm')::int IS NOT DISTINCT FROM dm
        AND (p->>'iv')::interval IS NOT DISTINCT FROM iv AS others
FROM types_out r JOIN types_all USING (id)
WHERE id < 10
ORDER BY r.id;
-- Tests the comparison above can't: a 1-D array with a lower bound other than 1 keeps its
-- items only, a multi-dimensional one is its text.
SELECT id, p->'a2' AS a2, json_typeof(p->'a2') FROM types_out WHERE id IN (1, 6) ORDER BY id;

SELECT crmsync.drop_slot('types');
SELECT crmsync.unmap('types', 'types_all');
DROP TABLE types_all;
DROP DOMAIN types_posint, types_email;
DROP TYPE types_mood;
