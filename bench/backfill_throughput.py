#!/usr/bin/python3
"""Backfill speed: existing rows of the CRM-like contacts table into the mock CRM, through the
real crmsync-sender, per format.

  initial   the sender creates its slot and copies the table in the slot's exported snapshot
            (crmsync.render() in chunks, delivered through the normal batching), then streams
  resync    with that sender running and idle, the mock CRM is wiped and
            `crmsync-sender backfill --table contacts` re-syncs it with watermarks

Time runs from the sender's start (initial) or the command's start (resync) until the
contacts backfill is done in crmsync.backfills and the slot's confirmed position has passed
everything written: every row accepted by the mock CRM. The sender's CPU and peak RSS come
from /proc. The mock CRM's state is checked to hold every row afterwards.

Usage: bench/backfill_throughput.py --out DIR [--rows 500000] [--formats webhook,hubspot]
Writes DIR/backfill.csv.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from benchlib import BenchCluster, CsvOut, MockCrm, Sender, log, proc_cpu_seconds, proc_rss_mb, wait_until  # noqa: E402
from harness import SENDER_BIN  # noqa: E402
from scenario import SCHEMA, insert_statements, map_tables  # noqa: E402

BATCH = 100


class Sampler:
    """Peak RSS of a process, sampled every 100 ms until stopped."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop_event = pid, 0.0, threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self):
        while not self.stop_event.wait(0.1):
            try:
                self.peak = max(self.peak, proc_rss_mb(self.pid))
            except (OSError, ValueError):
                pass

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        return self.peak


def wait_done(cluster, crm, timeout):
    wait_until(lambda: cluster.query("SELECT state FROM crmsync.backfills WHERE crm = %s AND source = 'contacts'::regclass",
                                     (crm,)) == [("done",)], timeout, "the contacts backfill")
    target = cluster.query("SELECT pg_current_wal_lsn()")[0][0]
    wait_until(lambda: cluster.query("SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots "
                                     "WHERE slot_name = %s", (target, f"crmsync_{crm}")) == [(True,)], timeout,
               "the sender to confirm")


def crm_count(mock):
    state = mock.state()
    return len(state.get("contacts", {}))


def run_format(cluster, work, fmt, rows, out):
    crm = f"bf_{fmt}"
    cluster.query("TRUNCATE companies, contacts, deals")
    cluster.query("DELETE FROM crmsync.backfills WHERE crm = %s", (crm,))
    map_tables(cluster, crm, fmt)
    conn = cluster.connect()
    with conn.cursor() as cur:
        for sql in insert_statements(rows, 0, 0, chunk=50_000):
            cur.execute(sql)
        cur.execute("ANALYZE contacts")
    conn.close()
    mock = MockCrm(work)
    mock.start()
    url = mock.url("/webhook") if fmt == "webhook" else mock.url()
    sender = Sender(work, crm, fmt, cluster.conninfo, url, extra=f"batch_max_records = {BATCH}")
    def measure(phase, start, cpu_before):
        """Runs `start`, waits until the contacts backfill is done and confirmed, checks the
        mock CRM holds every row, and records the phase."""
        sampler = Sampler(sender.proc.pid) if sender.proc else None
        t0 = time.monotonic()
        start()
        if sampler is None:
            sampler = Sampler(sender.proc.pid)
        wait_done(cluster, crm, 1800)
        seconds = time.monotonic() - t0
        cpu = proc_cpu_seconds(sender.proc.pid) - cpu_before
        peak = sampler.stop()
        held = crm_count(mock)
        assert held == rows, f"{phase}: the mock CRM holds {held} contacts, the table {rows}"
        log(f"{fmt} {phase}: {rows} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s, sender CPU "
            f"{100 * cpu / seconds:.0f} %, RSS {peak:.0f} MB")
        out.row(format=fmt, phase=phase, rows=rows, seconds=f"{seconds:.2f}", rows_per_s=f"{rows / seconds:.0f}",
                sender_cpu_pct=f"{100 * cpu / seconds:.1f}", sender_rss_mb=f"{peak:.1f}")

    def resync():
        done = subprocess.run([SENDER_BIN, "backfill", "--config", sender.config, "--table", "contacts"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=1800)
        assert done.returncode == 0, done.stderr

    try:
        measure("initial", sender.start, 0.0)
        mock.reset()  # the CRM lost everything; the sender keeps streaming
        measure("resync", resync, proc_cpu_seconds(sender.proc.pid))
    finally:
        sender.stop()
        mock.stop()
        cluster.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                      (f"crmsync_{crm}",))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--formats", default="webhook,hubspot")
    parser.add_argument("--port", type=int, default=55491)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="crmsync-bench-backfill-")
    cluster = BenchCluster(args.port)
    cluster.start()
    out = CsvOut(os.path.join(args.out, "backfill.csv"),
                 ["format", "phase", "rows", "seconds", "rows_per_s", "sender_cpu_pct", "sender_rss_mb"])
    try:
        cluster.query(SCHEMA)
        for fmt in args.formats.split(","):
            run_format(cluster, work, fmt, args.rows, out)
    finally:
        out.close()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
