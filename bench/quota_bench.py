#!/usr/bin/python3
"""crmsync against HubSpot's request quota: what coalescing buys when the CRM, not the
sender, is the bottleneck.

The mock CRM's HubSpot face with the Professional tier's budget (190 requests per rolling
10 s, tests/mock_crm/quotas.h after HubSpot's "API usage guidelines and limits") and the
public API's latency (lognormal, median 120 ms, p99 600 ms). 50,000 contacts, synced first;
then updates whose rows follow a Zipf distribution (s = 1.0: a few contacts change all the
time, most rarely) at each --rates value for --seconds, in 10-row transactions.

190 requests of 100 records per 10 s carry at most 1,900 records/s, so above that the sender
keeps up only by sending one record for many changes of the same contact (delivery.coalesce).

Per rate: changes committed, records sent and records per change, API calls, 429 answers
(all, and after the first 10 s), commit -> CRM p50/p99 (the mock's, per record, from the
X-Crmsync-Commit-Time header), slot lag every second (quota_lag_<rate>.csv, plotted by
report.py), and whether the CRM ends equal to the database.

Usage: bench/quota_bench.py --out DIR [--rates 500,2000,5000] [--seconds 120] [--contacts 50000]
Writes DIR/quota.csv and DIR/quota_lag_<rate>.csv.
"""
import argparse
import bisect
import itertools
import os
import random
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from benchlib import BenchCluster, CsvOut, MockCrm, Sender, log, wait_until  # noqa: E402
from scenario import SCHEMA, compare_states, expected_state, map_tables  # noqa: E402

HUBSPOT_PROFESSIONAL_PER_10S = 190
ROWS_PER_TXN = 10
FIELDS = ["rate_per_s", "seconds", "changes", "offered_per_s", "records_sent", "records_per_change", "api_calls",
          "http_429", "http_429_after_10s", "p50_ms", "p99_ms", "max_ms", "lag_at_30s_mb", "lag_max_after_30s_mb",
          "lag_at_end_mb", "drain_s", "crm_equals_db"]


class Zipf:
    """Ids 1..n with P(k) proportional to 1/k^s, shuffled so hot ids are spread over the table."""

    def __init__(self, n, s, seed):
        self.random = random.Random(seed)
        self.cum = list(itertools.accumulate(1.0 / (k ** s) for k in range(1, n + 1)))
        self.ids = list(range(1, n + 1))
        self.random.shuffle(self.ids)

    def draw(self, k):
        total = self.cum[-1]
        return [self.ids[bisect.bisect_left(self.cum, self.random.random() * total)] for _ in range(k)]


def slot_lag_bytes(cluster, slot):
    rows = cluster.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
                         "FROM pg_replication_slots WHERE slot_name = %s", (slot,))
    return rows[0][0] if rows and rows[0][0] is not None else 0


class Loader(threading.Thread):
    """10-row update transactions of Zipf-drawn contacts, paced to `rate` rows/s."""

    def __init__(self, cluster, zipf, rate, seconds):
        super().__init__(daemon=True)
        self.cluster, self.zipf, self.rate, self.seconds = cluster, zipf, rate, seconds
        self.changes = 0
        self.touched = set()
        self.elapsed = 0.0

    def run(self):
        conn = self.cluster.connect()
        cur = conn.cursor()
        t0 = time.monotonic()
        for i in itertools.count():
            due = t0 + i * ROWS_PER_TXN / self.rate
            now = time.monotonic()
            if due - t0 >= self.seconds:
                break
            if due > now:
                time.sleep(due - now)
            ids = self.zipf.draw(ROWS_PER_TXN)
            cur.execute("UPDATE contacts SET score = score + 1, updated_at = clock_timestamp() WHERE id = ANY(%s)",
                        (ids,))
            self.changes += cur.rowcount
            self.touched.update(ids)
        self.elapsed = time.monotonic() - t0
        conn.close()


def run_rate(args, rate, port, out):
    work = tempfile.mkdtemp(prefix="crmsync-quota-")
    cluster = BenchCluster(port)
    cluster.start()
    mock = MockCrm(work, latency=None, quotas=True, extra_args=[
        "--hubspot-per-10s", str(HUBSPOT_PROFESSIONAL_PER_10S), "--hubspot-daily", "0", "--salesforce-daily", "0"])
    sender = None
    try:
        cluster.query(SCHEMA)
        mock.start()
        map_tables(cluster, "bench", "hubspot")
        cluster.query(f"""INSERT INTO contacts SELECT g, 'user' || g || '@example.com', 'First ' || g, 'Last ' || g,
                          g % 100, true, now(), ARRAY['a'], 'n', 1 FROM generate_series(1, {args.contacts}) g""")
        # No initial sync: the CRM gets the contacts the load touches (HubSpot's upsert creates
        # them), so the mock's counts and latencies are the measured load's alone.
        sender = Sender(work, "bench", "hubspot", cluster.conninfo, mock.url(),
                        extra="batch_max_records = 100\n\n[backfill]\ninitial_sync = false\n")
        sender.start()
        slot = "crmsync_bench"
        wait_until(lambda: cluster.query("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,))
                   == [(True,)], 60, lambda: f"the sender to stream; log:\n{sender.log()[-2000:]}")
        loader = Loader(cluster, Zipf(args.contacts, 1.0, seed=rate), rate, args.seconds)
        samples = CsvOut(os.path.join(args.out, f"quota_lag_{rate}.csv"),
                         ["t_s", "slot_lag_mb", "records_sent", "api_calls", "http_429"])
        lags = []
        t0 = time.monotonic()
        loader.start()
        while loader.is_alive():
            time.sleep(1)
            stats = mock.stats()
            t = time.monotonic() - t0
            lag = slot_lag_bytes(cluster, slot) / 1e6
            lags.append((t, lag, stats["requests"]["by_status"].get("429", 0)))
            samples.row(t_s=f"{t:.1f}", slot_lag_mb=f"{lag:.2f}", records_sent=stats["records"]["upserted"],
                        api_calls=stats["requests"]["total"], http_429=lags[-1][2])
        loader.join()
        samples.close()
        target = cluster.query("SELECT pg_current_wal_lsn()")[0][0]
        t_end = time.monotonic()
        wait_until(lambda: cluster.query("SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots "
                                         "WHERE slot_name = %s", (target, slot)) == [(True,)], 900,
                   lambda: f"the sender to catch up; log:\n{sender.log()[-2000:]}")
        drain_s = time.monotonic() - t_end
        stats = mock.stats()
        keys = {f"user{i}@example.com" for i in loader.touched}
        expected = expected_state(cluster, "bench", "hubspot")
        expected = {"contacts": {k: v for k, v in expected.get("contacts", {}).items() if k in keys}}
        actual = {"contacts": mock.state().get("contacts", {})}
        problems = compare_states(expected, actual, "hubspot")
        for p in problems:
            log("  CRM differs: " + p)
        lat = stats["latency_ms"]
        sent = stats["records"]["upserted"]
        http_429 = stats["requests"]["by_status"].get("429", 0)
        early_429 = max((c for t, _, c in lags if t <= 10), default=0)
        at_30 = next((lag for t, lag, _ in lags if t >= 30), 0.0)
        after_30 = max((lag for t, lag, _ in lags if t >= 30), default=0.0)
        row = dict(rate_per_s=rate, seconds=f"{loader.elapsed:.0f}", changes=loader.changes,
                   offered_per_s=f"{loader.changes / loader.elapsed:.0f}", records_sent=sent,
                   records_per_change=f"{sent / max(1, loader.changes):.3f}", api_calls=stats["requests"]["total"],
                   http_429=http_429, http_429_after_10s=http_429 - early_429, p50_ms=lat["p50"], p99_ms=lat["p99"],
                   max_ms=lat["max"], lag_at_30s_mb=f"{at_30:.2f}", lag_max_after_30s_mb=f"{after_30:.2f}",
                   lag_at_end_mb=f"{lags[-1][1] if lags else 0:.2f}", drain_s=f"{drain_s:.1f}",
                   crm_equals_db="yes" if not problems else "no")
        out.row(**row)
        log(f"  quota {rate:>5}/s: {loader.changes} changes, {sent} records sent ({row['records_per_change']} per "
            f"change), {row['api_calls']} calls, {http_429} 429s ({row['http_429_after_10s']} after 10 s), "
            f"p50 {lat['p50']} ms, p99 {lat['p99']} ms, lag {at_30:.1f} MB at 30 s, max {after_30:.1f} MB after, "
            f"drained in {drain_s:.1f} s, CRM {'equals' if not problems else 'DIFFERS FROM'} the database")
    finally:
        if sender:
            sender.stop()
        mock.stop()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--rates", default="500,2000,5000")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--port", type=int, default=55480)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    out = CsvOut(os.path.join(args.out, "quota.csv"), FIELDS)
    for rate in (int(r) for r in args.rates.split(",")):
        run_rate(args, rate, args.port, out)


if __name__ == "__main__":
    main()
