"""One crm under test: its mappings, slot and sender against freshly emptied tables, and the
assertions every end-to-end test ends with."""
from harness import Sender, wait_until
from scenario import compare_states, expected_state, map_tables


class Run:
    """One crm, its slot, its sender, against a fresh, empty set of tables."""

    def __init__(self, cluster, mock, workdir, crm, fmt, extra="", token_file=None):
        self.cluster, self.mock, self.crm, self.fmt = cluster, mock, crm, fmt
        self.slot = f"crmsync_{crm}"
        cluster.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                      (self.slot,))
        cluster.query("TRUNCATE companies, contacts, deals")
        cluster.query("DELETE FROM crmsync.mappings WHERE crm = %s", (crm,))
        cluster.query("DELETE FROM crmsync.dead_letters WHERE crm = %s", (crm,))
        cluster.query("DELETE FROM crmsync.backfills WHERE crm = %s", (crm,))
        map_tables(cluster, crm, fmt)
        url = mock.url("/webhook") if fmt == "webhook" else mock.url()
        self.sender = Sender(workdir, crm, fmt, cluster.conninfo, url, token_file=token_file, extra=extra)

    def start_sender(self):
        self.sender.start()
        wait_until(lambda: self.cluster.query(
            "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (self.slot,)) == [(True,)],
            30, lambda: f"the sender to stream slot {self.slot}; sender log:\n{self.sender.log()[-3000:]}")

    def wait_delivered(self, timeout=180):
        """Until the slot's confirmed position passes everything written so far: every change
        before it was accepted by the CRM or dead-lettered (the sender never confirms more)."""
        target = self.cluster.query("SELECT pg_current_wal_lsn()")[0][0]
        wait_until(lambda: self.cluster.query(
            "SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots WHERE slot_name = %s",
            (target, self.slot)) == [(True,)], timeout,
            lambda: f"the sender to confirm {target}; sender log:\n{self.sender.log()[-3000:]}")

    def assert_in_step(self, poison_keys=()):
        expected = expected_state(self.cluster, self.crm, self.fmt, exclude_keys=set(poison_keys))
        problems = compare_states(expected, self.mock.state(), self.fmt)
        assert not problems, "\n".join(problems)
        stats = self.mock.stats()
        assert stats["records"]["order_violations"] == 0, stats
        letters = self.cluster.query("SELECT key FROM crmsync.dead_letters WHERE crm = %s ORDER BY key", (self.crm,))
        assert sorted(k for (k,) in letters) == sorted(poison_keys), f"dead letters: {letters}"
        return expected, stats

    def close(self):
        self.sender.stop()
        self.cluster.drop_slot(self.slot)
