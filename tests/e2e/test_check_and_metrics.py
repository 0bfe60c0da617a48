"""`crmsync-sender check` names every problem with what to do; /metrics and /healthz;
secrets never appear in what the sender prints."""
import os
import socket
import subprocess
import urllib.request

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
