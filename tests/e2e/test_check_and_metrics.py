"""`crmsync-sender check` names every problem with what to do; /metrics and /healthz;
secrets never appear in what the sender prints."""
import os
import socket
import subprocess
import urllib.request

import json

import pytest

from harness import MockCrm, Sender, SENDER_BIN, wait_until
from scenario import map_tables

TOKEN = "pat-na1-secret-9d6e1c3a"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(config):
    return subprocess.run([SENDER_BIN, "check", "--config", config], capture_output=True, text=True, timeout=60)


@pytest.fixture
def secured_crm(workdir):
    m = MockCrm(workdir, token=TOKEN)
    m.start()
    yield m
    m.stop()


@pytest.fixture
def token_file(workdir):
    path = os.path.join(workdir, "hubspot.token")
    with open(path, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(path, 0o600)
    return path


def mapped(cluster, crm):
    cluster.query("DELETE FROM crmsync.mappings WHERE crm = %s", (crm,))
    map_tables(cluster, crm, "hubspot")


def test_check_passes_and_never_prints_the_token(cluster, secured_crm, workdir, token_file):
    mapped(cluster, "chk")
    sender = Sender(workdir, "chk", "hubspot", cluster.conninfo, secured_crm.url(), token_file=token_file)
    result = check(sender.config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stdout
    assert "CRM reachable" in result.stdout
    assert TOKEN not in result.stdout + result.stderr


def test_check_names_each_problem(cluster, secured_crm, workdir, token_file):
    mapped(cluster, "chk")
    # The CRM refuses the token.
    wrong = os.path.join(workdir, "wrong.token")
    with open(wrong, "w") as f:
        f.write("pat-wrong\n")
    sender = Sender(workdir, "chk", "hubspot", cluster.conninfo, secured_crm.url(), token_file=wrong)
    result = check(sender.config)
    assert result.returncode == 1
    assert "refused the token" in result.stdout and "token_file" in result.stdout

    # Nothing listens at the CRM's address.
    sender = Sender(workdir, "chk", "hubspot", cluster.conninfo, f"http://127.0.0.1:{free_port()}",
                    token_file=token_file)
    result = check(sender.config)
    assert result.returncode == 1 and "CRM unreachable" in result.stdout

    # No mapping for the crm.
    sender = Sender(workdir, "nomap", "hubspot", cluster.conninfo, secured_crm.url(), token_file=token_file)
    result = check(sender.config)
    assert result.returncode == 1
    assert 'no table is mapped for crm "nomap"' in result.stdout and "crmsync.map(" in result.stdout

    # Postgres unreachable.
    bad = cluster.conninfo.replace(f"port={cluster.port}", f"port={free_port()}")
    sender = Sender(workdir, "chk", "hubspot", bad, secured_crm.url(), token_file=token_file)
    result = check(sender.config)
    assert result.returncode == 1 and "Postgres is unreachable" in result.stdout

    # A role without REPLICATION.
    cluster.query("DROP ROLE IF EXISTS crmsync_norepl; CREATE ROLE crmsync_norepl LOGIN")
    sender = Sender(workdir, "chk", "hubspot", cluster.conninfo.replace("user=postgres", "user=crmsync_norepl"),
                    secured_crm.url(), token_file=token_file)
    result = check(sender.config)
    assert result.returncode == 1
    assert "lacks the REPLICATION privilege" in result.stdout and "ALTER ROLE crmsync_norepl REPLICATION" in result.stdout

    # crmsync missing from output_plugin_libraries.
    cluster.query("ALTER SYSTEM SET output_plugin_libraries = 'pgoutput'")
    cluster.query("SELECT pg_reload_conf()")
    try:
        wait_until(lambda: cluster.query("SHOW output_plugin_libraries") == [("pgoutput",)], 10, "the reload")
        sender = Sender(workdir, "chk", "hubspot", cluster.conninfo, secured_crm.url(), token_file=token_file)
        result = check(sender.config)
        assert result.returncode == 1
        assert "crmsync is not listed in output_plugin_libraries" in result.stdout
        assert "ALTER SYSTEM SET output_plugin_libraries = pgoutput, crmsync;" in result.stdout
    finally:
        cluster.query("ALTER SYSTEM RESET output_plugin_libraries")
        cluster.query("SELECT pg_reload_conf()")
        wait_until(lambda: "crmsync" in cluster.query("SHOW output_plugin_libraries")[0][0], 10, "the reset")

    for text in (result.stdout, result.stderr):
        assert TOKEN not in text


def fail_line(stdout, what, fix):
    """A FAIL line and its fix on the next line, as check prints them."""
    return f"FAIL  {what}\n      {fix}\n" in stdout


def test_check_validates_mappings_against_the_crm_schema(cluster, secured_crm, workdir, token_file):
    # The scenario's mappings fit the schema the mock was given (scenario.CRM_SCHEMA).
    mapped(cluster, "schk")
    sender = Sender(workdir, "schk", "hubspot", cluster.conninfo, secured_crm.url(), token_file=token_file)
    result = check(sender.config)
    assert result.returncode == 0, result.stdout
    for table in ("companies", "contacts", "deals"):
        assert f"ok    mapping of {table} fits the HubSpot schema of {table}" in result.stdout
    assert "note  HubSpot property deals.dealstage is an enumeration (enumeration/radio)" in result.stdout

    def remap(table, obj, key, id_property, properties):
        cluster.query("SELECT crmsync.map('schk', %s, %s, %s, id_property => %s, properties => %s::jsonb)",
                      (table, obj, key, id_property, json.dumps(properties)))

    remap("contacts", "contacts", "email", None,
          {"email": "email", "first_name": "firstnme", "notes": "score", "updated_at": "lastmodifieddate"})
    remap("deals", "deals", "id", "dealname", {"id": "dealname", "amount": "amount"})
    remap("companies", "compnies", "id", "company_ext_id", {"id": "company_ext_id"})
    result = check(sender.config)
    assert result.returncode == 1, result.stdout
    out = result.stdout
    # A property the object does not have.
    assert fail_line(out, 'HubSpot object contacts has no property "firstnme" (column first_name of contacts is mapped to it)',
                     "Create it in HubSpot (Settings > Properties) with that internal name, or map to an existing "
                     "property with crmsync.map() (close names: firstname).")
    # A column whose type the property refuses.
    assert fail_line(out, "column notes (text) of contacts does not fit HubSpot property contacts.score, a number "
                          "property (number/number)",
                     "A number property takes integer, numeric, real and double precision columns: map a column of "
                     "such a type (a view or generated column can convert it), map to a string property, or change "
                     "the property's type in HubSpot.")
    # A property only HubSpot sets.
    assert fail_line(out, "HubSpot property contacts.lastmodifieddate is read-only (calculated, or set only by HubSpot): "
                          "column updated_at of contacts is mapped to it",
                     "Remove the column from the mapping's properties with crmsync.map(), or map it to a writable "
                     "property.")
    # An id property without unique values.
    assert fail_line(out, "HubSpot property deals.dealname (the id property of deals) does not have unique values: "
                          "HubSpot cannot upsert by it",
                     "HubSpot upserts only by a property with hasUniqueValue true, which is set when the property is "
                     "created: create one and name it as id_property with crmsync.map().")
    # An object the token cannot write because HubSpot has no such object. (A token lacking the
    # object's scope answers 403, named as crm.objects.<object>.write: the mock has no per-scope
    # tokens, so only the unit tests cover that line.)
    assert fail_line(out, 'HubSpot has no object type "compnies" (companies is mapped to it; HTTP 400: Unable to infer '
                          'object type from: compnies)',
                     "Fix the object with crmsync.map(): contacts, companies, deals, tickets, ..., or a custom "
                     "object's p_<name> or objectTypeId 2-<id>.")
    assert TOKEN not in result.stdout + result.stderr
    cluster.query("DELETE FROM crmsync.mappings WHERE crm = 'schk'")


# A private app token whose app was not given the deals scopes ("Scopes"; the mock's
# /_mock/tokens grants them per token, and answers the token info endpoint of "Private apps"):
# check names the object the token cannot write and the scope to add, before anything is sent.
def test_check_names_the_scope_a_token_lacks(cluster, secured_crm, workdir, token_file):
    mapped(cluster, "schkscope")
    granted = [f"crm.{kind}.{obj}.{access}" for obj in ("contacts", "companies")
               for kind in ("objects", "schemas") for access in ("read", "write")]
    secured_crm._call("/_mock/tokens", {"tokens": [TOKEN], "scopes": {TOKEN: granted + ["crm.objects.deals.read"]}})
    try:
        sender = Sender(workdir, "schkscope", "hubspot", cluster.conninfo, secured_crm.url(), token_file=token_file)
        result = check(sender.config)
        assert result.returncode == 1, result.stdout
        out = result.stdout
        assert "ok    CRM reachable at " in out and "token valid (a private app token with 9 scopes)" in out, out
        assert fail_line(out, "the token cannot write HubSpot deals records (deals is mapped to it): it lacks the "
                              "scope crm.objects.deals.write",
                         "Add crm.objects.deals.write to the private app (Settings > Integrations > Private apps > "
                         "Scopes), then put its new token in target.token_file (the sender re-reads it on SIGHUP)."), out
        assert "note  the token cannot read the properties of HubSpot deals (scope crm.schemas.deals.read)" in out
        for table in ("companies", "contacts"):
            assert f"ok    mapping of {table} fits the HubSpot schema of {table}" in out
        assert TOKEN not in out + result.stderr
    finally:
        secured_crm._call("/_mock/tokens", {"tokens": [TOKEN]})
        cluster.query("DELETE FROM crmsync.mappings WHERE crm = 'schkscope'")


def test_check_validates_salesforce_mappings(cluster, secured_crm, workdir, token_file):
    cluster.query("DELETE FROM crmsync.mappings WHERE crm = 'schksf'")
    map_tables(cluster, "schksf", "salesforce")
    sender = Sender(workdir, "schksf", "salesforce", cluster.conninfo, secured_crm.url(), token_file=token_file)
    result = check(sender.config)
    assert result.returncode == 0, result.stdout
    for table, obj in (("companies", "Account"), ("contacts", "Contact"), ("deals", "Deal__c")):
        assert f"ok    mapping of {table} fits the Salesforce schema of {obj}" in result.stdout
    assert "note  Salesforce field Contact.Email (the id property of contacts) is idLookup but not unique" in result.stdout

    cluster.query("SELECT crmsync.map('schksf', 'deals', 'Deal__c', 'id', id_property => 'Stage__c', "
                  "properties => '{\"id\": \"Stage__c\", \"close_date\": \"Amount__c\"}')")
    cluster.query("SELECT crmsync.map('schksf', 'companies', 'Acount', 'id', id_property => 'External_Id__c')")
    result = check(sender.config)
    assert result.returncode == 1, result.stdout
    out = result.stdout
    assert fail_line(out, "Salesforce field Deal__c.Stage__c (the id property of deals) is not an External ID field: "
                          "Salesforce cannot upsert by it",
                     "Mark it External ID (and Unique) in Setup, or name an External ID field as id_property with "
                     "crmsync.map().")
    assert "FAIL  column close_date (date) of deals does not fit Salesforce field Deal__c.Amount__c, a number " \
           "property (currency)" in out
    assert 'FAIL  Salesforce has no sObject "Acount" the integration user can see (companies is mapped to it; ' \
           "HTTP 404: NOT_FOUND: The requested resource does not exist)" in out
    cluster.query("DELETE FROM crmsync.mappings WHERE crm = 'schksf'")


def test_check_reports_backfill_grants_and_progress(cluster, secured_crm, workdir, token_file):
    mapped(cluster, "chkbf")
    cluster.query("""
        DO $$BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'chkbf_sender') THEN
                DROP OWNED BY chkbf_sender; DROP ROLE chkbf_sender;
            END IF;
        END$$;
        CREATE ROLE chkbf_sender LOGIN REPLICATION;
        GRANT USAGE ON SCHEMA crmsync TO chkbf_sender;
        GRANT SELECT ON crmsync.mappings TO chkbf_sender;
        GRANT SELECT ON companies, deals TO chkbf_sender;
    """)
    cluster.query("DELETE FROM crmsync.backfills WHERE crm = 'chkbf'")
    sender = Sender(workdir, "chkbf", "hubspot", cluster.conninfo.replace("user=postgres", "user=chkbf_sender"),
                    secured_crm.url(), token_file=token_file)

    # No grants on crmsync.backfills: named, with the GRANT that fixes it.
    result = check(sender.config)
    assert result.returncode == 1, result.stdout
    assert "role chkbf_sender cannot read and write crmsync.backfills" in result.stdout
    assert "GRANT SELECT, INSERT, UPDATE ON crmsync.backfills TO chkbf_sender;" in result.stdout

    # No SELECT on contacts, and no slot yet: the initial sync would pause on it.
    cluster.query("GRANT SELECT, INSERT, UPDATE ON crmsync.backfills TO chkbf_sender")
    result = check(sender.config)
    assert result.returncode == 1, result.stdout
    assert "role chkbf_sender cannot read contacts: the initial sync that run starts with would pause" \
        in result.stdout
    assert "GRANT SELECT ON contacts TO chkbf_sender;" in result.stdout
    assert "cannot read companies" not in result.stdout and "cannot read deals" not in result.stdout

    # With the initial sync turned off it is only a note: nothing fails today.
    env = dict(os.environ, CRMSYNC_BACKFILL_INITIAL_SYNC="false")
    result = subprocess.run([SENDER_BIN, "check", "--config", sender.config], capture_output=True, text=True,
                            timeout=60, env=env)
    assert result.returncode == 0, result.stdout
    assert "note  role chkbf_sender cannot read contacts: a re-sync of it would pause" in result.stdout

    # Progress as crmsync.backfills records it.
    cluster.query("GRANT SELECT ON contacts TO chkbf_sender")
    cluster.query("""
        INSERT INTO crmsync.backfills (crm, source, state, rows_sent, rows_estimate, finished_at)
        VALUES ('chkbf', 'companies', 'done', 5000, 5000, '2026-11-26 10:00:00+00'),
               ('chkbf', 'contacts', 'running', 40000, 200000, NULL),
               ('chkbf', 'deals', 'pending', 0, NULL, NULL)""")
    result = check(sender.config)
    assert result.returncode == 0, result.stdout
    assert "ok    backfill of companies: done, 5000 rows sent, finished 2026-11-26 10:00:00 UTC" in result.stdout
    assert "ok    backfill of contacts: running, 40000 of ~200000 rows sent" in result.stdout
    assert "ok    backfill of deals: requested, waiting for the sender to start it" in result.stdout
    cluster.query("DELETE FROM crmsync.backfills WHERE crm = 'chkbf'")


def test_check_rejects_a_bad_config_with_every_problem(workdir):
    config = os.path.join(workdir, "bad.toml")
    with open(config, "w") as f:
        f.write('[source]\ncrm = "Bad Name"\nconinfo = "x"\n[target]\nformat = "zoho"\nurl = "http://x"\n')
    result = check(config)
    assert result.returncode == 2
    assert "coninfo" in result.stderr and "conninfo" in result.stderr  # unknown key, with a suggestion
    assert "zoho" in result.stderr and "webhook" in result.stderr      # bad enum lists what is accepted
    assert "Bad Name" in result.stderr


def test_slot_in_use_is_reported(cluster, secured_crm, workdir, token_file):
    mapped(cluster, "busy")
    sender = Sender(workdir, "busy", "hubspot", cluster.conninfo, secured_crm.url(), token_file=token_file)
    sender.start()
    try:
        wait_until(lambda: cluster.query("SELECT active FROM pg_replication_slots WHERE slot_name = 'crmsync_busy'")
                   == [(True,)], 30, "the sender to stream")
        result = check(sender.config)
        assert result.returncode == 1
        assert "slot crmsync_busy is in use by process" in result.stdout
    finally:
        sender.stop()
        cluster.drop_slot("crmsync_busy")


def test_metrics_healthz_and_no_secret_in_logs(cluster, secured_crm, workdir, token_file):
    mapped(cluster, "metrics")
    # Empty before the sender creates its slot: its initial sync then copies nothing, and
    # the counts below are the 300 streamed inserts alone.
    cluster.query("TRUNCATE companies, contacts, deals")
    port = free_port()
    sender = Sender(workdir, "metrics", "hubspot", cluster.conninfo, secured_crm.url(), token_file=token_file,
                    extra=f'[metrics]\nlisten = "127.0.0.1:{port}"\n')
    sender.start()
    try:
        wait_until(lambda: cluster.query("SELECT active FROM pg_replication_slots WHERE slot_name = 'crmsync_metrics'")
                   == [(True,)], 30, "the sender to stream")
        cluster.query("INSERT INTO companies SELECT g, 'm' || g || '.example', 'M', 1, NULL FROM generate_series(1, 300) g")

        def metrics():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return r.read().decode()

        text = wait_until(lambda: (m := metrics()) and 'crmsync_records_total{outcome="accepted"} 300' in m and m,
                          60, "300 accepted records in /metrics")
        assert "crmsync_commit_to_accepted_seconds_count 300" in text
        assert 'crmsync_http_responses_total{status="2xx"}' in text
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200
    finally:
        sender.stop()
        cluster.drop_slot("crmsync_metrics")
    assert TOKEN not in sender.log()
