"""Backfill end to end: the rows that exist before a CRM is connected (initial sync) or
again after it lost them (re-sync), delivered with a consistent hand-off to streaming while
a workload keeps updating, deleting, re-keying and inserting rows.

Each test ends as every end-to-end test does: the CRM equals the database (so no key's
final state is older than the database's), no per-key order violation, no dead letters.
"""
import json
import random
import threading
import time

import pytest

from harness import wait_until
from scenario import MAPPINGS, compare_states, count_changes, expected_state, insert_statements

EXISTING_CONTACTS = 200_000


def seed(cluster, contacts=EXISTING_CONTACTS, companies=5000, deals=5000):
    count_changes(cluster, insert_statements(contacts, companies, deals, chunk=10_000))
    cluster.query("ANALYZE companies, contacts, deals")


class Workload:
    """Small transactions against the existing rows until stopped: updates (some rewrite the
    TOASTed notes), deletes, key changes and inserts of new rows. Paced to a fixed number of
    transactions a second (about 26 rows each), so the load is the same on a fast machine as
    on a slow one: unpaced, a fast machine's stream alone fills a rate-limited sender."""

    def __init__(self, cluster, max_id=EXISTING_CONTACTS, seed_value=11, per_second=100):
        self.cluster, self.max_id = cluster, max_id
        self.interval = 1.0 / per_second
        self.random = random.Random(seed_value)
        self.stop_event = threading.Event()
        self.transactions = 0
        self.error = None
        self.next_new_id = 10_000_000
        self.thread = threading.Thread(target=self._work)

    def _statement(self):
        r, lo = self.random.random(), self.random.randint(1, self.max_id - 200)
        if r < 0.55:
            return (f"UPDATE contacts SET score = score + 1, updated_at = now(), first_name = 'W' || id "
                    f"WHERE id BETWEEN {lo} AND {lo + 40}")
        if r < 0.65:
            return f"UPDATE contacts SET notes = repeat(md5('w' || id), 90) WHERE id BETWEEN {lo} AND {lo + 5}"
        if r < 0.75:
            return f"DELETE FROM contacts WHERE id BETWEEN {lo} AND {lo + 3}"
        if r < 0.82:
            # Not rows with TOASTed notes: a key change cannot carry an unchanged TOASTed
            # value under this replica identity (sql/toast.sql), streamed or backfilled.
            return (f"UPDATE contacts SET email = 'rekeyed' || id || '.' || {self.transactions} || '@example.com' "
                    f"WHERE id BETWEEN {lo} AND {lo + 2} AND length(notes) < 100")
        if r < 0.92:
            new = self.next_new_id
            self.next_new_id += 10
            return (f"INSERT INTO contacts SELECT g, 'new' || g || '@example.com', 'New', 'Row', 1, true, now(), "
                    f"'{{x}}', 'n', 1 FROM generate_series({new}, {new + 9}) g")
        # Stages a CRM accepts: HubSpot's dealstage takes only its pipeline's stage ids.
        return (f"UPDATE deals SET stage = (ARRAY['qualifiedtobuy', 'contractsent', 'closedlost'])[1 + id % 3], "
                f"amount = amount + 1 WHERE id BETWEEN {lo % 4900 + 1} AND {lo % 4900 + 20}")

    def _work(self):
        try:
            conn = self.cluster.connect()
            next_at = time.monotonic()
            with conn.cursor() as cur:
                while not self.stop_event.is_set():
                    cur.execute(self._statement())
                    self.transactions += 1
                    next_at += self.interval
                    time.sleep(max(0.0, next_at - time.monotonic()))
            conn.close()
        except Exception as e:  # reported by stop()
            self.error = e

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        assert self.error is None, f"the workload failed: {self.error}"
        return self.transactions


def backfill_rows(run):
    return {source: (state, method, sent, reread) for source, state, method, sent, reread in run.cluster.query(
        "SELECT source::text, state, method, rows_sent, rows_reread FROM crmsync.backfills WHERE crm = %s",
        (run.crm,))}


def all_done(run, tables=("companies", "contacts", "deals")):
    rows = backfill_rows(run)
    return all(rows.get(t, ("missing",))[0] == "done" for t in tables)


def wait_all_done(run, timeout=240, tables=("companies", "contacts", "deals")):
    wait_until(lambda: all_done(run, tables), timeout,
               lambda: f"every backfill to finish: {backfill_rows(run)}; sender log:\n{run.sender.log()[-3000:]}")


@pytest.mark.parametrize("fmt", ["webhook", "hubspot"])
def test_initial_sync_of_existing_rows_under_a_concurrent_workload(run_factory, fmt):
    run = run_factory(f"initial_{fmt}", fmt, extra="\n[backfill]\nchunk_rows = 2000\n")
    seed(run.cluster)
    workload = Workload(run.cluster).start()
    time.sleep(0.5)
    before = workload.transactions
    run.start_sender()
    wait_all_done(run)
    during = workload.transactions - before
    workload.stop()
    run.wait_delivered()
    run.assert_in_step()
    rows = backfill_rows(run)
    assert rows["contacts"][1] == "snapshot", rows
    assert rows["contacts"][2] >= EXISTING_CONTACTS - 20_000, rows  # the workload deleted some first
    assert during > 50, f"only {during} workload transactions ran during the initial sync"
    assert "initial sync of 3 table(s)" in run.sender.log()


def test_row_filter_holds_for_the_initial_sync_and_the_stream(run_factory):
    """contacts mapped with a row filter on the key (the replica identity covers it): the
    initial sync skips the rows it leaves out, the stream sends only changes of rows in it,
    a key change out of it deletes the record and one into it sends the whole row. The CRM
    ends equal to the database's rows that pass the filter (expected_state reads them through
    crmsync.render(), which gives NULL for the others)."""
    run = run_factory("filtered", "webhook", extra="\n[backfill]\nchunk_rows = 2000\n")
    properties = json.dumps(MAPPINGS["webhook"]["contacts"]["properties"])
    run.cluster.query("SELECT crmsync.map(%s, 'contacts', 'contacts', 'email', properties => %s::jsonb, "
                      "row_filter => %s)", (run.crm, properties, "email NOT LIKE 'user1%'"))
    seed(run.cluster, contacts=50_000)
    # Key changes move rows from user1... (out) to rekeyed... (in), and from in to in.
    workload = Workload(run.cluster, max_id=50_000).start()
    run.start_sender()
    wait_all_done(run)
    workload.stop()
    count_changes(run.cluster, ["UPDATE contacts SET email = 'user1' || email WHERE id % 1000 = 7"])  # in -> out
    run.wait_delivered()
    run.assert_in_step()
    crm_contacts = run.mock.state()["contacts"]
    left_out = run.cluster.query("SELECT count(*) FROM contacts WHERE email LIKE 'user1%'")[0][0]
    assert left_out > 10_000 and not any(k.startswith("user1") for k in crm_contacts), left_out
    assert len(crm_contacts) == run.cluster.query("SELECT count(*) FROM contacts WHERE email NOT LIKE 'user1%'")[0][0]


def test_initial_sync_resumes_after_a_kill_without_resending_finished_tables(run_factory):
    # A rate limit stretches the copy (100 requests of 100 records a second) so the kill
    # lands inside the contacts table, after companies is done.
    run = run_factory("initial_kill", "webhook", extra='batch_max_records = 100\nrate_limit = "100/1s"\n\n[backfill]\nchunk_rows = 2000\n')
    seed(run.cluster)
    workload = Workload(run.cluster, seed_value=12).start()
    run.start_sender()
    wait_until(lambda: backfill_rows(run).get("contacts", ("", "", "", 0))[2] >= 40_000, 120,
               lambda: f"the contacts backfill to be under way: {backfill_rows(run)}")
    companies_done = run.cluster.query(
        "SELECT finished_at FROM crmsync.backfills WHERE crm = %s AND source = 'companies'::regclass", (run.crm,))
    run.sender.kill()
    run.sender.wait(10)
    progress = backfill_rows(run)
    assert progress["companies"][0] == "done" and progress["contacts"][0] == "running", progress
    assert progress["contacts"][2] < EXISTING_CONTACTS, progress
    log_before = len(run.sender.log())

    run.sender.start()
    wait_all_done(run)
    workload.stop()
    run.wait_delivered()
    run.assert_in_step()
    after = run.sender.log()[log_before:]
    assert "backfill of companies started" not in after, after[-2000:]
    assert f"backfill of contacts started (resuming after {progress['contacts'][2]} rows)" in after, after[-2000:]
    assert run.cluster.query("SELECT finished_at FROM crmsync.backfills WHERE crm = %s AND source = 'companies'::regclass",
                             (run.crm,)) == companies_done
    assert backfill_rows(run)["contacts"][1] == "watermark"  # the resumed part could not use the lost snapshot


@pytest.mark.parametrize("fmt", ["webhook", "salesforce"])
def test_resync_of_a_wiped_crm_while_streaming(run_factory, mock_crm, fmt):
    run = run_factory(f"resync_{fmt}", fmt, extra="\n[backfill]\ninitial_sync = false\nchunk_rows = 1000\n")
    run.start_sender()
    seed(run.cluster, contacts=60_000)
    workload = Workload(run.cluster, max_id=60_000, seed_value=13).start()
    run.wait_delivered()
    mock_crm.reset()  # the CRM lost everything; changes keep streaming
    time.sleep(0.3)
    code, output = run.sender.backfill(["contacts", "public.deals", "companies"])
    assert code == 0, output
    assert "following its progress" in output, output
    workload.stop()
    run.wait_delivered()
    run.assert_in_step()
    rows = backfill_rows(run)
    assert all(state == "done" and method == "watermark" for state, method, _, _ in rows.values()), rows


def test_backfill_command_runs_the_sender_itself_when_none_is_running(run_factory, mock_crm):
    run = run_factory("resync_alone", "webhook", extra="\n[backfill]\ninitial_sync = false\n")
    run.start_sender()
    seed(run.cluster, contacts=20_000)
    run.wait_delivered()
    run.sender.stop()
    mock_crm.reset()
    code, output = run.sender.backfill()
    assert code == 0, output
    assert "backfill of contacts done" in output, output
    # No sender runs now, so nothing confirms WAL written after the command stopped (its own
    # progress updates): the command's exit already means every backfilled row was accepted.
    assert run.cluster.query("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (run.slot,)) == [(False,)]
    run.assert_in_step()


def test_backfill_command_names_what_is_wrong(run_factory):
    run = run_factory("resync_bad", "webhook")
    code, output = run.sender.backfill(["no_such_table"])
    assert code == 2 and 'table "no_such_table" does not exist' in output and "companies, contacts, deals" in output, output
    code, output = run.sender.backfill(["crmsync.dead_letters"])
    assert code == 2 and "crmsync.dead_letters is not mapped for crm \"resync_bad\"" in output, output
    assert run.cluster.query("SELECT count(*) FROM crmsync.backfills WHERE crm = %s", (run.crm,)) == [(0,)]


VIEW = "SET ROLE bf_sender; SELECT source::text, state FROM crmsync.backfills WHERE crm = 'resync_grant' AND state <> 'done'"


def test_a_resync_the_role_may_not_read_waits_and_streaming_goes_on(run_factory, mock_crm, cluster):
    """The sender's role has the grants docs/security.md lists, except SELECT on contacts:
    the re-sync of contacts pauses with the reason, changes keep streaming, and once the
    grant is given the re-sync finishes on its own."""
    cluster.query("DROP ROLE IF EXISTS bf_sender")
    cluster.query("""
        CREATE ROLE bf_sender LOGIN REPLICATION;
        GRANT USAGE ON SCHEMA crmsync TO bf_sender;
        GRANT SELECT ON crmsync.mappings TO bf_sender;
        GRANT INSERT ON crmsync.dead_letters TO bf_sender;
        GRANT SELECT (crm, event_id) ON crmsync.dead_letters TO bf_sender;
        GRANT USAGE ON SEQUENCE crmsync.dead_letters_id_seq TO bf_sender;
        GRANT SELECT, INSERT, UPDATE ON crmsync.backfills TO bf_sender;
        GRANT SELECT, INSERT, UPDATE ON crmsync.sender_state TO bf_sender;
        GRANT SELECT ON companies, deals TO bf_sender;
    """)
    try:
        run = run_factory("resync_grant", "webhook", extra="\n[backfill]\ninitial_sync = false\n")
        with open(run.sender.config) as f:
            config = f.read()
        with open(run.sender.config, "w") as f:
            f.write(config.replace("user=postgres", "user=bf_sender"))
        run.start_sender()
        seed(run.cluster, contacts=3000, companies=100, deals=100)
        run.wait_delivered()
        mock_crm.reset()
        run.cluster.query("INSERT INTO crmsync.backfills (crm, source) VALUES (%s, 'contacts'), (%s, 'deals')",
                          (run.crm, run.crm))
        wait_until(lambda: "backfill of contacts paused: reading contacts for the backfill: ERROR:  permission denied "
                           "for table contacts" in run.sender.log(), 30, f"the pause; {backfill_rows(run)}; {cluster.query(VIEW)}; log:\n{run.sender.log()[-2000:]}")
        run.cluster.query("INSERT INTO companies VALUES (900001, 'late.example', 'Late', 1, '2020-01-01')")
        wait_until(lambda: "900001" in mock_crm.state().get("companies", {}), 30, "a streamed change during the pause")
        run.cluster.query("GRANT SELECT ON contacts TO bf_sender")
        wait_all_done(run, timeout=90, tables=("contacts", "deals"))
        run.wait_delivered()
        expected = {obj: rows for obj, rows in expected_state(run.cluster, run.crm, "webhook").items()
                    if obj in ("contacts", "deals")}
        expected["companies"] = {k: v for k, v in expected_state(run.cluster, run.crm, "webhook")["companies"].items()
                                 if k == "900001"}
        problems = compare_states(expected, mock_crm.state(), "webhook")
        assert not problems, "\n".join(problems)
        run.close()
    finally:
        cluster.drop_slot("crmsync_resync_grant")
        cluster.query("DROP OWNED BY bf_sender; DROP ROLE bf_sender")


def test_rows_without_a_key_are_counted_not_sent(cluster, mock_crm, workdir):
    from harness import Sender
    cluster.query("""
        DROP TABLE IF EXISTS bf_nullable;
        CREATE TABLE bf_nullable (k text, v int);
        ALTER TABLE bf_nullable REPLICA IDENTITY FULL;
        INSERT INTO bf_nullable VALUES ('a', 1), (NULL, 2), ('b', 3), (NULL, 4), (NULL, 5);
        DELETE FROM crmsync.mappings WHERE crm = 'bf_null';
        DELETE FROM crmsync.backfills WHERE crm = 'bf_null';
        SELECT crmsync.map('bf_null', 'bf_nullable', 'items', 'k');
    """)
    sender = Sender(workdir, "bf_null", "webhook", cluster.conninfo, mock_crm.url("/webhook"))
    sender.start()
    try:
        wait_until(lambda: cluster.query("SELECT state FROM crmsync.backfills WHERE crm = 'bf_null'") == [("done",)],
                   30, lambda: f"the initial sync; log:\n{sender.log()[-2000:]}")
        wait_until(lambda: set(mock_crm.state().get("items", {})) == {"a", "b"}, 30,
                   lambda: f"the keyed rows in the CRM: {mock_crm.state()}")
        assert ("backfill of bf_nullable: 3 rows have a NULL id column k and are not sent (a CRM record needs a "
                "key)") in sender.log()
    finally:
        sender.stop()
        cluster.drop_slot("crmsync_bf_null")
        cluster.query("SELECT crmsync.unmap('bf_null', 'bf_nullable'); DROP TABLE bf_nullable")
