"""The CRMs' documented answers, one test per point of docs/operations.md's delivery rules
that the mock can produce: each runs Postgres, the plugin, crmsync-sender and the mock CRM
(tests/mock_crm, whose behaviours cite the HubSpot and Salesforce documents they follow), and
ends comparing the CRM with the database and counting dead letters."""
import os
import signal
import socket
import subprocess
import time
import urllib.request

from harness import MockCrm, wait_until
from sync_run import Run


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def contacts(cluster, lo, hi, email="'user' || g || '@example.com'"):
    cluster.query(f"""INSERT INTO contacts SELECT g, {email}, 'First ' || g, 'Last ' || g, g / 7.0, g % 2 = 0,
                      timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second', ARRAY['t'], 'n ' || g,
                      g % 10 + 1 FROM generate_series({lo}, {hi}) g""")


def dead_letters(run):
    return run.cluster.query("SELECT key, crm_error FROM crmsync.dead_letters WHERE crm = %s ORDER BY key", (run.crm,))


def confirmed(run):
    return run.cluster.query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = %s",
                             (run.slot,))[0][0]


def lsn(text):
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def by_status(mock, status):
    return mock.stats()["requests"]["by_status"].get(str(status), 0)


# Rule 3 (a record the CRM refuses is dead-lettered with the CRM's own words): Salesforce
# answers 300 when an external id value matches several records (Contact.Email is an idLookup
# field, not unique). Before, 300 was retried forever and the slot stopped.
def test_salesforce_300_for_a_duplicated_email_is_a_dead_letter_and_the_rest_goes_through(run_factory, mock_crm):
    run = run_factory("sf300", "salesforce")
    mock_crm._call("/_mock/salesforce/duplicates", {"sobject": "Contact", "value": "user5@example.com"})
    run.start_sender()
    contacts(run.cluster, 1, 40)
    run.wait_delivered()
    run.assert_in_step(poison_keys=["user5@example.com"])
    [(key, error)] = dead_letters(run)
    assert "300" in error or "DUPLICATE" in error or "more than one" in error.lower(), error


# Rule 5 (transient answers are retried, not dead-lettered): UNABLE_TO_LOCK_ROW per record.
def test_salesforce_unable_to_lock_row_is_retried_until_it_goes_through(run_factory, mock_crm):
    run = run_factory("sflock", "salesforce")
    mock_crm.faults(rate_lock_row=0.3)
    run.start_sender()
    contacts(run.cluster, 1, 500)
    run.cluster.query("UPDATE contacts SET score = score + 1 WHERE id % 3 = 0")
    run.wait_delivered()
    run.assert_in_step()
    # The records the mock refused with UNABLE_TO_LOCK_ROW, all of them delivered later.
    assert mock_crm.stats()["records"]["rejected"] > 50, mock_crm.stats()["records"]


# Rule 7 (a delete the CRM says is not there is done only when the object and field are
# right): after the CRM lost the records, deletes answer 404 and count as done once describe
# confirms the field is an External ID; with a field that is not one, deletes are held.
def test_salesforce_delete_404_is_done_only_when_describe_confirms_the_field(run_factory, mock_crm):
    run = run_factory("sfdel", "salesforce")
    run.start_sender()
    contacts(run.cluster, 1, 30)
    run.cluster.query("INSERT INTO companies SELECT g, 'c' || g || '.example', 'C' || g, 1, NULL "
                      "FROM generate_series(1, 30) g")
    run.wait_delivered()
    mock_crm.reset()  # the records are gone; the schema stays, as in a real org
    run.cluster.query("DELETE FROM companies WHERE id <= 10")
    run.wait_delivered()
    assert dead_letters(run) == []
    # The same deletes against a field that is not an External ID: held, not counted as done.
    run.cluster.query("""SELECT crmsync.map(%s, 'companies', 'Account', 'id', id_property => 'Founded__c',
                         properties => '{"id":"Founded__c","name":"Name"}'::jsonb)""", (run.crm,))
    run.cluster.query("DELETE FROM companies WHERE id BETWEEN 11 AND 15")
    after_deletes = run.cluster.query("SELECT pg_current_wal_lsn()")[0][0]
    wait_until(lambda: "held" in run.sender.log() and "Founded__c" in run.sender.log(), 60,
               lambda: f"the deletes to be held; sender log:\n{run.sender.log()[-3000:]}")
    time.sleep(2)
    assert lsn(confirmed(run)) < lsn(after_deletes)
    assert dead_letters(run) == []


# Rule 8 (a batch-wide validation error is the mapping's fault: the object is held, records
# stay in the slot): HubSpot's VALIDATION_ERROR for a property the portal does not have.
def test_hubspot_unknown_property_holds_the_object_until_the_property_exists(run_factory, mock_crm):
    run = run_factory("hsprop", "hubspot")
    run.cluster.query("""SELECT crmsync.map(%s, 'contacts', 'contacts', 'email',
                         properties => '{"email":"email","first_name":"firstname","score":"loyalty_score"}'::jsonb)""",
                      (run.crm,))
    run.start_sender()
    before = confirmed(run)
    contacts(run.cluster, 1, 50)
    wait_until(lambda: "loyalty_score" in run.sender.log(), 60,
               lambda: f"the hold to be logged; sender log:\n{run.sender.log()[-3000:]}")
    time.sleep(2)
    assert dead_letters(run) == []
    assert confirmed(run) == before
    assert "contacts" not in mock_crm.state() or not mock_crm.state()["contacts"]
    [(state, detail)] = run.cluster.query("SELECT sender_state, sender_detail FROM crmsync.status WHERE crm = %s",
                                          (run.crm,))
    assert state == "held" and "loyalty_score" in detail, (state, detail)
    mock_crm.create_hubspot_property("contacts", {"name": "loyalty_score", "label": "Loyalty", "type": "number",
                                                  "fieldType": "number", "groupName": "contactinformation"})
    run.wait_delivered(timeout=120)
    run.assert_in_step()
    wait_until(lambda: run.cluster.query("SELECT sender_state FROM crmsync.status WHERE crm = %s",
                                         (run.crm,)) == [("streaming",)], 30, "crmsync.status to say streaming again")


# Rule 7 for HubSpot (a delete reads the record's id by its idProperty the way HubSpot matches
# it): emails are case-insensitive, so a contact keyed "Mixed.Case@Example.COM" is found and
# archived.
def test_hubspot_delete_of_a_mixed_case_email_archives_the_contact(run_factory, mock_crm):
    run = run_factory("hsdel", "hubspot")
    run.start_sender()
    contacts(run.cluster, 1, 5, email="'Mixed' || g || '.Case@Example.COM'")
    contacts(run.cluster, 6, 10)
    run.wait_delivered()
    assert len(mock_crm.state().get("contacts", {})) == 10
    run.cluster.query("DELETE FROM contacts WHERE id <= 5")
    run.wait_delivered()
    run.assert_in_step()
    assert len(mock_crm.state().get("contacts", {})) == 5


# Rule 6 (pace to the CRM's budget): with HubSpot's 10-second budget in force, the sender
# learns it from X-HubSpot-RateLimit-* and stays under it instead of finding it by 429s.
def test_hubspot_ten_second_budget_is_paced_without_429s(run_factory, mock_crm):
    run = run_factory("hsquota", "hubspot", extra="batch_max_records = 10\n")
    mock_crm.faults(hubspot_per_10s=100)
    run.start_sender()
    for i in range(12):
        contacts(run.cluster, i * 200 + 1, i * 200 + 200)
        time.sleep(1)
    run.wait_delivered(timeout=240)
    run.assert_in_step()
    requests = mock_crm.stats()["requests"]["total"]
    assert requests > 150, requests  # the budget was in play
    assert by_status(mock_crm, 429) == 0, mock_crm.stats()["requests"]


# Rule 6, daily budget: when it is gone the sender says so and waits; nothing is dropped.
def test_hubspot_daily_budget_gone_pauses_with_a_clear_state(run_factory, mock_crm):
    port = free_port()
    run = run_factory("hsdaily", "hubspot", extra=f'batch_max_records = 5\n\n[metrics]\nlisten = "127.0.0.1:{port}"\n')
    mock_crm.faults(hubspot_daily=3)
    run.start_sender()
    before = confirmed(run)
    contacts(run.cluster, 1, 100)

    def health():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                return r.read().decode()
        except urllib.error.HTTPError as e:
            return e.read().decode()

    wait_until(lambda: "daily" in health(), 60, lambda: f"/healthz to name the daily budget: {health()}")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        metrics = r.read().decode()
    wait_line = [line for line in metrics.splitlines() if line.startswith("crmsync_quota_wait_until_seconds")]
    assert wait_line and float(wait_line[0].split()[-1]) > time.time(), wait_line
    assert "daily" in run.sender.log()
    assert dead_letters(run) == []
    assert confirmed(run) == before
    # crmsync.status says so too, for the DBA who looks there first.
    status = lambda: run.cluster.query("SELECT sender_state, sender_detail, sender_state_until > now() "
                                       "FROM crmsync.status WHERE crm = %s", (run.crm,))
    wait_until(lambda: status()[0][0] == "waiting_for_quota", 30, lambda: f"crmsync.status: {status()}")
    [(state, detail, until_ahead)] = status()
    assert "DAILY" in detail and until_ahead, status()


# Rule 11 (target.api_version): requests go to the version the operator chose.
def test_salesforce_api_version_is_the_configured_one(cluster, workdir):
    mock = MockCrm(workdir, quiet=False)
    mock.start()
    run = Run(cluster, mock, workdir, "sfver", "salesforce")
    try:
        with open(run.sender.config) as f:
            config = f.read()
        with open(run.sender.config, "w") as f:  # [target] is written by the harness
            f.write(config.replace("timeout_ms = 5000", 'timeout_ms = 5000\napi_version = "v62.0"'))
        run.start_sender()
        contacts(cluster, 1, 20)
        run.wait_delivered()
        run.assert_in_step()
        with open(mock.log_path) as f:
            log = f.read()
        assert "/services/data/v62.0/" in log, log[-2000:]
        assert "/services/data/v59.0/" not in log
    finally:
        run.close()
        mock.stop()


# Rule 2 (an expired token is renewed, not retried forever), static tokens: the admin rotates
# HubSpot's token and replaces the file; the sender's 401 makes it read the file again.
def test_hubspot_token_rotation_without_restart(cluster, workdir):
    mock = MockCrm(workdir, token="first-token")
    mock.start()
    token_file = os.path.join(workdir, "hubspot.token")
    with open(token_file, "w") as f:
        f.write("first-token\n")
    os.chmod(token_file, 0o600)
    run = Run(cluster, mock, workdir, "hsrot", "hubspot", token_file=token_file)
    try:
        run.start_sender()
        contacts(cluster, 1, 50)
        run.wait_delivered()
        mock._call("/_mock/tokens", {"tokens": ["second-token"]})
        with open(token_file, "w") as f:
            f.write("second-token\n")
        contacts(cluster, 51, 100)
        run.wait_delivered()
        # SIGHUP re-reads it too, without waiting for a refusal.
        mock._call("/_mock/tokens", {"tokens": ["third-token"]})
        with open(token_file, "w") as f:
            f.write("third-token\n")
        run.sender.kill(signal.SIGHUP)
        wait_until(lambda: "SIGHUP: token renewed" in run.sender.log(), 30, lambda: run.sender.log()[-2000:])
        contacts(cluster, 101, 150)
        run.wait_delivered()
        run.assert_in_step()
        assert "second-token" not in run.sender.log() and "third-token" not in run.sender.log()
    finally:
        run.close()
        mock.stop()


# Rule 2 with Salesforce OAuth (JWT bearer): sessions expire every 20 s here; over about 70 s
# of changes the sender logs in again each time (on INVALID_SESSION_ID) and nothing is lost.
def test_salesforce_jwt_login_across_three_session_expiries(cluster, workdir):
    key = os.path.join(workdir, "jwt.key")
    cert = os.path.join(workdir, "jwt.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=crmsync-test"], check=True, capture_output=True)
    os.chmod(key, 0o600)
    port = free_port()
    login = f"http://127.0.0.1:{port}"
    mock = MockCrm(workdir, port=port, extra_args=[
        "--token-ttl-s", "20", "--oauth-client-id", "crmsync-test-app", "--oauth-username", "sync@example.com",
        "--oauth-jwt-cert", cert, "--oauth-audience", login])
    mock.start()
    run = Run(cluster, mock, workdir, "sfjwt", "salesforce", extra=f"""
[auth]
method = "salesforce_jwt"
login_url = "{login}"
client_id = "crmsync-test-app"
username = "sync@example.com"
private_key_file = "{key}"
""")
    try:
        run.start_sender()
        started = time.monotonic()
        batch = 0
        while time.monotonic() - started < 70:
            contacts(cluster, batch * 50 + 1, batch * 50 + 50)
            cluster.query(f"UPDATE contacts SET score = score + 1 WHERE id <= {batch * 50}")
            batch += 1
            time.sleep(2)
        run.wait_delivered()
        run.assert_in_step()
        assert by_status(mock, 401) >= 3, mock.stats()["requests"]
        assert "BEGIN PRIVATE KEY" not in run.sender.log()
    finally:
        run.close()
        mock.stop()


def typed_config(run, zone):
    with open(run.sender.config) as f:
        config = f.read()
    with open(run.sender.config, "w") as f:  # [target] is written by the harness
        f.write(config.replace("timeout_ms = 5000", f'timeout_ms = 5000\ntime_zone = "{zone}"'))


TYPED_TABLE = """
DROP TABLE IF EXISTS typed;
CREATE TABLE typed (id bigint PRIMARY KEY, email text NOT NULL, seen_at timestamptz, met_at timestamp,
                    vip text, stage text);
ALTER TABLE typed REPLICA IDENTITY FULL;
"""
TYPED_ROWS = """
INSERT INTO typed VALUES
  (1, 'a@example.com', '2026-05-06 23:30:00+00', '2026-05-06 09:15:00.250', 'yes', 'lead'),
  (2, 'b@example.com', '2026-01-10 12:00:00+00', '2026-01-10 23:59:59', 'f', 'customer'),
  (3, 'c@example.com', NULL, NULL, NULL, NULL),
  (4, 'd@example.com', '2026-03-29 00:30:00+00', '2026-03-29 02:30:00', 'true', 'Lead');
"""


# Point 8 (values as the property's type takes them, docs/mapping.md "Property types"), HubSpot:
# a timestamptz into a date property goes out as its day in target.time_zone (HubSpot refuses
# any other time of day than midnight), a timestamp without zone into a datetime is read in that
# zone, "yes"/"f" into a booleancheckbox become "true"/"false", and an enumeration value that is
# not one of the options ("Lead" for "lead") is dead-lettered naming property, type, column and
# value, without a request. Without conversion the mock (HubSpot's documented validation) refuses rows 1,
# 2 and 4.
def test_hubspot_values_are_converted_to_the_property_types(run_factory, mock_crm):
    run = run_factory("hstyped", "hubspot")
    typed_config(run, "Europe/Berlin")
    for prop in ({"name": "first_seen_day", "label": "First seen", "type": "date", "fieldType": "date"},
                 {"name": "last_meeting", "label": "Last meeting", "type": "datetime", "fieldType": "date"},
                 {"name": "vip", "label": "VIP", "type": "bool", "fieldType": "booleancheckbox",
                  "options": [{"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}]}):
        mock_crm.create_hubspot_property("contacts", dict(prop, groupName="contactinformation"))
    run.cluster.query("SELECT crmsync.unmap(%s, t) FROM unnest(ARRAY['contacts', 'companies', 'deals']::regclass[]) t",
                      (run.crm,))
    run.cluster.query(TYPED_TABLE)
    run.cluster.query("""SELECT crmsync.map(%s, 'typed', 'contacts', 'email', properties => '{"email":"email",
                         "seen_at":"first_seen_day","met_at":"last_meeting","vip":"vip","stage":"lifecyclestage"}')""",
                      (run.crm,))
    run.start_sender()
    run.cluster.query(TYPED_ROWS)
    run.wait_delivered()
    held = mock_crm.state()["contacts"]
    pick = lambda key: {k: held[key].get(k) for k in ("first_seen_day", "last_meeting", "vip", "lifecyclestage")}
    # 23:30 UTC is 01:30 the next day in Berlin; 09:15 Berlin summer time is 07:15 UTC.
    assert pick("a@example.com") == {"first_seen_day": "2026-05-07", "last_meeting": "2026-05-06T07:15:00.250Z",
                                     "vip": "true", "lifecyclestage": "lead"}
    assert pick("b@example.com") == {"first_seen_day": "2026-01-10", "last_meeting": "2026-01-10T22:59:59.000Z",
                                     "vip": "false", "lifecyclestage": "customer"}
    assert pick("c@example.com") == {"first_seen_day": "", "last_meeting": "", "vip": "", "lifecyclestage": ""}
    assert "d@example.com" not in held
    [(key, error)] = dead_letters(run)
    assert key == "d@example.com"
    assert error.startswith('property "lifecyclestage" of HubSpot contacts (enumeration/radio), from column stage of '
                            'public.typed: value "Lead" is not one of the property\'s options (matched exactly, case '
                            "included)"), error
    assert '"lead"' in error, error
    assert by_status(mock_crm, 400) == 0  # nothing the CRM had to refuse


# Point 8, Salesforce: a timestamp without zone into a dateTime field must say its zone
# (Salesforce refuses one without), a timestamptz into a date field goes out as its day, "yes"
# into a checkbox becomes true.
def test_salesforce_values_are_converted_to_the_field_types(run_factory, mock_crm):
    run = run_factory("sftyped", "salesforce")
    typed_config(run, "America/New_York")
    mock_crm.declare_salesforce_fields("Contact", [{"name": "Met__c", "type": "datetime"},
                                                   {"name": "Vip__c", "type": "boolean"}])
    run.cluster.query("SELECT crmsync.unmap(%s, t) FROM unnest(ARRAY['contacts', 'companies', 'deals']::regclass[]) t",
                      (run.crm,))
    run.cluster.query(TYPED_TABLE)
    run.cluster.query("""SELECT crmsync.map(%s, 'typed', 'Contact', 'email', id_property => 'Email',
                         properties => '{"email":"Email","seen_at":"Birthdate","met_at":"Met__c","vip":"Vip__c"}')""",
                      (run.crm,))
    run.start_sender()
    run.cluster.query(TYPED_ROWS)
    run.wait_delivered()
    held = mock_crm.state()["Contact"]
    pick = lambda key: {k: held[key].get(k) for k in ("Birthdate", "Met__c", "Vip__c")}
    # New York: EDT (-4) in May, EST (-5) in January; on 2026-03-29 DST has begun (-4).
    assert pick("a@example.com") == {"Birthdate": "2026-05-06", "Met__c": "2026-05-06T13:15:00.250Z", "Vip__c": True}
    assert pick("b@example.com") == {"Birthdate": "2026-01-10", "Met__c": "2026-01-11T04:59:59.000Z", "Vip__c": False}
    assert pick("c@example.com") == {"Birthdate": None, "Met__c": None, "Vip__c": None}
    assert pick("d@example.com") == {"Birthdate": "2026-03-28", "Met__c": "2026-03-29T06:30:00.000Z", "Vip__c": True}
    assert dead_letters(run) == []


# Point 7 (a 2xx confirms only the inputs it accounts for, delivery rule 2): the mock applies
# every input but leaves some out of the 200's results (fault rate_omit_result). The sender
# sends those again instead of taking the 2xx as acceptance of all: HubSpot receives more
# upserts than there were changes, and the CRM equals the database with nothing dead-lettered.
def test_hubspot_2xx_that_leaves_inputs_out_confirms_only_those_it_names(run_factory, mock_crm):
    run = run_factory("hsomit", "hubspot")
    mock_crm.faults(rate_omit_result=0.2, seed=7)
    run.start_sender()
    contacts(run.cluster, 1, 300)
    run.wait_delivered()
    mock_crm.faults(rate_omit_result=0)
    run.assert_in_step()
    assert mock_crm.stats()["records"]["upserted"] > 300, mock_crm.stats()["records"]
    assert "accounts for" in run.sender.log(), run.sender.log()[-2000:]
