-- TRUNCATE is sent only for mappings whose actions include 'truncate': one message per
-- mapped table of the statement, "key":null and "record":null.
\set VERBOSITY terse
CREATE TABLE trunc_a (id int PRIMARY KEY);
CREATE TABLE trunc_b (id int PRIMARY KEY);
CREATE TABLE trunc_c (id int PRIMARY KEY);             -- mapped without 'truncate'
CREATE TABLE trunc_d (id int PRIMARY KEY);             -- not mapped
CREATE TABLE trunc_child (id int PRIMARY KEY, a_id int REFERENCES trunc_a);
SELECT crmsync.map('trunc', 'trunc_a', 'a', 'id', actions => '{insert,update,delete,truncate}');
SELECT crmsync.map('trunc', 'trunc_b', 'b', 'id', actions => '{truncate}');
SELECT crmsync.map('trunc', 'trunc_c', 'c', 'id');
SELECT crmsync.map('trunc', 'trunc_child', 'child', 'id', actions => '{insert,truncate}');
SELECT 'init' FROM crmsync.create_slot('trunc');

TRUNCATE trunc_a, trunc_b, trunc_c, trunc_d, trunc_child;
-- Only tables without 'truncate': no message, no commit marker.
TRUNCATE trunc_c;
TRUNCATE trunc_d;
-- CASCADE reaches the referencing table.
INSERT INTO trunc_a VALUES (1);
INSERT INTO trunc_child VALUES (1, 1);
TRUNCATE trunc_a CASCADE;
-- Inside a transaction, in order with the row changes; RESTART IDENTITY changes nothing.
BEGIN;
INSERT INTO trunc_b VALUES (1);                         -- 'insert' not in b's actions
INSERT INTO trunc_a VALUES (2);
TRUNCATE trunc_b RESTART IDENTITY;
INSERT INTO trunc_a VALUES (3);
COMMIT;
SELECT * FROM regress.get_changes('crmsync_trunc', 'crm', 'trunc');

SELECT crmsync.drop_slot('trunc');
SELECT crmsync.unmap('trunc', t) FROM unnest('{trunc_a,trunc_b,trunc_c,trunc_child}'::regclass[]) t;
DROP TABLE trunc_a, trunc_b, trunc_c, trunc_d, trunc_child;
