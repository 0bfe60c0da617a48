-- Changes of aborted subtransactions (ROLLBACK TO SAVEPOINT, a failed statement inside an
-- exception block) never appear; those of released ones do, in order, and seq counts only
-- what is sent. An aborted top-level transaction sends nothing.
\set VERBOSITY terse
CREATE TABLE subx_items (id int PRIMARY KEY, label text);
SELECT crmsync.map('subx', 'subx_items', 'items', 'id');
SELECT 'init' FROM crmsync.create_slot('subx');

BEGIN;
INSERT INTO subx_items VALUES (1, 'kept');
SAVEPOINT a;
INSERT INTO subx_items VALUES (2, 'rolled back');
UPDATE subx_items SET label = 'rolled back too' WHERE id = 1;
SELECT pg_logical_emit_message(true, 'crmsync', '"rolled back message"') IS NOT NULL AS emitted;
ROLLBACK TO SAVEPOINT a;
INSERT INTO subx_items VALUES (3, 'kept after rollback');
SAVEPOINT b;
INSERT INTO subx_items VALUES (4, 'released');
SAVEPOINT c;
DELETE FROM subx_items WHERE id = 4;
ROLLBACK TO SAVEPOINT c;
RELEASE SAVEPOINT b;
SAVEPOINT d;
INSERT INTO subx_items SELECT g, 'many rolled back' FROM generate_series(100, 1099) g;
ROLLBACK TO SAVEPOINT d;
UPDATE subx_items SET label = 'last' WHERE id = 3;
COMMIT;

-- A failing statement in a PL/pgSQL exception block is a subtransaction too.
DO $$
BEGIN
    INSERT INTO subx_items VALUES (5, 'in block');
    BEGIN
        INSERT INTO subx_items VALUES (6, 'fails next');
        INSERT INTO subx_items VALUES (1, 'duplicate key');
    EXCEPTION WHEN unique_violation THEN
        NULL;
    END;
END $$;

-- Every change rolled back: nothing at all, not even a commit marker.
BEGIN;
SAVEPOINT sp_only;
INSERT INTO subx_items VALUES (7, 'gone');
ROLLBACK TO SAVEPOINT sp_only;
COMMIT;
BEGIN;
INSERT INTO subx_items VALUES (8, 'aborted');
ROLLBACK;

SELECT * FROM regress.get_changes('crmsync_subx', 'crm', 'subx');

SELECT crmsync.drop_slot('subx');
SELECT crmsync.unmap('subx', 'subx_items');
DROP TABLE subx_items;
