"""End to end: real Postgres + crmsync plugin + crmsync-sender + mock CRM.

Every test ends by asserting the same things: nothing lost (the CRM holds every row the
database holds, with the same values), nothing extra, no per-key order violation, and dead
letters exactly the poison records.
"""
import json
import os
import signal
import threading
import time

import pytest

from sync_run import Run
from scenario import MAPPINGS, OBJECTS, change_statements, count_changes, insert_statements, mixed_workload

FORMATS = ["webhook", "hubspot", "salesforce"]


def run_in_background(cluster, statements):
    result = {}

    def work():
        try:
            result["changes"] = count_changes(cluster, statements)
        except Exception as e:  # reported by the test
            result["error"] = e

    t = threading.Thread(target=work)
    t.start()
    return t, result


def small_workload():
    """About 15k changes: enough to be mid-stream when a fault hits."""
    return insert_statements(6000, 1000, 1500, chunk=250) + change_statements(6000, 1500, chunk=500)


@pytest.mark.parametrize("fmt", FORMATS)
def test_mixed_workload_reaches_the_crm_exactly(run_factory, fmt):
    run = run_factory(f"mixed_{fmt}", fmt)
    run.start_sender()
    statements = mixed_workload()
    if fmt == "webhook":
        # Logical messages pass through to a webhook: one in a transaction, and one emitted
        # right before a commit (its event id must not collide with the transaction's).
        statements.insert(5, "SELECT pg_logical_emit_message(true, 'crmsync', '{\"note\":1}')")
        statements.insert(9, "BEGIN; INSERT INTO companies VALUES (999999, 'm.example', 'M', 1, NULL); "
                             "SELECT pg_logical_emit_message(false, 'crmsync', 'last'); COMMIT")
    changes = count_changes(run.cluster, statements)
    assert changes >= 50000
    run.wait_delivered()
    expected, stats = run.assert_in_step()
    assert sum(len(v) for v in expected.values()) > 20000
    if fmt == "webhook":
        assert stats["records"]["duplicates"] == 0
        assert stats["records"]["messages"] == 2


@pytest.mark.parametrize("fmt", ["hubspot", "salesforce"])
def test_row_filter_and_computed_properties_reach_the_crm(run_factory, fmt):
    """contacts mapped with a row filter on its key and a computed property: the CRM holds
    exactly the rows the filter passes, each with the computed value as crmsync.render()
    gives it (expected_state reads through it), converted to the property's type."""
    run = run_factory(f"expr_{fmt}", fmt)
    properties = dict(MAPPINGS[fmt]["contacts"]["properties"])
    computed = {"hubspot": "jobtitle", "salesforce": "Title"}[fmt]  # a string property of each CRM
    properties[computed] = {"expr": "upper(last_name) || ' #' || (id % 7)::text"}
    run.cluster.query("SELECT crmsync.map(%s, 'contacts', %s, 'email', properties => %s::jsonb, row_filter => %s)",
                      (run.crm, OBJECTS[fmt]["contacts"], json.dumps(properties), "email NOT LIKE 'user3%'"))
    run.start_sender()
    count_changes(run.cluster, small_workload())
    run.wait_delivered()
    expected, _ = run.assert_in_step()
    contacts = expected[OBJECTS[fmt]["contacts"]]
    assert contacts and not any(key.startswith("user3") for key in contacts)
    assert all(" #" in (record.get(computed) or "") for record in contacts.values()), list(contacts.items())[:2]


@pytest.mark.parametrize("fmt", ["webhook", "hubspot"])
def test_sender_killed_mid_stream_loses_nothing(run_factory, fmt):
    run = run_factory(f"kill_{fmt}", fmt)
    run.start_sender()
    worker, result = run_in_background(run.cluster, small_workload())
    for pause in (0.5, 1.0, 1.5):
        time.sleep(pause)
        run.sender.kill(signal.SIGKILL)
        run.sender.wait(10)
        run.sender.start()
    worker.join()
    assert "error" not in result, result
    run.wait_delivered()
    run.assert_in_step()


@pytest.mark.parametrize("fmt", ["webhook", "salesforce"])
def test_crm_errors_slowness_and_dropped_connections(run_factory, mock_crm, fmt):
    run = run_factory(f"faults_{fmt}", fmt)
    mock_crm.faults(rate_429=0.05, retry_after_s=1, rate_500=0.05, rate_slow=0.03, slow_ms=400, rate_drop=0.03,
                    drop_after_apply=True)
    run.start_sender()
    count_changes(run.cluster, small_workload())
    run.wait_delivered()
    mock_crm.faults(rate_429=0, rate_500=0, rate_slow=0, rate_drop=0)
    _, stats = run.assert_in_step()
    injected = stats["faults"]
    assert sum(injected.values()) > 0, f"no fault was injected: {stats}"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_crm_outage_of_tens_of_seconds(run_factory, mock_crm):
    run = run_factory("outage", "hubspot")
    run.start_sender()
    statements = small_workload()
    count_changes(run.cluster, statements[:len(statements) // 3])
    mock_crm.faults(down=True)
    count_changes(run.cluster, statements[len(statements) // 3:])
    rss_during = []
    for _ in range(20):
        time.sleep(1)
        rss_during.append(rss_kb(run.sender.proc.pid))
    assert run.sender.proc.poll() is None, "the sender died during the outage:\n" + run.sender.log()[-2000:]
    lag = run.cluster.query("SELECT lag_bytes FROM crmsync.status WHERE crm = 'outage'")[0][0]
    assert lag > 0, "nothing was held back during the outage"
    mock_crm.faults(down=False)
    run.wait_delivered()
    run.assert_in_step()
    # Backpressure: memory stays bounded while the CRM is down.
    assert max(rss_during) < 200 * 1024, rss_during


@pytest.mark.parametrize("fmt", FORMATS)
def test_poison_records_are_dead_lettered_and_the_rest_delivered(run_factory, mock_crm, fmt):
    run = run_factory(f"poison_{fmt}", fmt)
    mock_crm.faults(reject_value="POISON")
    run.start_sender()
    statements = insert_statements(3000, 500, 500, chunk=250)
    # Ten poison contacts among the others, never touched again.
    statements.insert(3, """INSERT INTO contacts (id, email, first_name, last_name)
                            SELECT g, 'poison' || g || '@example.com', 'POISON ' || g, 'x'
                            FROM generate_series(900001, 900010) g""")
    statements += change_statements(3000, 500, chunk=500)
    count_changes(run.cluster, statements)
    run.wait_delivered()
    poison = [f"poison{g}@example.com" for g in range(900001, 900011)]
    run.assert_in_step(poison_keys=poison)
    rows = run.cluster.query("SELECT count(*), count(DISTINCT event_id), min(object) FROM crmsync.dead_letters "
                             "WHERE crm = %s", (run.crm,))
    assert rows[0][0] == 10 and rows[0][1] == 10, rows


def test_postgres_restart_mid_stream(run_factory):
    run = run_factory("pgrestart", "webhook")
    run.start_sender()
    statements = small_workload()
    count_changes(run.cluster, statements[:len(statements) // 2])
    run.cluster.restart()
    count_changes(run.cluster, statements[len(statements) // 2:])
    run.wait_delivered()
    run.assert_in_step()
    assert run.sender.proc.poll() is None
    assert "reconnecting" in run.sender.log()


def test_sigterm_drains_and_exits_zero(run_factory):
    run = run_factory("drain", "webhook")
    run.start_sender()
    worker, result = run_in_background(run.cluster, small_workload())
    time.sleep(1.0)
    started = time.monotonic()
    run.sender.kill(signal.SIGTERM)
    assert run.sender.wait(30) == 0
    assert time.monotonic() - started < 15
    assert "stopped; confirmed up to" in run.sender.log()
    worker.join()
    run.sender.start()
    run.wait_delivered()
    run.assert_in_step()


def test_on_reject_stop_halts_before_the_poison_record(run_factory, mock_crm):
    run = run_factory("stop", "webhook", extra='on_reject = "stop"')
    mock_crm.faults(reject_value="POISON")
    run.start_sender()
    count_changes(run.cluster, insert_statements(500, 0, 0, chunk=250))
    before = run.cluster.query("SELECT pg_current_wal_lsn()")[0][0]
    run.cluster.query("INSERT INTO contacts (id, email, first_name) VALUES (900001, 'p@example.com', 'POISON')")
    count_changes(run.cluster, insert_statements(0, 300, 0))
    assert run.sender.wait(60) == 3
    log = run.sender.log()
    assert "rejected" in log and 'on_reject = "stop"' in log and "p@example.com" in log
    # Nothing at or after the poison record is confirmed, and nothing was dead-lettered.
    confirmed = run.cluster.query("SELECT confirmed_flush_lsn <= %s::pg_lsn FROM pg_replication_slots "
                                  "WHERE slot_name = 'crmsync_stop'", (before,))
    assert confirmed == [(True,)]
    assert run.cluster.query("SELECT count(*) FROM crmsync.dead_letters WHERE crm = 'stop'") == [(0,)]
    assert "p@example.com" not in mock_crm.state().get("contacts", {})
    # Once the CRM takes the record (the operator fixed it), a restart delivers everything:
    # what was not confirmed is sent again, nothing is lost.
    mock_crm.faults(reject_value="")
    run.start_sender()
    run.wait_delivered()
    run.assert_in_step()


def test_crm_restart_mid_stream(cluster, workdir):
    from harness import MockCrm
    mock = MockCrm(workdir, state_file=os.path.join(workdir, "crm-state.json"))
    mock.start()
    try:
        run = Run(cluster, mock, workdir, "crmrestart", "hubspot")
        run.start_sender()
        statements = small_workload()
        count_changes(cluster, statements[:len(statements) // 2])
        mock.restart(down_seconds=3)
        count_changes(cluster, statements[len(statements) // 2:])
        run.wait_delivered()
        run.assert_in_step()
        run.close()
    finally:
        mock.stop()
