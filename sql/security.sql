-- The extension's functions run as the caller (SECURITY INVOKER) and, except for the C
-- function render() (which resolves no names and would pay a GUC save/restore per row),
-- pin search_path, so objects a user creates in other schemas cannot capture their calls.
\set VERBOSITY terse
SELECT p.oid::regprocedure AS function, p.prosecdef AS security_definer, p.proconfig, l.lanname,
       p.provolatile, p.proisstrict
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'crmsync'::regnamespace
ORDER BY p.proname;
-- What the extension owns. Types left out: 18 also records each table's and view's row type
-- as a member, 15 does not.
SELECT pg_describe_object(classid, objid, objsubid) AS object
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'crmsync')
  AND classid <> 'pg_type'::regclass
ORDER BY 1;

-- A shadowing function in a schema earlier on the caller's search_path does not capture the
-- pinned functions' calls (map() would otherwise call this jsonb_typeof).
CREATE SCHEMA sec_evil;
CREATE FUNCTION sec_evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS $$ SELECT 'object' $$;
CREATE TABLE sec_t (id int PRIMARY KEY, v text);
SET search_path = sec_evil, public, pg_catalog;
SELECT crmsync.map('sec', 'public.sec_t', 'o', 'id', properties => '["v"]');
RESET search_path;

-- SECURITY INVOKER: a role without rights on the catalog cannot change it through them.
CREATE ROLE regress_crmsync_nobody;
GRANT USAGE ON SCHEMA crmsync TO regress_crmsync_nobody;
GRANT SELECT, INSERT, UPDATE ON crmsync.mappings TO regress_crmsync_nobody;
SET ROLE regress_crmsync_nobody;
-- Mapping a table streams its rows: it takes SELECT on that table, through map() or
-- through plain DML on the catalog.
SELECT crmsync.map('sec', 'public.sec_t', 'o', 'id');
INSERT INTO crmsync.mappings (crm, source, object, id_column) VALUES ('sec', 'public.sec_t', 'o', 'id');
RESET ROLE;
REVOKE SELECT, INSERT, UPDATE ON crmsync.mappings FROM regress_crmsync_nobody;
GRANT SELECT ON sec_t TO regress_crmsync_nobody;
SET ROLE regress_crmsync_nobody;
SELECT crmsync.map('sec', 'public.sec_t', 'o', 'id');
SELECT crmsync.unmap('sec', 'public.sec_t');
RESET ROLE;
REVOKE USAGE ON SCHEMA crmsync FROM regress_crmsync_nobody;
REVOKE SELECT ON sec_t FROM regress_crmsync_nobody;
DROP ROLE regress_crmsync_nobody;

DROP TABLE sec_t;
DROP FUNCTION sec_evil.jsonb_typeof(jsonb);
DROP SCHEMA sec_evil;
