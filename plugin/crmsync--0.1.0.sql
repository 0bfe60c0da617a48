-- crmsync extension: the mapping catalog, its functions, the status view and the
-- dead-letter table. Functions are SECURITY INVOKER with a pinned search_path.
\echo Use "CREATE EXTENSION crmsync" to load this file. \quit

-- user_catalog_table: the output plugin reads this table under the historic snapshot, so
-- a mapping change takes effect exactly at its position in the WAL.
CREATE TABLE crmsync.mappings (
    crm          text     NOT NULL CHECK (crm ~ '^[a-z][a-z0-9_]{0,47}$'),
    source       regclass NOT NULL,
    object       text     NOT NULL CHECK (object <> ''),
    id_column    name     NOT NULL,
    id_property  text     CHECK (id_property <> ''),
    properties   jsonb    CHECK (jsonb_typeof(properties) = 'object'),
    actions      text[]   NOT NULL DEFAULT '{insert,update,delete}'
                 CHECK (cardinality(actions) > 0 AND actions <@ '{insert,update,delete,truncate}'),
    -- Which rows reach the CRM: a boolean SQL expression over the table's columns, as written.
    row_filter   text     CHECK (row_filter <> ''),
    -- The checked expression as a node tree (nodeToString), made by a trigger whenever the
    -- row is written: what the walsender evaluates. Not meant to be written by hand.
    row_filter_plan text,
    -- An update whose row leaves the filter: 'delete' the CRM record (when deletes are
    -- mapped), or 'ignore' it.
    on_filter_exit text   NOT NULL DEFAULT 'delete' CHECK (on_filter_exit IN ('delete', 'ignore')),
    -- The computed properties of `properties` ({"property": {"expr": "..."}}), checked, as
    -- {"property": "<node tree>"}: made by the same trigger, evaluated by the walsender.
    properties_plan jsonb,
    PRIMARY KEY (crm, source)
) WITH (user_catalog_table = true);

COMMENT ON TABLE crmsync.mappings IS
  'Which table goes to which CRM object, keyed by which column. Change it with crmsync.map() and crmsync.unmap().';

-- Written by crmsync-sender: records the CRM rejected (delivery rule 7). The event id
-- (commit_lsn/seq) makes a redelivered poison record land here once.
CREATE TABLE crmsync.dead_letters (
    id           bigserial   PRIMARY KEY,
    crm          text        NOT NULL,
    event_id     text        NOT NULL,
    commit_lsn   pg_lsn,
    seq          integer,
    object       text,
    key          text,
    payload      json        NOT NULL,
    http_status  integer,
    crm_error    text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (crm, event_id)
);

COMMENT ON TABLE crmsync.dead_letters IS
  'Records a CRM rejected, with its answer. Fix the cause, then replay or delete them.';

-- Written by crmsync-sender: one row per table being (or done being) copied to a CRM by an
-- initial sync or a re-sync (`crmsync-sender backfill`). last_key is the id column's value
-- of the last row the CRM accepted, so a restarted sender resumes after it and never sends
-- a finished table again; pending_ids are ids before it still to be read again (a streamed
-- change raced their read), rows_reread counts such reads. Insert a row with state 'pending' (or run the backfill command)
-- to ask a running sender for a re-sync. See docs/backfill.md.
CREATE TABLE crmsync.backfills (
    crm           text        NOT NULL,
    source        regclass    NOT NULL,
    state         text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done')),
    method        text        CHECK (method IN ('snapshot', 'watermark')),
    last_key      text,
    pending_ids   text[]      NOT NULL DEFAULT '{}',
    rows_sent     bigint      NOT NULL DEFAULT 0,
    rows_reread   bigint      NOT NULL DEFAULT 0,
    rows_estimate bigint,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    updated_at    timestamptz,
    finished_at   timestamptz,
    PRIMARY KEY (crm, source)
);

COMMENT ON TABLE crmsync.backfills IS
  'Initial syncs and re-syncs of mapped tables by crmsync-sender: progress, and requests (state = pending).';

-- Written by crmsync-sender when what it is doing changes: streaming, waiting for the CRM's
-- daily request budget, or holding delivery for a configuration error the operator must fix.
-- crmsync.status shows it while the sender is attached to its slot. Not dumped: it describes
-- a running process.
CREATE TABLE crmsync.sender_state (
    crm         text        PRIMARY KEY,
    state       text        NOT NULL CHECK (state IN ('streaming', 'waiting_for_quota', 'held')),
    detail      text,
    since       timestamptz NOT NULL,
    until       timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE crmsync.sender_state IS
  'What each crm''s sender is doing (written by crmsync-sender on change): streaming, waiting_for_quota (until), held (detail: what to fix).';

SELECT pg_catalog.pg_extension_config_dump('crmsync.mappings', '');
SELECT pg_catalog.pg_extension_config_dump('crmsync.backfills', '');
SELECT pg_catalog.pg_extension_config_dump('crmsync.dead_letters', '');
SELECT pg_catalog.pg_extension_config_dump('crmsync.dead_letters_id_seq', '');

CREATE FUNCTION crmsync._check_crm_name(crm text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF crm IS NULL OR crm !~ '^[a-z][a-z0-9_]{0,47}$' THEN
        RAISE EXCEPTION 'invalid crm name %', coalesce(quote_literal(crm), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A crm name is 1 to 48 characters: a lower-case letter, then lower-case letters, digits or underscores. It also names the slot crmsync_<crm>.';
    END IF;
END $$;

-- Whether deleted rows will carry `col`: the replica identity must cover it.
CREATE FUNCTION crmsync._replica_identity_covers(source regclass, col name) RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE c.relreplident
        WHEN 'f' THEN true
        WHEN 'n' THEN false
        ELSE EXISTS (
            SELECT 1
            FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = c.oid
              AND a.attname = col
              AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident)))
        END
    FROM pg_class c WHERE c.oid = source
$$;

CREATE FUNCTION crmsync.map(
    crm         text,
    source      regclass,
    object      text,
    id_column   name,
    id_property text    DEFAULT NULL,
    properties  jsonb   DEFAULT NULL,
    actions     text[]  DEFAULT '{insert,update,delete}',
    row_filter  text    DEFAULT NULL,
    on_filter_exit text DEFAULT 'delete')
RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    kind    "char";
    bad     text;
BEGIN
    PERFORM crmsync._check_crm_name(crm);
    IF source IS NULL OR object IS NULL OR object = '' OR id_column IS NULL THEN
        RAISE EXCEPTION 'crmsync.map needs crm, source, object and id_column'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Example: SELECT crmsync.map(''hubspot'', ''public.contacts'', ''contacts'', ''email'');';
    END IF;

    SELECT c.relkind INTO kind FROM pg_class c WHERE c.oid = source;
    IF id_property = '' THEN
        RAISE EXCEPTION 'id_property must be a CRM property name or NULL, not an empty string'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'NULL matches on the id column''s own (mapped) name.';
    END IF;

    IF kind = 'p' THEN
        RAISE EXCEPTION 'table % is partitioned; changes are decoded per partition', source
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Map each partition with crmsync.map().';
    ELSIF kind IS DISTINCT FROM 'r' THEN
        RAISE EXCEPTION '% is not a table', source
            USING ERRCODE = 'wrong_object_type', HINT = 'Only ordinary tables can be mapped.';
    END IF;

    IF (SELECT c.relpersistence FROM pg_class c WHERE c.oid = source) = 't' THEN
        RAISE EXCEPTION 'table % is temporary; its changes are never decoded, so nothing would be sent', source
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Map a permanent table.';
    ELSIF (SELECT c.relpersistence FROM pg_class c WHERE c.oid = source) = 'u' THEN
        RAISE EXCEPTION 'table % is unlogged; its changes never reach the WAL, so nothing would be sent', source
            USING ERRCODE = 'wrong_object_type',
                  HINT = format('Make it a logged table first: ALTER TABLE %s SET LOGGED.', source);
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_attribute a
                   WHERE a.attrelid = source AND a.attname = id_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" of id_column does not exist in table %', id_column, source
            USING ERRCODE = 'undefined_column';
    END IF;

    IF properties IS NOT NULL THEN
        IF jsonb_typeof(properties) <> 'object' THEN
            RAISE EXCEPTION 'properties must be a JSON object {"column": "crm_property", ...}, not %', jsonb_typeof(properties)
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- {"column": "property"} sends a column; {"property": {"expr": "..."}} computes one.
        SELECT string_agg(quote_ident(p.key), ', ') INTO bad
        FROM jsonb_each(properties) p
        WHERE NOT (jsonb_typeof(p.value) = 'string' AND p.value #>> '{}' <> ''
                   OR jsonb_typeof(p.value) = 'object' AND p.value - 'expr' = '{}'::jsonb
                      AND jsonb_typeof(p.value -> 'expr') = 'string' AND p.value ->> 'expr' <> '');
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'properties must map each column to a non-empty property name (a JSON string), or name a computed property with {"expr": "<SQL expression>"}; not so for: %', bad
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Example: {"email": "email", "fullname": {"expr": "first_name || '' '' || last_name"}}';
        END IF;
        SELECT string_agg(quote_ident(p.key), ', ') INTO bad
        FROM jsonb_each(properties) p
        WHERE jsonb_typeof(p.value) = 'string'
          AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                          WHERE a.attrelid = source AND a.attname = p.key AND a.attnum > 0 AND NOT a.attisdropped);
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'properties names columns that do not exist in table %: %', source, bad
                USING ERRCODE = 'undefined_column';
        END IF;
        SELECT string_agg(quote_literal(d.name), ', ') INTO bad
        FROM (SELECT CASE WHEN jsonb_typeof(p.value) = 'string' THEN p.value #>> '{}' ELSE p.key END AS name
              FROM jsonb_each(properties) p
              GROUP BY 1 HAVING count(*) > 1) d;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'properties maps several columns to the same CRM property: %', bad
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Each CRM property takes its value from one column or expression.';
        END IF;
    END IF;

    IF actions IS NULL OR cardinality(actions) = 0 OR NOT actions <@ '{insert,update,delete,truncate}'::text[] THEN
        RAISE EXCEPTION 'invalid actions %', coalesce(actions::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'actions is a non-empty subset of {insert,update,delete,truncate}.';
    END IF;

    IF on_filter_exit IS NULL OR on_filter_exit NOT IN ('delete', 'ignore') THEN
        RAISE EXCEPTION 'invalid on_filter_exit %', coalesce(quote_literal(on_filter_exit), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'on_filter_exit is ''delete'' (an update whose row leaves the filter deletes the CRM record) or ''ignore''.';
    END IF;
    IF row_filter = '' THEN
        RAISE EXCEPTION 'row_filter must be a boolean SQL expression or NULL, not an empty string'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Example: row_filter => ''NOT is_test AND tenant_id = 7''; NULL sends every row.';
    END IF;
    -- The row filter itself is checked by the trigger that plans it (crmsync._plan_row_filter).

    IF 'delete' = ANY (actions) AND NOT crmsync._replica_identity_covers(source, id_column) THEN
        RAISE EXCEPTION 'id column "%" of table % is not covered by its replica identity, so deleted rows would not carry it', id_column, source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run ALTER TABLE %s REPLICA IDENTITY FULL, or make %I part of the primary key or of a unique index used with REPLICA IDENTITY USING INDEX; or map without the delete action.', source, id_column);
    END IF;

    -- ON CONFLICT is not allowed on a user catalog table: update, else insert, with the
    -- table locked against a concurrent map() of the same pair.
    LOCK TABLE crmsync.mappings IN SHARE ROW EXCLUSIVE MODE;
    UPDATE crmsync.mappings m
       SET object = map.object, id_column = map.id_column, id_property = map.id_property,
           properties = map.properties, actions = map.actions, row_filter = map.row_filter,
           on_filter_exit = map.on_filter_exit
     WHERE m.crm = map.crm AND m.source = map.source;
    IF NOT FOUND THEN
        INSERT INTO crmsync.mappings (crm, source, object, id_column, id_property, properties, actions, row_filter,
                                      on_filter_exit)
        VALUES (crm, source, object, id_column, id_property, properties, actions, row_filter, on_filter_exit);
    END IF;
END $$;

CREATE FUNCTION crmsync.unmap(crm text, source regclass) RETURNS boolean
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    removed boolean;
BEGIN
    DELETE FROM crmsync.mappings m WHERE m.crm = unmap.crm AND m.source = unmap.source;
    GET DIAGNOSTICS removed = ROW_COUNT;
    IF NOT removed THEN
        RAISE NOTICE 'crm % has no mapping for table %', crm, source;
    END IF;
    RETURN removed;
END $$;

-- Mapping a table streams its rows: only for those who may read it, however the row is
-- written (crmsync.map() or plain DML on the catalog).
CREATE FUNCTION crmsync._check_mapping_privilege() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT has_table_privilege(NEW.source, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied to map table %: mapping streams its rows, which needs SELECT on it', NEW.source
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('GRANT SELECT ON %s TO %I;', NEW.source, current_user);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER mappings_privilege BEFORE INSERT OR UPDATE ON crmsync.mappings
FOR EACH ROW EXECUTE FUNCTION crmsync._check_mapping_privilege();

-- The row filter, parsed against the table, checked (immutable built-ins only, no
-- subqueries or system columns, replica identity covering it when updates or deletes are
-- mapped) and stored as the node tree the walsender evaluates. Errors name what is wrong.
CREATE FUNCTION crmsync._row_filter_plan(source regclass, row_filter text, actions text[]) RETURNS text
AS 'MODULE_PATHNAME', 'crmsync_row_filter_plan' LANGUAGE C STRICT;

-- A computed property's expression, checked like a row filter (but of any built-in type)
-- and planned; errors name the property.
CREATE FUNCTION crmsync._expression_plan(source regclass, property text, expression text) RETURNS text
AS 'MODULE_PATHNAME', 'crmsync_expression_plan' LANGUAGE C STRICT;

-- On every write of a mapping, however made: the plans always match the expressions' text.
CREATE FUNCTION crmsync._plan_expressions() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.row_filter_plan := crmsync._row_filter_plan(NEW.source, NEW.row_filter, NEW.actions);
    -- Not an object: the table's CHECK constraint refuses the row with its own message.
    NEW.properties_plan := CASE WHEN jsonb_typeof(NEW.properties) = 'object' THEN
        (SELECT jsonb_object_agg(p.key, crmsync._expression_plan(NEW.source, p.key, p.value ->> 'expr'))
         FROM jsonb_each(NEW.properties) p
         WHERE jsonb_typeof(p.value) = 'object' AND jsonb_typeof(p.value -> 'expr') = 'string') END;
    RETURN NEW;
END $$;

-- After mappings_privilege (triggers fire in name order): a table the role may not read is
-- refused before its expressions are parsed.
CREATE TRIGGER mappings_row_filter BEFORE INSERT OR UPDATE ON crmsync.mappings
FOR EACH ROW EXECUTE FUNCTION crmsync._plan_expressions();

CREATE FUNCTION crmsync._mappings_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'crmsync_mappings_changed' LANGUAGE C;

-- A mapping change reaches transactions that are being decoded concurrently too.
CREATE TRIGGER mappings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON crmsync.mappings
FOR EACH STATEMENT EXECUTE FUNCTION crmsync._mappings_changed();

CREATE FUNCTION crmsync._plugin_libraries_problem() RETURNS text
AS 'MODULE_PATHNAME', 'crmsync_plugin_libraries_problem' LANGUAGE C STABLE;

-- failover: NULL (the default) makes the slot a failover slot where the server has them
-- (PostgreSQL 17 and later: synchronised to a physical standby with sync_replication_slots,
-- so a promotion keeps it); true asks for one and fails on older servers; false never.
CREATE FUNCTION crmsync.create_slot(crm text, failover boolean DEFAULT NULL) RETURNS pg_lsn
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    libraries text := crmsync._plugin_libraries_problem();
    has_failover_slots boolean := current_setting('server_version_num')::int >= 170000;
    result    pg_lsn;
BEGIN
    PERFORM crmsync._check_crm_name(crm);
    IF failover AND NOT has_failover_slots THEN
        RAISE EXCEPTION 'failover slots need PostgreSQL 17 or later; this server is %', current_setting('server_version')
            USING ERRCODE = 'feature_not_supported',
                  HINT = format('Leave failover out (SELECT crmsync.create_slot(%L)) for a slot without it.', crm);
    END IF;
    IF current_setting('wal_level') <> 'logical' THEN
        RAISE EXCEPTION 'wal_level is %, logical decoding needs logical', current_setting('wal_level')
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Set wal_level = logical in postgresql.conf and restart the server.';
    END IF;
    IF libraries IS NOT NULL THEN
        RAISE EXCEPTION 'crmsync is not listed in output_plugin_libraries (%), so the server will not load it as an output plugin', coalesce(nullif(libraries, ''), 'empty')
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  -- A list setting: quoting the whole list would make it one name.
                  HINT = format('As a superuser: ALTER SYSTEM SET output_plugin_libraries = %s; SELECT pg_reload_conf();',
                                CASE WHEN btrim(libraries) = '' THEN 'crmsync' ELSE libraries || ', crmsync' END);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crmsync.mappings m WHERE m.crm = create_slot.crm) THEN
        RAISE EXCEPTION 'unknown crm "%": crmsync.mappings has no mapping for it', crm
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Map a table first: SELECT crmsync.map(%L, ''public.contacts'', ''contacts'', ''email'');', crm);
    END IF;
    IF has_failover_slots THEN
        -- Dynamic: the failover parameter does not exist before 17, and the body is parsed there too.
        EXECUTE 'SELECT lsn FROM pg_create_logical_replication_slot($1, ''crmsync'', failover => $2)'
            INTO result USING 'crmsync_' || crm, coalesce(failover, true);
    ELSE
        SELECT s.lsn INTO result FROM pg_create_logical_replication_slot('crmsync_' || crm, 'crmsync') s;
    END IF;
    RETURN result;
END $$;

CREATE FUNCTION crmsync.drop_slot(crm text) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM crmsync._check_crm_name(crm);
    IF NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = 'crmsync_' || crm) THEN
        RAISE EXCEPTION 'replication slot "crmsync_%" does not exist', crm
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT * FROM crmsync.status shows the slots of mapped crms.';
    END IF;
    PERFORM pg_drop_replication_slot('crmsync_' || crm);
END $$;

-- The plugin's own map and render code, callable from SQL: preview a mapping, and the
-- unit of backfill. No pinned search_path here: it resolves no names, and a SET clause
-- would cost a GUC save/restore per row of a backfill.
CREATE FUNCTION crmsync.render(crm text, source regclass, "row" anyelement, format text DEFAULT 'webhook')
RETURNS json
AS 'MODULE_PATHNAME', 'crmsync_render'
LANGUAGE C STABLE STRICT SECURITY INVOKER;

CREATE VIEW crmsync.status AS
SELECT m.crm,
       'crmsync_' || m.crm                                                   AS slot_name,
       m.mapped_tables,
       s.active,
       s.active_pid,
       s.confirmed_flush_lsn,
       pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint AS lag_bytes,
       s.wal_status,
       s.safe_wal_size,
       CASE WHEN s.active THEN st.state END                                 AS sender_state,
       CASE WHEN s.active THEN st.detail END                                AS sender_detail,
       CASE WHEN s.active THEN st.since END                                 AS sender_state_since,
       CASE WHEN s.active THEN st.until END                                 AS sender_state_until,
       m.mappings
FROM (SELECT mp.crm, count(*) AS mapped_tables,
             -- What each table sends: its object, and the filter and computed properties if any.
             pg_catalog.jsonb_object_agg(mp.source::text, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                 'object', mp.object, 'row_filter', mp.row_filter,
                 'computed', (SELECT pg_catalog.array_agg(k ORDER BY k) FROM pg_catalog.jsonb_object_keys(mp.properties_plan) k))))
                 AS mappings
      FROM crmsync.mappings mp GROUP BY mp.crm) m
LEFT JOIN pg_catalog.pg_replication_slots s
       ON s.slot_name = 'crmsync_' || m.crm AND s.database = pg_catalog.current_database()
LEFT JOIN crmsync.sender_state st ON st.crm = m.crm;

COMMENT ON VIEW crmsync.status IS
  'Per crm: its slot, whether a sender is attached, what the CRM has confirmed, how much WAL that holds back, what the attached sender is doing (streaming, waiting_for_quota, held), and each mapped table with its object, row filter and computed properties.';
