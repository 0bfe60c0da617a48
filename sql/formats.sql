-- The three record formats on the same rows: webhook (typed, {"id","properties"}), hubspot
-- (every value a string, NULL as "", {"idProperty","id","properties"}), salesforce (typed,
-- {"attributes":{"type"},<external id>,<fields>}). Header fields are the same in all three.
\set VERBOSITY terse
-- A mapping with an explicit id_property and property names; deletes carry the id column
-- through REPLICA IDENTITY USING INDEX.
CREATE TABLE fmt_contacts (
    id int PRIMARY KEY,
    email text NOT NULL UNIQUE,
    first_name text,
    score numeric,
    vip bool,
    born date,
    seen timestamptz,
    tags text[],
    prefs jsonb,
    internal_note text);
ALTER TABLE fmt_contacts REPLICA IDENTITY USING INDEX fmt_contacts_email_key;
SELECT crmsync.map('fmt', 'fmt_contacts', 'Contact', 'email', 'Email',
    '{"email":"Email","first_name":"FirstName","score":"Score__c","vip":"VIP__c","born":"Birthdate",
      "seen":"LastSeen__c","tags":"Tags__c","prefs":"Prefs__c"}',
    '{insert,update,delete,truncate}');
-- A mapping with defaults: every column under its own name, the id column's name as the
-- id property.
CREATE TABLE fmt_deals (deal_id bigint PRIMARY KEY, title text, amount numeric(12,2), closed bool);
SELECT crmsync.map('fmt', 'fmt_deals', 'deals', 'deal_id');
SELECT 'init' FROM crmsync.create_slot('fmt');

BEGIN;
INSERT INTO fmt_contacts VALUES
    (1, 'ann@example.com', 'Ann', 12.50, true, '1990-02-03', '2026-05-06 07:08:09.123456+00',
     '{gold,early}', '{"lang":"en","opt_in":true}', 'not sent'),
    (2, 'bob@example.com', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO fmt_deals VALUES (10, 'Big deal', 1000000.00, false);
COMMIT;
UPDATE fmt_contacts SET vip = false, tags = '{}' WHERE id = 1;
UPDATE fmt_deals SET closed = true, amount = NULL;
DELETE FROM fmt_contacts WHERE id = 2;
DELETE FROM fmt_deals;
TRUNCATE fmt_contacts;

SELECT * FROM regress.peek_changes('crmsync_fmt', 'crm', 'fmt', 'format', 'webhook');
SELECT * FROM regress.peek_changes('crmsync_fmt', 'crm', 'fmt', 'format', 'hubspot');
SELECT * FROM regress.peek_changes('crmsync_fmt', 'crm', 'fmt', 'format', 'salesforce');

-- The records differ; the header before "record" is the same in every format.
SELECT count(DISTINCT split_part(w.data, ',"record":', 1)) AS headers_per_message
FROM regress.peek_changes('crmsync_fmt', 'crm', 'fmt', 'format', 'webhook') WITH ORDINALITY w(data, n)
JOIN regress.peek_changes('crmsync_fmt', 'crm', 'fmt', 'format', 'hubspot') WITH ORDINALITY h(data, n) USING (n)
JOIN regress.peek_changes('crmsync_fmt', 'crm', 'fmt', 'format', 'salesforce') WITH ORDINALITY s(data, n) USING (n)
WHERE split_part(w.data, ',"record":', 1) = split_part(h.data, ',"record":', 1)
  AND split_part(w.data, ',"record":', 1) = split_part(s.data, ',"record":', 1)
GROUP BY n HAVING true
ORDER BY 1 LIMIT 1;
SELECT (SELECT count(*) FROM regress.peek_changes('crmsync_fmt', 'crm', 'fmt', 'format', 'webhook') w
        JOIN regress.peek_changes('crmsync_fmt', 'crm', 'fmt', 'format', 'hubspot') h
          ON split_part(w.data, ',"record":', 1) = split_part(h.data, ',"record":', 1)) AS same_headers,
       (SELECT count(*) FROM regress.peek_changes('crmsync_fmt', 'crm', 'fmt')) AS messages;

SELECT count(*) AS consumed FROM pg_logical_slot_get_changes('crmsync_fmt', NULL, NULL, 'crm', 'fmt');
SELECT crmsync.drop_slot('fmt');
SELECT crmsync.unmap('fmt', 'fmt_contacts');
SELECT crmsync.unmap('fmt', 'fmt_deals');
DROP TABLE fmt_contacts, fmt_deals;
