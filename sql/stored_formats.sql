-- The plugin prints numeric and jsonb from their stored bytes (plugin/render/stored_formats.cpp)
-- instead of calling numeric_out and jsonb_out. Here it must print exactly what those print,
-- for every value below: each check counts the values whose text differs (0 expected) and
-- shows the first few that do.
\set VERBOSITY terse
SELECT setseed(0.5);
CREATE TABLE stored_values (
    id int PRIMARY KEY, n numeric, jb jsonb, na numeric[], jba jsonb[]);
SELECT crmsync.map('stored', 'stored_values', 'rows', 'id');
SELECT 'init' FROM crmsync.create_slot('stored');

-- Numerics: every display scale from 0 to 40 at many magnitudes and signs, in both stored
-- forms (short: scale < 64 and weight within -64..63; long otherwise), the specials, zeros
-- with scales, and the extremes numeric allows.
INSERT INTO stored_values (id, n)
SELECT row_number() OVER (), v FROM (
    SELECT round(((random() - 0.5) * 10 ^ (e))::numeric, s) AS v
    FROM generate_series(-30, 60, 3) e, generate_series(0, 40, 4) s, generate_series(1, 3)
    UNION ALL SELECT unnest(ARRAY['NaN', 'Infinity', '-Infinity', '0', '0.0', '-0.000', '0.00000000000000000001',
        '-1', '1', '9999', '10000', '-10000.0001', '12.50', '1e100', '-1e-100', '1e300',
        '123456789012345678901234567890.123456789012345678901234567890']::numeric[])
    UNION ALL SELECT ('1' || repeat('0', 260) || '.5')::numeric          -- weight 65: long form
    UNION ALL SELECT ('0.' || repeat('0', 259) || '7')::numeric          -- weight -65
    UNION ALL SELECT ('0.' || repeat('1', 63))::numeric                  -- scale 63, short form's last
    UNION ALL SELECT ('-0.' || repeat('2', 64))::numeric                 -- scale 64: long form
    UNION ALL SELECT ('0.' || repeat('0', 16382) || '3')::numeric        -- the largest scale
    UNION ALL SELECT repeat('9', 131072)::numeric                        -- the most digits before the point
) t;

-- jsonb: scalars at the top, nesting, escapes, numbers, empty containers, objects large enough
-- that entries store end offsets (every 32nd), deep nesting, and a document big enough to be
-- compressed and stored out of line.
INSERT INTO stored_values (id, jb)
SELECT 100000 + row_number() OVER (), v::jsonb FROM unnest(ARRAY[
    '"a string"', '42', '-0.5', 'true', 'false', 'null', '{}', '[]', '[[]]', '{"": {}}',
    '{"b": 1, "a": [1, 2.50, null], "aa": {"x": "y"}}',
    '{"quote\"": "back\\slash", "ctl": "\b\f\n\r\t\u0001\u001f", "uni": "Müller ☃ 𝄞", "del": "\u007f"}',
    '[1e3, 1.0E-3, -0, 0.000, 123456789012345678901234567890, 1e-20]',
    '[{"k": [true, false, null, {"deeper": [["x"]]}]}, "", 0]',
    '{"numbers": [1, 2, 3], "nested": {"a": {"b": {"c": {"d": [1, {"e": null}]}}}}}'
]) v;
INSERT INTO stored_values (id, jb)
SELECT 100100 + i, (SELECT jsonb_object_agg('key' || k || repeat('x', (k * i) % 7), CASE k % 5
        WHEN 0 THEN to_jsonb(k) WHEN 1 THEN to_jsonb('v' || k) WHEN 2 THEN to_jsonb(k / 7.0)
        WHEN 3 THEN jsonb_build_array(k, 'a', NULL) ELSE jsonb_build_object('k', k % 2 = 0) END)
    FROM generate_series(1, 10 * i) k)
FROM generate_series(1, 12) i;
INSERT INTO stored_values (id, jb)
SELECT 100200 + i, (SELECT jsonb_agg(CASE WHEN k % 3 = 0 THEN to_jsonb(k * 1.5) ELSE to_jsonb(repeat('s', k % 40)) END)
    FROM generate_series(1, 40 * i) k)
FROM generate_series(1, 5) i;
INSERT INTO stored_values (id, jb)
VALUES (100300, (repeat('[', 100) || '{"bottom": 1}' || repeat(']', 100))::jsonb),
       (100301, (repeat('{"a": ', 40) || '[]' || repeat('}', 40))::jsonb),
       (100302, (SELECT jsonb_agg(jsonb_build_object('i', k, 'text', repeat('lorem ipsum ', 20)))
                 FROM generate_series(1, 500) k));
-- Arrays of both: their items are printed by the same code.
INSERT INTO stored_values (id, na, jba)
VALUES (200000, '{1.50,NaN,-Infinity,NULL,0.001}', ARRAY['{"x": 1}', '[1, "two"]', '3.0', NULL]::jsonb[]);

SELECT pg_column_compression(jb) IS NOT NULL AS compressed, octet_length(jb::text) > 100000 AS large
FROM stored_values WHERE id = 100302;

CREATE TEMP TABLE stored_out AS
SELECT (data::json #>> '{record,id}')::int AS id, data::json #> '{record,properties}' AS p
FROM pg_logical_slot_peek_changes('crmsync_stored', NULL, NULL, 'crm', 'stored', 'include-commits', 'false');
-- json keeps a value's text as written, so ->> and -> give the plugin's bytes.
SELECT count(*) AS numerics, count(*) FILTER (WHERE p ->> 'n' IS DISTINCT FROM n::text) AS differ,
       count(*) FILTER (WHERE json_typeof(p -> 'n') = 'string') AS quoted
FROM stored_out JOIN stored_values USING (id) WHERE id < 100000;
SELECT id, n::text AS numeric_out, p ->> 'n' AS plugin
FROM stored_out JOIN stored_values USING (id)
WHERE id < 100000 AND p ->> 'n' IS DISTINCT FROM n::text ORDER BY id LIMIT 5;
SELECT count(*) AS documents, count(*) FILTER (WHERE (p -> 'jb')::text IS DISTINCT FROM jb::text) AS differ
FROM stored_out JOIN stored_values USING (id) WHERE id BETWEEN 100000 AND 199999;
SELECT id, left(jb::text, 60) AS jsonb_out, left((p -> 'jb')::text, 60) AS plugin
FROM stored_out JOIN stored_values USING (id)
WHERE id BETWEEN 100000 AND 199999 AND (p -> 'jb')::text IS DISTINCT FROM jb::text ORDER BY id LIMIT 5;
SELECT p -> 'na' AS na, p -> 'jba' AS jba FROM stored_out WHERE id = 200000;
-- A few whole, as they look.
SELECT id, p -> 'jb' AS jb FROM stored_out WHERE id BETWEEN 100001 AND 100015 ORDER BY id;

-- HubSpot sends both as strings, Salesforce jsonb as a string: the same text inside.
SELECT format, count(*) AS values,
       count(*) FILTER (WHERE CASE WHEN n IS NOT NULL THEN p ->> 'n' ELSE p ->> 'jb' END
                              IS DISTINCT FROM coalesce(n::text, jb::text)) AS differ
FROM (SELECT f AS format, (data::json #>> '{record,id}')::int AS id,
             coalesce(data::json #> '{record,properties}', data::json -> 'record') AS p  -- salesforce: no "properties"
      FROM unnest(ARRAY['hubspot', 'salesforce']) f,
           pg_logical_slot_peek_changes('crmsync_stored', NULL, NULL, 'crm', 'stored', 'include-commits', 'false',
                                        'format', f)) o
JOIN stored_values USING (id)
WHERE (o.format = 'hubspot' AND (n IS NOT NULL OR jb IS NOT NULL)) OR (o.format = 'salesforce' AND jb IS NOT NULL)
GROUP BY format ORDER BY format;
SELECT data::json #> '{record,properties}' AS hubspot_arrays
FROM pg_logical_slot_peek_changes('crmsync_stored', NULL, NULL, 'crm', 'stored', 'include-commits', 'false',
                                  'format', 'hubspot')
WHERE data::json #>> '{record,id}' = '200000';

SELECT crmsync.drop_slot('stored');
SELECT crmsync.unmap('stored', 'stored_values');
DROP TABLE stored_values;
