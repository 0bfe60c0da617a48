-- One-dimensional arrays become JSON arrays, read where they are stored: short arrays (a
-- 1-byte varlena header, items aligned by offset, not by address), long ones (4-byte header),
-- compressed and out-of-line ones, items of every length and alignment, with and without
-- NULLs. Each reads back to the stored array.
\set VERBOSITY terse
CREATE TABLE arrays_all (
    id int PRIMARY KEY,
    i2 int2[], i4 int4[], i8 int8[], f4 float4[], f8 float8[], b bool[], n numeric[],
    u uuid[], t text[], tz timestamptz[], d date[], ch "char"[], nm name[], te text[]);
ALTER TABLE arrays_all ALTER COLUMN te SET STORAGE EXTERNAL;  -- out of line, uncompressed
SELECT crmsync.map('arrays', 'arrays_all', 'rows', 'id');
SELECT 'init' FROM crmsync.create_slot('arrays');

-- 1: short arrays, NULLs among the items (a null bitmap moves where the items start)
INSERT INTO arrays_all VALUES (1,
    '{1,-2,NULL}', '{2147483647,NULL,-2147483648}', '{9223372036854775807,-1}', '{1.5,NULL}',
    '{0.1,NULL,-0.25}', '{t,f,NULL}', '{1.50,NULL,-3,NaN}',
    '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}', '{a,"",NULL,"b \"c\""}',
    '{"2026-01-02 03:04:05.678901+00",NULL}', '{2026-01-02,infinity}', '{a,b}', '{x,NULL,yy}',
    '{short}');
-- 2: the same without NULLs: items right after the header
INSERT INTO arrays_all VALUES (2,
    '{1,2}', '{3}', '{4,5}', '{6.5}', '{7.25}', '{t}', '{8}',
    '{00000000-0000-0000-0000-000000000000}', '{x}', '{"1999-12-31 23:59:59.999999+00"}',
    '{1999-12-31}', '{z}', '{n}', '{}');
-- 3: empty, all NULL, and a lower bound other than 1 (the items only)
INSERT INTO arrays_all (id, i4, t, i8) VALUES (3, '{}', '{NULL,NULL}', '[0:2]={7,8,9}');
-- 4: long arrays with a 4-byte header, one NULL in the middle
INSERT INTO arrays_all (id, i8, t, f8, n)
SELECT 4, array_agg(CASE WHEN g = 20 THEN NULL ELSE g * 1000000007::int8 END),
       array_agg(CASE WHEN g = 20 THEN NULL ELSE 'item ' || g END),
       array_agg(g / 8.0::float8), array_agg(g / 3.0)
FROM generate_series(1, 40) g;
-- 5: compressed (inline or toasted) and out of line: rebuilt by decoding, copied once
INSERT INTO arrays_all (id, t, i8, te)
SELECT 5, array_agg('item ' || (g % 10)), array_agg(g % 7), array_agg(repeat(chr(97 + g % 26), 100))
FROM generate_series(1, 3000) g;

-- Short rows byte for byte.
SELECT * FROM regress.peek_changes('crmsync_arrays', 'crm', 'arrays', 'include-commits', 'false')
WHERE data ~ '"record":\{"id":"[123]",';
-- Every row read back: each column's JSON items, cast to the column's type, are the stored
-- array (NULL items are JSON nulls; NULL columns JSON null).
CREATE TEMP TABLE arrays_out AS
SELECT (data::json->'record'->>'id')::int AS id, data::json->'record'->'properties' AS p
FROM pg_logical_slot_get_changes('crmsync_arrays', NULL, NULL, 'crm', 'arrays', 'include-commits', 'false');
CREATE FUNCTION pg_temp.items(v json) RETURNS text[] LANGUAGE sql AS $$
    SELECT CASE json_typeof(v) WHEN 'array' THEN
        coalesce((SELECT array_agg(x ORDER BY n) FROM json_array_elements_text(v) WITH ORDINALITY AS e(x, n)), '{}') END
$$;
SELECT r.id,
    pg_temp.items(p->'i2')::int2[] IS NOT DISTINCT FROM i2 AND pg_temp.items(p->'i4')::int4[] IS NOT DISTINCT FROM i4
        AND pg_temp.items(p->'i8')::int8[] IS NOT DISTINCT FROM (CASE WHEN id = 3 THEN '{7,8,9}' ELSE i8 END) AS ints,
    pg_temp.items(p->'f4')::float4[] IS NOT DISTINCT FROM f4 AND pg_temp.items(p->'f8')::float8[] IS NOT DISTINCT FROM f8
        AND pg_temp.items(p->'n')::numeric[]::text IS NOT DISTINCT FROM n::text AS numbers,
    pg_temp.items(p->'b')::bool[] IS NOT DISTINCT FROM b AS bools,
    pg_temp.items(p->'u')::uuid[] IS NOT DISTINCT FROM u AS uuids,
    pg_temp.items(p->'t') IS NOT DISTINCT FROM t AND pg_temp.items(p->'te') IS NOT DISTINCT FROM te
        AND pg_temp.items(p->'ch')::"char"[] IS NOT DISTINCT FROM ch AND pg_temp.items(p->'nm')::name[] IS NOT DISTINCT FROM nm AS texts,
    pg_temp.items(p->'tz')::timestamptz[] IS NOT DISTINCT FROM tz AND pg_temp.items(p->'d')::date[] IS NOT DISTINCT FROM d AS times,
    json_array_length(p->'t') AS t_items, pg_column_size(t) < octet_length(t::text) AS t_compressed,
    pg_column_size(te) AS te_bytes
FROM arrays_out r JOIN arrays_all USING (id)
ORDER BY r.id;

SELECT crmsync.drop_slot('arrays');
SELECT crmsync.unmap('arrays', 'arrays_all');
DROP TABLE arrays_all;
