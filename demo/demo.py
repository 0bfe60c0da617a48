#!/usr/bin/env python3
"""crmsync demo on its embedded default: a throwaway Postgres 15 cluster with a CRM-like
schema (companies, contacts, deals) mapped to HubSpot's shapes, the mock CRM speaking
HubSpot's API on loopback, and the real crmsync-sender between them. 5,000 companies exist
before the sender starts: its initial sync copies them. Then drives a workload,
shows a live status line, and checks at the end that the CRM holds exactly what the
database holds. Everything is removed on exit, also on Ctrl-C.
"""
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import Cluster, MockCrm, Sender, wait_until  # noqa: E402
from scenario import SCHEMA, compare_states, expected_state, map_tables  # noqa: E402

SECONDS = float(os.environ.get("DEMO_SECONDS", "20"))
RATE = int(os.environ.get("DEMO_RATE", "2000"))  # row changes per second
FORMAT = os.environ.get("DEMO_FORMAT", "hubspot")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Workload(threading.Thread):
    """What an app does: sign-ups, edits, deals moving through stages, some deletes."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster, self.stop_at = cluster, time.monotonic() + SECONDS
        self.changes, self.error = 0, None

    def run(self):
        try:
            conn = self.cluster.connect()
            cur = conn.cursor()
            next_id, rng = 1, random.Random(7)
            tick = 0.05
            per_tick = max(1, int(RATE * tick))
            while time.monotonic() < self.stop_at:
                started = time.monotonic()
                n = per_tick // 2
                cur.execute("INSERT INTO contacts SELECT g, 'person' || g || '@example.com', 'First' || g, "
                            "'Last' || g, g %% 100, true, now(), ARRAY['newsletter'], 'signed up', g %% 200 + 1 "
                            "FROM generate_series(%s, %s) g", (next_id, next_id + n - 1))
                self.changes += cur.rowcount
                cur.execute("INSERT INTO deals SELECT g, 'Deal ' || g, (g %% 97) * 100.0, 'appointmentscheduled', "
                            "current_date + 30, g, '{\"source\":\"demo\"}' FROM generate_series(%s, %s) g",
                            (next_id, next_id + n // 4))
                self.changes += cur.rowcount
                lo = max(1, next_id - 5 * n)
                cur.execute("UPDATE contacts SET score = score + 1, updated_at = now() "
                            "WHERE id BETWEEN %s AND %s", (lo, lo + n // 2))
                self.changes += cur.rowcount
                cur.execute("UPDATE deals SET stage = 'closedwon' WHERE id BETWEEN %s AND %s", (lo, lo + n // 8))
                self.changes += cur.rowcount
                if rng.random() < 0.3:
                    cur.execute("DELETE FROM deals WHERE id = %s", (lo,))
                    self.changes += cur.rowcount
                next_id += n
                time.sleep(max(0.0, tick - (time.monotonic() - started)))
            conn.close()
        except Exception as e:  # shown by the main thread
            self.error = e


def metrics_value(port, name):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    return float(line.rsplit(" ", 1)[1])
    except OSError:
        pass
    return 0.0


def main():
    work = tempfile.mkdtemp(prefix="crmsync-demo-")
    cluster = Cluster(port=int(os.environ.get("DEMO_PORT", "55499")))
    # The mock's realistic latency (lognormal, median 120 ms, p99 600 ms); quotas stay off.
    mock = MockCrm(work, token="demo-token", latency=None)
    sender = None
    try:
        print(f"== throwaway Postgres 15 cluster in {cluster.dir}")
        cluster.start()
        cluster.query(SCHEMA)
        map_tables(cluster, "demo", FORMAT)
        print("== mappings (crmsync.mappings):")
        for crm, source, obj, idc, props in cluster.query(
                "SELECT crm, source::text, object, id_column, properties::text FROM crmsync.mappings ORDER BY 2"):
            print(f"   {source:>10} -> {obj:<9} keyed by {idc}: {props}")
        # Rows that exist before the CRM is connected: the sender's initial sync copies them.
        cluster.query("INSERT INTO companies SELECT g, 'company' || g || '.example', 'Company ' || g, g * 7, "
                      "date '2001-01-01' + g % 9000 FROM generate_series(1, 5000) g")
        print("== 5000 companies exist before the CRM is connected")
        mock.start()
        print(f"== mock CRM speaking {FORMAT}'s API on {mock.url()}")
        token = os.path.join(work, "demo.token")
        with open(token, "w") as f:
            f.write("demo-token\n")
        os.chmod(token, 0o600)
        metrics_port = free_port()
        url = mock.url("/webhook") if FORMAT == "webhook" else mock.url()
        sender = Sender(work, "demo", FORMAT, cluster.conninfo, url, token_file=token,
                        extra=f'[metrics]\nlisten = "127.0.0.1:{metrics_port}"\n')
        sender.start()
        wait_until(lambda: cluster.query("SELECT active FROM crmsync.status WHERE crm = 'demo'") == [(True,)], 30,
                   "crmsync-sender to start streaming")
        wait_until(lambda: cluster.query("SELECT bool_and(state = 'done') FROM crmsync.backfills WHERE crm = 'demo'")
                   == [(True,)], 60, "the initial sync")
        for source, sent, seconds in cluster.query(
                "SELECT source::text, rows_sent, extract(epoch FROM finished_at - started_at) FROM crmsync.backfills "
                "WHERE crm = 'demo' ORDER BY 1"):
            print(f"== initial sync: {source} {sent} existing rows copied in {seconds:.2f} s (crmsync.backfills)")
        print(f"== crmsync-sender streaming slot crmsync_demo (config {sender.config})")
        print(f"   metrics: http://127.0.0.1:{metrics_port}/metrics   health: http://127.0.0.1:{metrics_port}/healthz")
        print(f"== workload: about {RATE} row changes/s for {SECONDS:.0f} s (DEMO_RATE, DEMO_SECONDS)\n")

        workload = Workload(cluster)
        workload.start()
        last_accepted, last_t = 0.0, time.monotonic()
        while workload.is_alive() or cluster.query(
                "SELECT lag_bytes > 0 FROM crmsync.status WHERE crm = 'demo'") == [(True,)]:
            time.sleep(1)
            now = time.monotonic()
            accepted = metrics_value(metrics_port, 'crmsync_records_total{outcome="accepted"}')
            lat = mock.stats()["latency_ms"]
            lag = cluster.query("SELECT coalesce(lag_bytes, 0) FROM crmsync.status WHERE crm = 'demo'")[0][0]
            dead = cluster.query("SELECT count(*) FROM crmsync.dead_letters WHERE crm = 'demo'")[0][0]
            rate = (accepted - last_accepted) / (now - last_t)
            last_accepted, last_t = accepted, now
            sys.stdout.write(("\r" if sys.stdout.isatty() else "\n") + f"   events/s {rate:7.0f} | delivered {accepted:8.0f} | slot lag {lag:8d} B | "
                             f"commit->CRM p50 {lat['p50']:6.1f} ms p99 {lat['p99']:6.1f} ms | dead letters {dead}  ")
            sys.stdout.flush()
            if time.monotonic() - workload.stop_at > 60:
                break
        print()
        if workload.error:
            raise workload.error

        target = cluster.query("SELECT pg_current_wal_lsn()")[0][0]
        wait_until(lambda: cluster.query("SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots "
                                         "WHERE slot_name = 'crmsync_demo'", (target,)) == [(True,)], 60,
                   "the last changes to reach the CRM")
        expected = expected_state(cluster, "demo", FORMAT)
        problems = compare_states(expected, mock.state(), FORMAT)
        records = sum(len(v) for v in expected.values())
        if problems:
            print("!! the CRM differs from the database:\n   " + "\n   ".join(problems))
            return 1
        print(f"== verified: the CRM holds exactly the database's {records} records "
              f"({', '.join(f'{len(v)} {k}' for k, v in sorted(expected.items()))}), "
              f"after {workload.changes} row changes")
        print("""
Where to look next
  * README.md and docs/: mappings, operations, security, troubleshooting
  * SELECT * FROM crmsync.status;   -- slot, lag, WAL held back, per crm
  * point it at a real CRM: in /etc/crmsync/<crm>.toml set [target] format = "hubspot",
    url = "https://api.hubapi.com", token_file = "/etc/crmsync/<crm>.token", then
    crmsync-sender check --config /etc/crmsync/<crm>.toml
""")
        return 0
    except KeyboardInterrupt:
        print("\n== interrupted; cleaning up")
        return 130
    finally:
        if sender:
            sender.stop()
        mock.stop()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
