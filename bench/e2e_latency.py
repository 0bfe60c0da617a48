#!/usr/bin/env python3
"""Commit-to-CRM latency and throughput, end to end: a throwaway cluster, the plugin, the
real crmsync-sender and the mock CRM. A paced workload commits small transactions at a
target rate; the mock CRM measures commit time -> request received (per record) and the
sender's CPU and RSS are read from /proc.

Usage: bench/e2e_latency.py [--format webhook] [--rates 1000,5000,10000] [--seconds 10]
Run as root or as a user who can run initdb (see tests/e2e/harness.py).
"""
import argparse
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from harness import Cluster, MockCrm, Sender, wait_until  # noqa: E402
from scenario import SCHEMA, map_tables  # noqa: E402


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def paced_load(cluster, rate, seconds, rows_per_txn, start_id):
    """Commits rows_per_txn-row transactions so that rate rows/s go in; returns rows written."""
    conn = cluster.connect()
    cur = conn.cursor()
    txns_per_s = rate / rows_per_txn
    next_id, written = start_id, 0
    t0 = time.monotonic()
    i = 0
    while True:
        due = t0 + i / txns_per_s
        now = time.monotonic()
        if now - t0 >= seconds:
            break
        if due > now:
            time.sleep(due - now)
        cur.execute("INSERT INTO contacts (id, email, first_name, last_name, score, active, updated_at, tags, notes) "
                    "SELECT g, 'u' || g || '@example.com', 'F' || g, 'L' || g, g / 3.0, true, now(), "
                    "ARRAY['a','b'], 'n' FROM generate_series(%s, %s) g", (next_id, next_id + rows_per_txn - 1))
        next_id += rows_per_txn
        written += rows_per_txn
        i += 1
    elapsed = time.monotonic() - t0
    conn.close()
    return written, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", default="webhook", choices=["webhook", "hubspot", "salesforce"])
    parser.add_argument("--rates", default="1000,5000,10000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rows-per-txn", type=int, default=10)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="crmsync-latency-")
    cluster = Cluster(port=56532)
    cluster.start()
    cluster.query(SCHEMA)
    mock = MockCrm(work)
    mock.start()
    crm = "lat"
    map_tables(cluster, crm, args.format)
    url = mock.url("/webhook") if args.format == "webhook" else mock.url()
    sender = Sender(work, crm, args.format, cluster.conninfo, url)
    sender.start()
    try:
        wait_until(lambda: cluster.query("SELECT active FROM pg_replication_slots WHERE slot_name = 'crmsync_lat'")
                   == [(True,)], 30, "the sender")
        print(f"format {args.format}, {args.rows_per_txn} rows per transaction, {args.seconds:.0f} s per rate")
        print(f"{'target/s':>9} {'achieved/s':>11} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
              f"{'sender CPU %':>13} {'RSS MB':>7}")
        next_id = 1
        for rate in [int(r) for r in args.rates.split(",")]:
            mock.reset()
            cpu0 = proc_cpu_seconds(sender.proc.pid)
            written, elapsed = paced_load(cluster, rate, args.seconds, args.rows_per_txn, next_id)
            next_id += written
            target = cluster.query("SELECT pg_current_wal_lsn()")[0][0]
            wait_until(lambda: cluster.query("SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots "
                                             "WHERE slot_name = 'crmsync_lat'", (target,)) == [(True,)], 120,
                       "delivery")
            cpu = proc_cpu_seconds(sender.proc.pid) - cpu0
            lat = mock.stats()["latency_ms"]
            print(f"{rate:>9} {written / elapsed:>11.0f} {lat['p50']:>8.1f} {lat['p95']:>8.1f} {lat['p99']:>8.1f} "
                  f"{lat['max']:>8.1f} {100 * cpu / elapsed:>13.1f} {proc_rss_mb(sender.proc.pid):>7.1f}")
    finally:
        sender.stop()
        mock.stop()
        cluster.stop()


if __name__ == "__main__":
    main()
