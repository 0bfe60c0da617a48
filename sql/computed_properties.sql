-- Computed properties: properties => {"property": {"expr": "<SQL expression>"}} sends the
-- expression's value over the row, next to column properties ({"column": "property"}).
-- Checked like a row filter when the mapping is written (errors name the property),
-- evaluated in the walsender. An expression that reads an unchanged TOASTed column the WAL
-- does not carry is left out, as that column is; a full old row supplies the value.
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE TABLE cp_people (id int PRIMARY KEY, first_name text, last_name text, email text, cents bigint, notes text);
ALTER TABLE cp_people ALTER COLUMN notes SET STORAGE EXTERNAL;
CREATE TYPE cp_mood AS ENUM ('happy', 'sad');
ALTER TABLE cp_people ADD COLUMN mood cp_mood;

-- Refused, each naming the property.
SELECT crmsync.map('cp', 'cp_people', 'people', 'id', properties => '{"fullname": {"expression": "1"}}');
SELECT crmsync.map('cp', 'cp_people', 'people', 'id', properties => '{"fullname": {"expr": ""}}');
SELECT crmsync.map('cp', 'cp_people', 'people', 'id', properties => '{"fullname": {"expr": 1}}');
SELECT crmsync.map('cp', 'cp_people', 'people', 'id',
                   properties => '{"email": "contact_email", "contact_email": {"expr": "lower(email)"}}');
SELECT crmsync.map('cp', 'cp_people', 'people', 'id', properties => '{"fullname": {"expr": "first_name ||"}}');
SELECT crmsync.map('cp', 'cp_people', 'people', 'id', properties => '{"fullname": {"expr": "no_such || last_name"}}');
SELECT crmsync.map('cp', 'cp_people', 'people', 'id', properties => '{"stamp": {"expr": "now()"}}');
SELECT crmsync.map('cp', 'cp_people', 'people', 'id',
                   properties => '{"n": {"expr": "(SELECT 1)"}}');
SELECT crmsync.map('cp', 'cp_people', 'people', 'id', properties => '{"mood": {"expr": "mood"}}');
SELECT crmsync.map('cp', 'cp_people', 'people', 'id', properties => '{"x": {"expr": "1 FROM pg_class"}}');
\set VERBOSITY terse

SELECT crmsync.map('cp', 'cp_people', 'people', 'id', properties => '{
    "email": "email",
    "fullname": {"expr": "first_name || '' '' || last_name"},
    "email_lower": {"expr": "lower(email)"},
    "amount": {"expr": "cents / 100.0"},
    "preview": {"expr": "left(notes, 5)"},
    "vip": {"expr": "cents > 100000"}}');
SELECT properties_plan IS NOT NULL AS planned, (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(properties_plan) k)
FROM crmsync.mappings WHERE crm = 'cp';
SELECT 'init' FROM crmsync.create_slot('cp');

INSERT INTO cp_people VALUES (1, 'Ada', 'Lovelace', 'Ada@Example.com', 123456, repeat('n', 5000), 'happy');
-- NULL in, NULL out (text || NULL is NULL).
INSERT INTO cp_people VALUES (2, NULL, 'Nobody', NULL, NULL, NULL, NULL);
-- notes not touched: it is an unchanged TOASTed value the WAL does not carry (REPLICA IDENTITY
-- DEFAULT), so "preview" is left out like a column would be; the rest is computed.
UPDATE cp_people SET first_name = 'Augusta Ada' WHERE id = 1;
-- notes changed: "preview" is sent.
UPDATE cp_people SET notes = 'short notes' WHERE id = 1;
SELECT data FROM regress.get_changes('crmsync_cp', 'crm', 'cp');

-- crmsync.render() previews them, in each format.
SELECT crmsync.render('cp', 'cp_people', p) FROM cp_people p WHERE id = 1;
SELECT crmsync.render('cp', 'cp_people', p, 'hubspot') FROM cp_people p WHERE id = 1;
SELECT crmsync.render('cp', 'cp_people', p, 'salesforce') FROM cp_people p WHERE id = 1;

-- REPLICA IDENTITY FULL with changed-only: the old row supplies an unchanged TOASTed value,
-- and a computed property is sent only when a column it reads changed.
ALTER TABLE cp_people REPLICA IDENTITY FULL;
UPDATE cp_people SET notes = repeat('m', 5000) WHERE id = 2;
UPDATE cp_people SET last_name = 'Somebody' WHERE id = 2;
SELECT replace(data, repeat('m', 5000), '<5000 m>') AS data
FROM regress.get_changes('crmsync_cp', 'crm', 'cp', 'changed-only', 'true');

-- A new expression takes effect at its position in the WAL.
UPDATE cp_people SET cents = 1 WHERE id = 1;
SELECT crmsync.map('cp', 'cp_people', 'people', 'id', properties => '{"email": "email", "amount": {"expr": "cents::numeric / 100"}}');
UPDATE cp_people SET cents = 2 WHERE id = 1;
-- The table changes under an expression: its changes go out with the reason until the
-- mapping is set again.
ALTER TABLE cp_people ALTER COLUMN cents TYPE numeric;
UPDATE cp_people SET cents = 3 WHERE id = 1;
SELECT crmsync.map('cp', 'cp_people', 'people', 'id', properties => '{"email": "email", "amount": {"expr": "cents / 100"}}');
UPDATE cp_people SET cents = 4 WHERE id = 1;
SELECT data FROM regress.get_changes('crmsync_cp', 'crm', 'cp');

SELECT crmsync.drop_slot('cp');
SELECT crmsync.unmap('cp', 'cp_people');
DROP TABLE cp_people;
DROP TYPE cp_mood;
