"""A primary fails and its physical standby is promoted mid-stream (PostgreSQL 17 and later).

The sender's slot is a failover slot (the default where the server has them), kept on the
standby by slot synchronisation (sync_replication_slots, hot_standby_feedback); the primary
holds logical decoding back until the standby has the WAL (synchronized_standby_slots), so
the CRM is never told of a change the promoted standby lacks. The sender's conninfo names
both servers with target_session_attrs=read-write: after the promotion it reconnects to the
new primary and streams on from the synchronised slot, with nothing lost, no order broken
and no re-sync (the slot is not created again).
"""
import os

import pytest

from harness import PG_MAJOR, Cluster, Sender, wait_until
from scenario import SCHEMA, count_changes
from sync_run import Run
from test_delivery import small_workload

pytestmark = pytest.mark.skipif(PG_MAJOR < 17, reason="failover slots exist from PostgreSQL 17 on")

STANDBY_SLOT = "crmsync_standby"


def slot_row(cluster, slot, columns):
    rows = cluster.query(f"SELECT {columns} FROM pg_replication_slots WHERE slot_name = %s", (slot,))
    return rows[0] if rows else None


def test_standby_promoted_mid_stream_sender_continues_from_the_synchronised_slot(mock_crm, workdir):
    base = int(os.environ.get("CRMSYNC_E2E_PORT", "56432")) + 100
    primary, standby, run = Cluster(base), Cluster(base + 1), None
    try:
        primary.start()
        primary.query(SCHEMA)
        primary.query("SELECT pg_create_physical_replication_slot(%s)", (STANDBY_SLOT,))
        run = Run(primary, mock_crm, workdir, "failover", "webhook")
        standby.start_standby_of(primary, STANDBY_SLOT)
        # After the base backup: the standby must not inherit it (once promoted it has no
        # standby of its own to wait for).
        primary.query("ALTER SYSTEM SET synchronized_standby_slots = %s", (STANDBY_SLOT,))
        primary.query("SELECT pg_reload_conf()")

        both = (f"host={primary.dir},{standby.dir} port={primary.port},{standby.port} dbname=postgres "
                "user=postgres target_session_attrs=read-write")
        run.sender = Sender(workdir, run.crm, run.fmt, both, mock_crm.url("/webhook"))
        run.start_sender()
        assert slot_row(primary, run.slot, "failover") == (True,), "the sender did not make a failover slot"
        # Only a slot the standby holds as synced and persistent survives a promotion.
        wait_until(lambda: slot_row(standby, run.slot, "synced AND NOT temporary") == (True,), 120,
                   lambda: f"the standby to synchronise {run.slot}: {slot_row(standby, run.slot, '*')}")

        # Requests slowed so that batches are in flight and WAL is undecoded when the primary dies.
        mock_crm.faults(slow_ms=40)
        statements = small_workload()
        half = len(statements) // 2
        count_changes(primary, statements[:half])
        wait_until(lambda: mock_crm.stats()["records"]["upserted"] > 500, 60, "the first records to arrive")
        delivered_before = mock_crm.stats()["records"]["upserted"]
        primary.pg_ctl("stop", "-m", "immediate")
        standby.promote()
        mock_crm.faults(slow_ms=0)
        assert slot_row(standby, run.slot, "plugin, failover") == ("crmsync", True)

        run.cluster = standby
        count_changes(standby, statements[half:])
        run.wait_delivered()
        run.assert_in_step()

        log = run.sender.log()
        assert run.sender.proc.poll() is None, log[-3000:]
        assert "reconnecting" in log, log[-3000:]
        assert log.count("created replication slot") == 1, "the sender made a new slot (a re-sync) after failover"
        stats = mock_crm.stats()["records"]
        assert stats["upserted"] > delivered_before, stats
    finally:
        if run:
            run.sender.stop()
        standby.stop()
        primary.stop()
