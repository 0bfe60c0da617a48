-- UPDATE with an unchanged TOASTed column: the value is not in the WAL, so that property is
-- omitted (the CRM keeps what it has), never sent as null or a placeholder. A changed one is
-- sent whole. Long values are shown as <N x> / <N y>.
\set VERBOSITY terse
CREATE TABLE toast_docs (id int PRIMARY KEY, title text, body text, meta jsonb);
ALTER TABLE toast_docs ALTER COLUMN body SET STORAGE EXTERNAL;
ALTER TABLE toast_docs ALTER COLUMN meta SET STORAGE EXTERNAL;
SELECT crmsync.map('toast', 'toast_docs', 'docs', 'id');
SELECT 'init' FROM crmsync.create_slot('toast');

CREATE FUNCTION toast_show(data text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT replace(replace(replace(data, repeat('x', 10000), '<10000 x>'), repeat('y', 3000), '<3000 y>'),
                 (SELECT string_agg(i::text, ', ') FROM generate_series(1, 3000) i), '<1, 2, ... 3000>')
$$;

INSERT INTO toast_docs VALUES (1, 'first', repeat('x', 10000),
    (SELECT jsonb_agg(i) FROM generate_series(1, 3000) i));
SELECT pg_relation_size(reltoastrelid) > 0 AS toasted FROM pg_class WHERE oid = 'toast_docs'::regclass;
-- body and meta unchanged: omitted
UPDATE toast_docs SET title = 'second' WHERE id = 1;
-- body changed: sent; meta unchanged: omitted
UPDATE toast_docs SET body = repeat('y', 3000) WHERE id = 1;
-- changed to NULL: sent as null
UPDATE toast_docs SET body = NULL WHERE id = 1;
-- back to a TOASTed value, and an update of it in the same row change as the title
UPDATE toast_docs SET body = repeat('x', 10000), title = 'third' WHERE id = 1;
-- A key change: a delete of the old key, then an upsert of the new key. Under DEFAULT the
-- old row holds only the key, so the unchanged TOASTed values are in neither row and are
-- still omitted from the new key's record (backfill it, or use REPLICA IDENTITY FULL).
UPDATE toast_docs SET id = 2 WHERE id = 1;
SELECT toast_show(data) FROM regress.peek_changes('crmsync_toast', 'crm', 'toast', 'include-commits', 'false');
-- The same rule in the other formats.
SELECT toast_show(substr(data, strpos(data, '"record":'))) AS hubspot
FROM regress.peek_changes('crmsync_toast', 'crm', 'toast', 'include-commits', 'false', 'format', 'hubspot');
SELECT toast_show(substr(data, strpos(data, '"record":'))) AS salesforce
FROM regress.get_changes('crmsync_toast', 'crm', 'toast', 'include-commits', 'false', 'format', 'salesforce');

-- REPLICA IDENTITY FULL logs the whole old row, TOASTed values included; the new row still
-- lacks the unchanged value, and it is still omitted. With changed-only, only what changed.
ALTER TABLE toast_docs REPLICA IDENTITY FULL;
-- A key change carries the unchanged TOASTed values, from the old row, to the new key's
-- record (with changed-only too: the new key's record is sent whole).
UPDATE toast_docs SET id = 1 WHERE id = 2;
UPDATE toast_docs SET title = 'fourth' WHERE id = 1;
UPDATE toast_docs SET body = repeat('y', 3000) WHERE id = 1;
SELECT toast_show(data) FROM regress.peek_changes('crmsync_toast', 'crm', 'toast', 'include-commits', 'false');
SELECT toast_show(data) FROM regress.peek_changes('crmsync_toast', 'crm', 'toast', 'include-commits', 'false',
    'changed-only', 'true');
-- A DELETE carries the old row but sends only the key.
DELETE FROM toast_docs;
SELECT toast_show(data) FROM regress.get_changes('crmsync_toast', 'crm', 'toast', 'include-commits', 'false',
    'changed-only', 'true');

SELECT crmsync.drop_slot('toast');
SELECT crmsync.unmap('toast', 'toast_docs');
DROP TABLE toast_docs;
DROP FUNCTION toast_show(text);
