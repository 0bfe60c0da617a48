#!/usr/bin/python3
"""crmsync against HubSpot's request quota, beside the same load through the peers that
cannot coalesce: what coalescing buys when the CRM, not the sender, is the bottleneck.

The mock CRM's HubSpot face with the Professional tier's budget (190 requests per rolling
10 s, tests/mock_crm/quotas.h after HubSpot's "API usage guidelines and limits"), the
public API's latency (lognormal, median 120 ms, p99 600 ms) and a bearer token. 50,000
contacts exist (not synced first: the CRM gets the contacts the load touches); then updates
whose rows follow a Zipf distribution (s = 1.0: a few contacts change all the time, most
rarely) at each --rates value for --seconds, in 10-row transactions. No deletes.

Systems (--systems), each on a fresh cluster and mock at each rate:
  crmsync        the plugin + crmsync-sender, format hubspot (batches of 100, coalescing)
  wal2json_node  bench/node/wal2json_to_webhook.js --format hubspot: wal2json +
                 pg-logical-replication + fetch, one batch-upsert input per change
  outbox         bench/peers/outbox_poller.py --format hubspot: trigger into an outbox table,
                 4 Python pollers, one input per change
The peers batch up to 100 distinct contacts per request (HubSpot refuses an id twice in a
batch), pace to the X-HubSpot-RateLimit-* headers and back off on 429; see their files.

190 requests of 100 records per 10 s carry at most 1,900 records/s, and a contact's changes
go out one request after the other, so without coalescing a contact that changes more often
than its lane completes requests falls behind at any rate.

Per system and rate: changes committed, records sent and records per change, API calls, 429
answers (all, and after the first 10 s), commit -> CRM p50/p99 (the mock's, per record it
received, from the X-Crmsync-Commit-Time header: changes never delivered are not in it), lag
every second (quota_lag_<system>_<rate>.csv, plotted by report.py), then a drain after the
load (crmsync up to --drain-s, the peers up to --peer-drain-s: they may never catch up),
what is still unsent then, and whether the CRM ends equal to the database.

Lag: for crmsync and the node peer, slot lag (WAL past the slot's confirmed position); for
the outbox, the WAL written since its oldest pending row was written (that includes the
outbox's own WAL). lag_s, for all three: how old the oldest change the CRM has not accepted
is (slots: when the WAL passed the confirmed position + 8 KB; outbox: its oldest row).

Usage: bench/quota_bench.py --out DIR [--systems crmsync,wal2json_node,outbox] [--rates 500,2000,5000]
       [--seconds 120] [--contacts 50000] [--drain-s 900] [--peer-drain-s 120]
Writes DIR/quota.csv and DIR/quota_lag_<system>_<rate>.csv. The node peer needs `node` and
`npm ci` in bench/node (bench/run_all.sh does both).
"""
import argparse
import bisect
import itertools
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from benchlib import BENCH, BenchCluster, CsvOut, MockCrm, Sender, log, wait_until  # noqa: E402
from scenario import SCHEMA, compare_states, expected_state, map_tables  # noqa: E402

PYTHON = "/usr/bin/python3"
NODE_FLAGS = [f for f in os.environ.get("CRMSYNC_BENCH_NODE_FLAGS", "").split() if f]
HUBSPOT_PROFESSIONAL_PER_10S = 190
ROWS_PER_TXN = 10
BATCH = 100
LANES = 4
TOKEN = "quota-bench-token"
# Slot lag below this is no change waiting: records without a transaction (running xacts,
# checkpoints) that a client confirming only transactions never moves past.
LAG_SLACK_BYTES = 8192
SYSTEMS = ("crmsync", "wal2json_node", "outbox")
FIELDS = ["system", "rate_per_s", "seconds", "changes", "offered_per_s", "records_sent", "records_per_change",
          "api_calls", "http_429", "http_429_after_10s", "p50_ms", "p99_ms", "max_ms", "lag_at_30s_mb",
          "lag_max_after_30s_mb", "lag_at_end_mb", "drain_s", "crm_equals_db", "caught_up", "unsent_after_drain",
          "lag_at_end_s", "lag_after_drain_mb", "lag_after_drain_s", "load_avg_start", "load_avg_end"]


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


class WalClock:
    """(database clock, WAL position) once a second: when the WAL passed a position, and where
    it was at a time, interpolated between samples."""

    def __init__(self):
        self.samples = []

    def add(self, epoch, lsn):
        self.samples.append((epoch, lsn))

    def time_passed(self, lsn):
        s = self.samples
        i = bisect.bisect_left([x[1] for x in s], lsn)
        if i == 0:
            return s[0][0]
        if i == len(s):
            return s[-1][0]
        (t0, l0), (t1, l1) = s[i - 1], s[i]
        return t0 + (t1 - t0) * (lsn - l0) / (l1 - l0) if l1 > l0 else t1

    def position_at(self, epoch):
        s = self.samples
        i = bisect.bisect_left([x[0] for x in s], epoch)
        if i == 0:
            return s[0][1]
        if i == len(s):
            return s[-1][1]
        (t0, l0), (t1, l1) = s[i - 1], s[i]
        return l0 + (l1 - l0) * (epoch - t0) / (t1 - t0) if t1 > t0 else l1


def load_avg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


# --- systems ------------------------------------------------------------------------------

class System:
    """One way of getting contacts changes into HubSpot. prepare() runs after the contacts
    exist (so their inserts are not part of the load), start() returns once it streams."""
    name = ""
    slot = None

    def __init__(self, cluster, mock, work, args):
        self.cluster, self.mock, self.work, self.args = cluster, mock, work, args
        self.token_file = os.path.join(work, "hubspot.token")
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(self.token_file, 0o600)
        self.proc = None
        self.log_path = os.path.join(work, f"{self.name}.log")

    def prepare(self):
        pass

    def start(self):
        raise NotImplementedError

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def alive(self):
        return self.proc is None or self.proc.poll() is None

    def log_tail(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-2000:]
        except FileNotFoundError:
            return ""

    def slot_active(self):
        return self.cluster.query("SELECT active FROM pg_replication_slots WHERE slot_name = %s",
                                  (self.slot,)) == [(True,)]

    def sample(self):
        """(database clock, WAL position, what lag() needs)."""
        return self.cluster.query(
            "SELECT extract(epoch FROM clock_timestamp())::float8, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, "
            "(SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::bigint FROM pg_replication_slots "
            "WHERE slot_name = %s)", (self.slot,))[0]

    def lag(self, clock, sample):
        """(lag MB, age in s of the oldest change the CRM has not accepted)."""
        epoch, current, confirmed = sample
        if confirmed is None:
            return 0.0, 0.0
        behind = current - confirmed
        age = epoch - clock.time_passed(confirmed + LAG_SLACK_BYTES) if behind > LAG_SLACK_BYTES else 0.0
        return behind / 1e6, max(0.0, age)

    def caught_up(self, target_lsn, changes, records):
        raise NotImplementedError


class Crmsync(System):
    name = "crmsync"
    slot = "crmsync_bench"

    def start(self):
        self.sender = Sender(self.work, "bench", "hubspot", self.cluster.conninfo, self.mock.url(),
                             token_file=self.token_file,
                             extra=f"batch_max_records = {BATCH}\n\n[backfill]\ninitial_sync = false\n")
        self.log_path = self.sender.log_path
        self.sender.start()
        self.proc = self.sender.proc
        wait_until(self.slot_active, 60, lambda: f"the sender to stream; log:\n{self.log_tail()}")

    def stop(self):
        self.sender.stop()

    def caught_up(self, target_lsn, changes, records):
        return self.cluster.query("SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots "
                                  "WHERE slot_name = %s", (target_lsn, self.slot)) == [(True,)]


class WalJsonNode(System):
    name = "wal2json_node"
    slot = "node_wal2json"
    script = os.path.join(BENCH, "node", "wal2json_to_webhook.js")

    def prepare(self):
        self.cluster.query("SELECT 'x' FROM pg_create_logical_replication_slot(%s, 'wal2json')", (self.slot,))

    def start(self):
        self.proc = subprocess.Popen(
            ["node", *NODE_FLAGS, self.script, "--format", "hubspot", "--host", self.cluster.dir,
             "--port", str(self.cluster.port), "--slot", self.slot, "--url", self.mock.url(),
             "--token-file", self.token_file, "--batch", str(BATCH), "--linger-ms", "5", "--lanes", str(LANES),
             "--max-queued", str(self.args.node_max_queued)],
            stdout=subprocess.DEVNULL, stderr=open(self.log_path, "ab"))
        wait_until(self.slot_active, 30, lambda: f"the node peer to stream; log:\n{self.log_tail()}")

    def caught_up(self, target_lsn, changes, records):
        return records >= changes  # one record per change


class Outbox(System):
    name = "outbox"
    script = os.path.join(BENCH, "peers", "outbox_poller.py")

    def prepare(self):
        subprocess.run([PYTHON, self.script, "install", "--format", "hubspot", "--conninfo", self.cluster.conninfo,
                        "--lanes", str(LANES)], check=True)

    def start(self):
        self.proc = subprocess.Popen(
            [PYTHON, self.script, "run", "--format", "hubspot", "--conninfo",
             self.cluster.conninfo + " application_name=outbox_poller", "--url", self.mock.url(),
             "--token-file", self.token_file, "--lanes", str(LANES), "--batch", str(BATCH), "--poll-ms", "5"],
            stdout=subprocess.DEVNULL, stderr=open(self.log_path, "ab"))
        wait_until(lambda: self.cluster.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                              "'outbox_poller'") == [(LANES,)], 30,
                   lambda: f"the outbox pollers; log:\n{self.log_tail()}")

    def sample(self):
        return self.cluster.query(
            "SELECT extract(epoch FROM clock_timestamp())::float8, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, "
            "(SELECT extract(epoch FROM min(created_at))::float8 FROM crm_outbox)")[0]

    def lag(self, clock, sample):
        epoch, current, oldest = sample
        if oldest is None:
            return 0.0, 0.0
        return max(0.0, current - clock.position_at(oldest)) / 1e6, max(0.0, epoch - oldest)

    def caught_up(self, target_lsn, changes, records):
        return self.cluster.query("SELECT NOT EXISTS (SELECT FROM crm_outbox)") == [(True,)]


SYSTEM_CLASSES = {"crmsync": Crmsync, "wal2json_node": WalJsonNode, "outbox": Outbox}


# --- one run ------------------------------------------------------------------------------

def run_one(args, system_name, rate, out):
    work = tempfile.mkdtemp(prefix=f"crmsync-quota-{system_name}-")
    os.chmod(work, 0o755)
    load_start = load_avg()
    cluster = BenchCluster(args.port)
    cluster.start()
    mock = MockCrm(work, latency=None, quotas=True, token=TOKEN, port=args.mock_port, extra_args=[
        "--hubspot-per-10s", str(HUBSPOT_PROFESSIONAL_PER_10S), "--hubspot-daily", "0", "--salesforce-daily", "0"])
    system = None
    try:
        cluster.query(SCHEMA)
        mock.start()
        map_tables(cluster, "bench", "hubspot")  # crmsync's mapping; for the peers only to render the expected state
        cluster.query(f"""INSERT INTO contacts SELECT g, 'user' || g || '@example.com', 'First ' || g, 'Last ' || g,
                          g % 100, true, now(), ARRAY['a'], 'n', 1 FROM generate_series(1, {args.contacts}) g""")
        # No initial sync: the CRM gets the contacts the load touches (HubSpot's upsert creates
        # them), so the mock's counts and latencies are the measured load's alone.
        system = SYSTEM_CLASSES[system_name](cluster, mock, work, args)
        system.prepare()
        system.start()
        mock.reset()  # the quota window and counts start with the load (schema calls excluded)
        loader = Loader(cluster, Zipf(args.contacts, 1.0, seed=rate), rate, args.seconds)
        samples = CsvOut(os.path.join(args.out, f"quota_lag_{system_name}_{rate}.csv"),
                         ["t_s", "phase", "lag_mb", "lag_s", "records_sent", "api_calls", "http_429"])
        clock = WalClock()
        lags = []  # (t, lag MB, lag s, 429s so far, phase)

        def sample(t0, phase):
            s = system.sample()
            clock.add(s[0], s[1])
            lag_mb, lag_s = system.lag(clock, s)
            stats = mock.stats()
            t = time.monotonic() - t0
            lags.append((t, lag_mb, lag_s, stats["requests"]["by_status"].get("429", 0), phase))
            samples.row(t_s=f"{t:.1f}", phase=phase, lag_mb=f"{lag_mb:.2f}", lag_s=f"{lag_s:.1f}",
                        records_sent=stats["records"]["upserted"], api_calls=stats["requests"]["total"],
                        http_429=lags[-1][3])
            return stats

        t0 = time.monotonic()
        s0 = system.sample()
        clock.add(s0[0], s0[1])
        loader.start()
        while loader.is_alive():
            time.sleep(1)
            sample(t0, "load")
            if not system.alive():
                raise RuntimeError(f"{system_name} exited during the load; log:\n{system.log_tail()}")
        loader.join()
        load_phase = list(lags)
        target = cluster.query("SELECT pg_current_wal_lsn()")[0][0]
        t_end = time.monotonic()
        limit = args.drain_s if system_name == "crmsync" else args.peer_drain_s
        caught_up = False
        while True:
            stats = mock.stats()
            if system.caught_up(target, loader.changes, stats["records"]["upserted"]):
                caught_up = True
                break
            if time.monotonic() - t_end >= limit or not system.alive():
                break
            time.sleep(1)
            sample(t0, "drain")
        drain_s = time.monotonic() - t_end
        stats = sample(t0, "end")
        samples.close()
        keys = {f"user{i}@example.com" for i in loader.touched}
        expected = expected_state(cluster, "bench", "hubspot")
        expected = {"contacts": {k: v for k, v in expected.get("contacts", {}).items() if k in keys}}
        actual = {"contacts": mock.state().get("contacts", {})}
        problems = compare_states(expected, actual, "hubspot")
        for p in problems:
            log(f"  {system_name} CRM differs: " + p)
        lat = stats["latency_ms"]
        sent = stats["records"]["upserted"]
        http_429 = stats["requests"]["by_status"].get("429", 0)
        early_429 = max((c for t, _, _, c, _ in load_phase if t <= 10), default=0)
        at_30 = next((mb for t, mb, _, _, _ in load_phase if t >= 30), 0.0)
        after_30 = max((mb for t, mb, _, _, _ in load_phase if t >= 30), default=0.0)
        end = load_phase[-1] if load_phase else (0, 0.0, 0.0, 0, "load")
        final = lags[-1]
        if caught_up:
            unsent = 0
        elif system_name == "crmsync":
            unsent = ""  # coalesced: changes and records do not pair up
        else:
            unsent = max(0, loader.changes - sent)
        equal = "yes" if caught_up and not problems else ("no" if caught_up else "no (not caught up)")
        row = dict(system=system_name, rate_per_s=rate, seconds=f"{loader.elapsed:.0f}", changes=loader.changes,
                   offered_per_s=f"{loader.changes / loader.elapsed:.0f}", records_sent=sent,
                   records_per_change=f"{sent / max(1, loader.changes):.3f}", api_calls=stats["requests"]["total"],
                   http_429=http_429, http_429_after_10s=http_429 - early_429, p50_ms=lat["p50"], p99_ms=lat["p99"],
                   max_ms=lat["max"], lag_at_30s_mb=f"{at_30:.2f}", lag_max_after_30s_mb=f"{after_30:.2f}",
                   lag_at_end_mb=f"{end[1]:.2f}", drain_s=f"{drain_s:.1f}", crm_equals_db=equal,
                   caught_up="yes" if caught_up else "no", unsent_after_drain=unsent, lag_at_end_s=f"{end[2]:.1f}",
                   lag_after_drain_mb=f"{final[1]:.2f}", lag_after_drain_s=f"{final[2]:.1f}",
                   load_avg_start=load_start, load_avg_end=load_avg())
        out.row(**row)
        log(f"  {system_name:13} {rate:>5}/s: {loader.changes} changes, {sent} records sent "
            f"({row['records_per_change']} per change), {row['api_calls']} calls, {http_429} 429s "
            f"({row['http_429_after_10s']} after 10 s), p50 {lat['p50']} ms, p99 {lat['p99']} ms, lag {at_30:.1f} MB "
            f"at 30 s, {end[1]:.1f} MB / {end[2]:.0f} s at the end of the load; "
            + (f"caught up {drain_s:.1f} s after it" if caught_up else
               f"NOT caught up {drain_s:.0f} s after it ({unsent} changes unsent, lag {final[1]:.1f} MB / "
               f"{final[2]:.0f} s)")
            + f", CRM {'equals' if equal == 'yes' else 'DIFFERS FROM'} the database; load average "
            f"{load_start} -> {row['load_avg_end']}")
    finally:
        if system:
            system.stop()
        mock.stop()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--rates", default="500,2000,5000")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--drain-s", type=int, default=900, help="how long crmsync may take to catch up after the load")
    parser.add_argument("--peer-drain-s", type=int, default=120,
                        help="how long a peer may take to catch up after the load (then: reported as not caught up)")
    parser.add_argument("--node-max-queued", type=int, default=20000,
                        help="the node peer's --max-queued (changes read from the slot and not yet accepted)")
    parser.add_argument("--port", type=int, default=55480, help="the cluster's port (its socket; no TCP)")
    parser.add_argument("--mock-port", type=int, default=55481, help="the mock CRM's port on 127.0.0.1")
    args = parser.parse_args()
    systems = [s for s in args.systems.split(",") if s]
    unknown = [s for s in systems if s not in SYSTEM_CLASSES]
    if unknown:
        parser.error(f"unknown systems {unknown}; known: {', '.join(SYSTEMS)}")
    if "wal2json_node" in systems:
        if not shutil.which("node"):
            sys.exit("wal2json_node needs node (Node.js 20) on PATH, as bench/run_all.sh requires")
        if not os.path.isdir(os.path.join(BENCH, "node", "node_modules", "pg-logical-replication")):
            sys.exit("wal2json_node needs its packages: (cd bench/node && npm ci), as bench/run_all.sh does")
    os.makedirs(args.out, exist_ok=True)
    out = CsvOut(os.path.join(args.out, "quota.csv"), FIELDS)
    log(f"quota: systems {','.join(systems)}, rates {args.rates}; load average {load_avg()}")
    for rate in (int(r) for r in args.rates.split(",")):
        for system in systems:
            run_one(args, system, rate, out)
    log(f"quota: done; load average {load_avg()}")


if __name__ == "__main__":
    main()
