"""The CRM-like schema, its mappings per format, a mixed workload, and the comparison of
CRM state with database state."""
import json

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS crmsync;
CREATE TABLE companies (id bigint PRIMARY KEY, domain text NOT NULL, name text, employees int, founded date);
CREATE TABLE contacts (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, first_name text, last_name text,
                       score numeric(12,2), active boolean, updated_at timestamptz, tags text[], notes text,
                       company_id bigint);
-- Keyed by email, which is not the primary key: deletes carry it through this identity.
ALTER TABLE contacts REPLICA IDENTITY USING INDEX contacts_email_key;
-- Out of line and uncompressed, so updates that leave notes alone carry an unchanged TOAST pointer.
ALTER TABLE contacts ALTER COLUMN notes SET STORAGE EXTERNAL;
CREATE TABLE deals (id bigint PRIMARY KEY, name text, amount numeric(14,2), stage text, close_date date,
                    contact_id bigint, attrs jsonb);
"""

OBJECTS = {
    "webhook": {"companies": "companies", "contacts": "contacts", "deals": "deals"},
    "hubspot": {"companies": "companies", "contacts": "contacts", "deals": "deals"},
    "salesforce": {"companies": "Account", "contacts": "Contact", "deals": "Deal__c"},
}


def map_tables(cluster, crm, fmt):
    objects = OBJECTS[fmt]
    cluster.query("""
        SELECT crmsync.map(%(crm)s, 'companies', %(companies)s, 'id',
            properties => '{"domain":"domain","name":"name","employees":"numberofemployees","founded":"founded"}');
        SELECT crmsync.map(%(crm)s, 'contacts', %(contacts)s, 'email',
            properties => '{"email":"email","first_name":"firstname","last_name":"lastname","score":"score",
                            "active":"active","updated_at":"lastmodified","tags":"tags","notes":"notes"}');
        SELECT crmsync.map(%(crm)s, 'deals', %(deals)s, 'id', id_property => 'deal_ext_id',
            properties => '{"id":"deal_ext_id","name":"dealname","amount":"amount","stage":"dealstage",
                            "close_date":"closedate","attrs":"attrs"}');
    """, dict(crm=crm, **objects))


def insert_statements(contacts, companies, deals, base=0, chunk=500):
    out = []
    for start in range(0, companies, chunk):
        lo, hi = base + start + 1, base + min(start + chunk, companies)
        out.append(f"""INSERT INTO companies SELECT g, 'c' || g || '.example', 'Company ' || g, g % 5000,
                       date '1990-01-01' + (g % 9000) FROM generate_series({lo}, {hi}) g""")
    for start in range(0, contacts, chunk):
        lo, hi = base + start + 1, base + min(start + chunk, contacts)
        out.append(f"""INSERT INTO contacts SELECT g, 'user' || g || '@example.com', 'First ' || g,
                       E'Last \\"' || g || E'\\" \\u00e9\\u00df', (g % 10000) / 7.0, g % 2 = 0,
                       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second',
                       ARRAY['t' || (g % 5), 'all'],
                       CASE WHEN g % 10 = 0 THEN repeat(md5(g::text), 100) ELSE 'short ' || g END,
                       g % 1000 + 1 FROM generate_series({lo}, {hi}) g""")
    for start in range(0, deals, chunk):
        lo, hi = base + start + 1, base + min(start + chunk, deals)
        out.append(f"""INSERT INTO deals SELECT g, 'Deal ' || g, g * 10.5, 'appointmentscheduled',
                       date '2026-12-31', g % 20000 + 1, jsonb_build_object('seats', g % 50, 'plan', 'pro')
                       FROM generate_series({lo}, {hi}) g""")
    return out


def change_statements(contacts, deals, base=0, chunk=1000):
    """Updates (most leave the TOASTed notes alone), notes rewrites, key changes, deletes."""
    out = []
    for start in range(0, contacts, chunk):
        lo, hi = base + start + 1, base + min(start + chunk, contacts)
        out.append(f"""UPDATE contacts SET score = score + 1, updated_at = updated_at + interval '1 day',
                       active = NOT active WHERE id BETWEEN {lo} AND {hi} AND id % 2 = 0""")
        out.append(f"UPDATE contacts SET notes = repeat(md5('n' || id), 90) WHERE id BETWEEN {lo} AND {hi} AND id % 20 = 1")
        out.append(f"""UPDATE contacts SET email = 'moved' || id || '@example.com'
                       WHERE id BETWEEN {lo} AND {hi} AND id % 40 = 3""")
    for start in range(0, deals, chunk):
        lo, hi = base + start + 1, base + min(start + chunk, deals)
        out.append(f"UPDATE deals SET stage = 'closedwon', amount = amount * 2 WHERE id BETWEEN {lo} AND {hi}")
    out.append(f"DELETE FROM contacts WHERE id BETWEEN {base + 1} AND {base + contacts} AND id % 7 = 0")
    out.append(f"DELETE FROM deals WHERE id BETWEEN {base + 1} AND {base + deals} AND id % 5 = 0")
    out.append(f"DELETE FROM companies WHERE id BETWEEN {base + 1} AND {base + contacts} AND id % 10 = 0")
    return out


def mixed_workload(contacts=20000, companies=5000, deals=5000):
    """About 51k row changes in ~110 transactions."""
    return insert_statements(contacts, companies, deals) + change_statements(contacts, deals)


def count_changes(cluster, statements):
    total = 0
    conn = cluster.connect()
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
                total += max(cur.rowcount, 0)
    finally:
        conn.close()
    return total


def expected_state(cluster, crm, fmt, exclude_keys=()):
    """What the CRM must hold: every row rendered by the plugin's own code."""
    state = {}
    for table in ("companies", "contacts", "deals"):
        rows = cluster.query(f"SELECT crmsync.render(%s, %s, t, %s)::text FROM {table} t", (crm, table, fmt))
        for (text,) in rows:
            message = json.loads(text)
            key, record = message["key"], message["record"]
            if key in exclude_keys:
                continue
            if fmt == "salesforce":
                props = {k: v for k, v in record.items() if k != "attributes"}
            else:
                props = record["properties"]
            state.setdefault(message["object"], {})[key] = props
    return state


def compare_states(expected, actual, fmt):
    """Returns a list of differences (empty when the CRM equals the database)."""
    problems = []
    for obj in sorted(set(expected) | set(actual)):
        want, have = expected.get(obj, {}), actual.get(obj, {})
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        if missing:
            problems.append(f"{obj}: {len(missing)} records missing in the CRM, e.g. {missing[:3]}")
        if extra:
            problems.append(f"{obj}: {len(extra)} records in the CRM that the database does not have, e.g. {extra[:3]}")
        wrong = []
        for key in set(want) & set(have):
            w, h = want[key], have[key]
            if fmt == "hubspot":
                # HubSpot also stores the idProperty of a record it created.
                differs = any(h.get(k) != v for k, v in w.items())
            else:
                differs = w != h
            if differs:
                wrong.append(key)
        if wrong:
            key = sorted(wrong)[0]
            problems.append(f"{obj}: {len(wrong)} records differ, e.g. {key}: db={want[key]} crm={have[key]}")
    return problems
