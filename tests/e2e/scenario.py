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


# What each CRM calls the columns. The webhook takes any names; HubSpot and Salesforce only
# those their schema has: default ones (firstname, dealname, Name, Email ...) and the custom ones
# CRM_SCHEMA declares, as a user sets them up before syncing. HubSpot matches on a property
# with unique values (hasUniqueValue) and Salesforce on an External ID field (or an idLookup
# field such as Contact.Email), so companies get one of their own.
_HUBSPOT_CONTACTS = dict(id_property=None, properties={
    "email": "email", "first_name": "firstname", "last_name": "lastname", "score": "score",
    "active": "active", "updated_at": "lastmodified", "tags": "tags", "notes": "notes"})
_HUBSPOT_DEALS = dict(id_property="deal_ext_id", properties={
    "id": "deal_ext_id", "name": "dealname", "amount": "amount", "stage": "dealstage",
    "close_date": "closedate", "attrs": "attrs"})
MAPPINGS = {
    # The webhook keeps HubSpot's names; its companies need no id property of their own.
    "webhook": {
        "companies": dict(id_property=None, properties={
            "domain": "domain", "name": "name", "employees": "numberofemployees", "founded": "founded"}),
        "contacts": _HUBSPOT_CONTACTS,
        "deals": _HUBSPOT_DEALS,
    },
    "hubspot": {
        "companies": dict(id_property="company_ext_id", properties={
            "id": "company_ext_id", "domain": "domain", "name": "name", "employees": "numberofemployees",
            "founded": "founded"}),
        "contacts": _HUBSPOT_CONTACTS,
        "deals": _HUBSPOT_DEALS,
    },
    "salesforce": {
        "companies": dict(id_property="External_Id__c", properties={
            "id": "External_Id__c", "domain": "Website", "name": "Name", "employees": "NumberOfEmployees",
            "founded": "Founded__c"}),
        "contacts": dict(id_property=None, properties={
            "email": "Email", "first_name": "FirstName", "last_name": "LastName", "score": "Score__c",
            "active": "Active__c", "updated_at": "Last_Modified__c", "tags": "Tags__c", "notes": "Notes__c"}),
        "deals": dict(id_property="External_Id__c", properties={
            "id": "External_Id__c", "name": "Name", "amount": "Amount__c", "stage": "Stage__c",
            "close_date": "Close_Date__c", "attrs": "Attrs__c"}),
    },
}

# The custom schema the mappings need, with types that fit what the plugin sends (each value's
# Postgres text form, JSON numbers for numerics, JSON booleans for bool): timestamptz as
# datetime/dateTime, date as date, text[] and jsonb as text.
CRM_SCHEMA = {
    "hubspot": {
        "companies": [
            {"name": "company_ext_id", "label": "Company id", "type": "string", "fieldType": "text",
             "hasUniqueValue": True},
            {"name": "founded", "label": "Founded", "type": "date", "fieldType": "date"},
        ],
        "contacts": [
            {"name": "score", "label": "Score", "type": "number", "fieldType": "number"},
            {"name": "active", "label": "Active", "type": "bool", "fieldType": "booleancheckbox",
             "options": [{"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}]},
            {"name": "lastmodified", "label": "Last modified", "type": "datetime", "fieldType": "date"},
            {"name": "tags", "label": "Tags", "type": "string", "fieldType": "text"},
            {"name": "notes", "label": "Notes", "type": "string", "fieldType": "textarea"},
        ],
        "deals": [
            {"name": "deal_ext_id", "label": "Deal id", "type": "string", "fieldType": "text",
             "hasUniqueValue": True},
            {"name": "attrs", "label": "Attributes", "type": "string", "fieldType": "textarea"},
        ],
    },
    # Salesforce custom fields and objects are made in Setup, not through the data API: the
    # mock's /_mock/salesforce/fields stands in for that.
    "salesforce": {
        "Account": [
            {"name": "External_Id__c", "type": "string", "externalId": True, "unique": True},
            {"name": "Founded__c", "type": "date"},
        ],
        "Contact": [
            {"name": "Score__c", "type": "double"},
            {"name": "Active__c", "type": "boolean"},
            {"name": "Last_Modified__c", "type": "datetime"},
            {"name": "Tags__c", "type": "string"},
            {"name": "Notes__c", "type": "textarea"},
        ],
        "Deal__c": [
            {"name": "External_Id__c", "type": "string", "externalId": True, "unique": True},
            {"name": "Amount__c", "type": "currency"},
            {"name": "Stage__c", "type": "string"},
            {"name": "Close_Date__c", "type": "date"},
            {"name": "Attrs__c", "type": "textarea"},
        ],
    },
}


def declare_crm_schema(mock):
    """Creates the custom properties and fields CRM_SCHEMA lists in a (fresh or restarted) mock."""
    group = {"companies": "companyinformation", "contacts": "contactinformation", "deals": "dealinformation"}
    for obj, props in CRM_SCHEMA["hubspot"].items():
        for p in props:
            mock.create_hubspot_property(obj, dict(p, groupName=group[obj]))
    for sobject, fields in CRM_SCHEMA["salesforce"].items():
        mock.declare_salesforce_fields(sobject, fields)


def map_tables(cluster, crm, fmt):
    objects = OBJECTS[fmt]
    for table in ("companies", "contacts", "deals"):
        key = "email" if table == "contacts" else "id"
        m = MAPPINGS[fmt][table]
        cluster.query("SELECT crmsync.map(%s, %s, %s, %s, id_property => %s, properties => %s::jsonb)",
                      (crm, table, objects[table], key, m["id_property"], json.dumps(m["properties"])))


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


# Where the sender converts the plugin's rendering to the property's type (docs/mapping.md,
# "Property types"): HubSpot's own deals.closedate is a datetime, fed by a date column, so it
# receives that day's midnight in target.time_zone (UTC here).
_DATE_INTO_DATETIME = {("hubspot", "deals", "closedate")}


def _as_sent(fmt, obj, props):
    for (f, o, prop) in _DATE_INTO_DATETIME:
        if f == fmt and o == obj and props.get(prop):
            props[prop] = props[prop] + "T00:00:00.000Z"
    return props


def expected_state(cluster, crm, fmt, exclude_keys=()):
    """What the CRM must hold: every row rendered by the plugin's own code, converted to the
    property types as the sender does."""
    state = {}
    for table in ("companies", "contacts", "deals"):
        rows = cluster.query(f"SELECT crmsync.render(%s, %s, t, %s)::text FROM {table} t", (crm, table, fmt))
        for (text,) in rows:
            if text is None:  # left out by the mapping's row filter: not in the CRM
                continue
            message = json.loads(text)
            key, record = message["key"], message["record"]
            if key in exclude_keys:
                continue
            if fmt == "salesforce":
                props = {k: v for k, v in record.items() if k != "attributes"}
            else:
                props = record["properties"]
            state.setdefault(message["object"], {})[key] = _as_sent(fmt, message["object"], props)
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
