#!/usr/bin/python3
"""Commit-to-CRM latency and throughput, end to end, for crmsync and the pipelines people
build instead, all against the same mock CRM webhook endpoint on loopback:

  crmsync   the plugin in the walsender + the real crmsync-sender (format webhook)
  crmsync_linger1   the same with delivery.linger_ms = 1 (sweep only)
  outbox    triggers into an outbox table + Python pollers (bench/peers/outbox_poller.py)
  node      wal2json + pg-logical-replication + fetch (bench/node/wal2json_to_webhook.js)

Same batch size (100), same in-flight budget (4 lanes split by key hash), same linger (5 ms).
The mock CRM measures each event's latency from its commit_time to the request's arrival;
CPU and RSS come from /proc.

Phases per pipeline, on a fresh cluster, mock CRM and pipeline process (fresh again after a
phase that left a backlog behind):
  sweep     paced load at each rate (small transactions: max(10, rate/1000) rows) for
            --seconds; "sustained" = the writer achieved >= 95 % of the rate and the CRM had
            >= 95 % of the committed events when the window ended (the rest in flight).
  max       an unpaced loader (100-row transactions) for --max-seconds: what the pipeline
            delivers while writes keep coming on the same 2 cores.
  replay    a backlog of --replay-events written while the pipeline is stopped, then
            delivered: the pipeline's own capacity, without a writer competing.
crmsync also runs:
  outage    paced load at --outage-rate; the mock CRM drops every request for --outage-s;
            sender RSS, CPU and slot lag are sampled every second (must stay flat).

Usage: bench/e2e_latency.py --out DIR [--pipelines crmsync,crmsync_linger1,outbox,node] [--rates 1000,5000,10000,20000,50000]
       [--seconds 10] [--max-seconds 15] [--replay-events 200000] [--outage-s 60] [--profile]
Writes DIR/e2e_sweep.csv, e2e_outage.csv (and profile_e2e_*.txt).
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
from benchlib import (BENCH, BenchCluster, CsvOut, HostCpu, MockCrm, PerfRecording, Sender, log,  # noqa: E402
                      proc_cpu_seconds, proc_rss_mb, tree_pids, wait_until)
from scenario import SCHEMA, map_tables  # noqa: E402

PYTHON = "/usr/bin/python3"
NODE_FLAGS = [f for f in os.environ.get("CRMSYNC_BENCH_NODE_FLAGS", "").split() if f]
BATCH = 100
LANES = 4


# --- pipelines ----------------------------------------------------------------------------

class Pipeline:
    """One way of getting contacts changes to the CRM. start() returns once it is ready."""
    name = ""
    sweep_only = False  # no max/replay phases

    def __init__(self, cluster, mock, work):
        self.cluster, self.mock, self.work = cluster, mock, work
        self.proc = None

    def prepare(self):
        pass

    def start(self):
        raise NotImplementedError

    def client_pids(self):
        return tree_pids(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def server_pids(self):
        return []

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def slot_pid(self, slot):
        rows = self.cluster.query("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s", (slot,))
        return [rows[0][0]] if rows and rows[0][0] else []


class Crmsync(Pipeline):
    name = "crmsync"
    slot = "crmsync_bench"

    def prepare(self):
        map_tables(self.cluster, "bench", "webhook")
        self.sender = Sender(self.work, "bench", "webhook", self.cluster.conninfo, self.mock.url("/webhook"),
                             extra=f"batch_max_records = {BATCH}")

    def start(self):
        self.sender.start()
        self.proc = self.sender.proc
        wait_until(lambda: self.slot_pid(self.slot), 30, "crmsync-sender to stream")

    def stop(self):
        self.sender.stop()

    def server_pids(self):
        return self.slot_pid(self.slot)


class CrmsyncLinger1(Crmsync):
    """crmsync with delivery.linger_ms = 1 instead of the default 5 (environment override,
    docs/operations.md, delivery rule 3): what the latency floor is without most of the batching wait."""
    name = "crmsync_linger1"
    sweep_only = True

    def start(self):
        os.environ["CRMSYNC_DELIVERY_LINGER_MS"] = "1"
        try:
            super().start()
        finally:
            del os.environ["CRMSYNC_DELIVERY_LINGER_MS"]


class Outbox(Pipeline):
    name = "outbox"
    script = os.path.join(BENCH, "peers", "outbox_poller.py")

    def conninfo(self):
        return self.cluster.conninfo + " application_name=outbox_poller"

    def prepare(self):
        subprocess.run([PYTHON, self.script, "install", "--conninfo", self.cluster.conninfo, "--lanes", str(LANES)],
                       check=True)

    def start(self):
        self.proc = subprocess.Popen([PYTHON, self.script, "run", "--conninfo", self.conninfo(),
                                      "--url", self.mock.url("/webhook"), "--lanes", str(LANES), "--batch", str(BATCH),
                                      "--poll-ms", "5"], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.work, "outbox.log"), "ab"))
        wait_until(lambda: len(self.server_pids()) == LANES, 30, "the outbox pollers")

    def server_pids(self):
        return [r[0] for r in self.cluster.query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'outbox_poller'")]


class Node(Pipeline):
    name = "node"
    slot = "node_wal2json"
    script = os.path.join(BENCH, "node", "wal2json_to_webhook.js")

    def prepare(self):
        self.cluster.query("SELECT 'x' FROM pg_create_logical_replication_slot(%s, 'wal2json')", (self.slot,))

    def start(self):
        self.proc = subprocess.Popen(["node", *NODE_FLAGS, self.script, "--host", self.cluster.dir, "--port", str(self.cluster.port),
                                      "--slot", self.slot, "--url", self.mock.url("/webhook"), "--batch", str(BATCH),
                                      "--linger-ms", "5", "--lanes", str(LANES)],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.work, "node.log"), "ab"))
        wait_until(lambda: self.slot_pid(self.slot), 30, "the node peer to stream")

    def server_pids(self):
        return self.slot_pid(self.slot)


PIPELINES = {"crmsync": Crmsync, "crmsync_linger1": CrmsyncLinger1, "outbox": Outbox, "node": Node}


class Environment:
    """A fresh cluster, mock CRM and pipeline."""

    def __init__(self, kind, port):
        self.work = tempfile.mkdtemp(prefix=f"crmsync-e2e-{kind}-")
        self.cluster = BenchCluster(port)
        self.cluster.start()
        self.cluster.query(SCHEMA)
        self.mock = MockCrm(self.work)
        self.mock.start()
        self.pipeline = PIPELINES[kind](self.cluster, self.mock, self.work)
        self.pipeline.prepare()
        self.pipeline.start()
        self.next_id = 1

    def delivered(self):
        return self.mock.stats()["records"]["upserted"]

    def close(self):
        self.pipeline.stop()
        self.mock.stop()
        self.cluster.stop()
        shutil.rmtree(self.work, ignore_errors=True)


# --- load and measurement -----------------------------------------------------------------

INSERT = ("INSERT INTO contacts (id, email, first_name, last_name, score, active, updated_at, tags, notes) "
          "SELECT g, 'u' || g || '@example.com', 'F' || g, 'L' || g, g / 3.0, true, now(), ARRAY['a','b'], 'n' "
          "FROM generate_series(%s, %s) g")


class Loader:
    """Commits rows_per_txn-row insert transactions over `connections` connections (threads;
    psycopg2 releases the GIL while a statement runs), paced to `rate` rows/s in total (None:
    as fast as they can). Its backends' CPU is the write path's cost, triggers included."""

    def __init__(self, env, connections=1):
        self.env = env
        self.conns = [env.cluster.connect() for _ in range(connections)]
        self.backends = [c.get_backend_pid() for c in self.conns]

    def run(self, rate, seconds, rows_per_txn):
        env = self.env
        n = len(self.conns)
        start_id = env.next_id
        t0 = time.monotonic()
        counts = [0] * n

        def work(k):
            cur = self.conns[k].cursor()
            i = k
            while True:
                now = time.monotonic()
                if now - t0 >= seconds:
                    break
                if rate:
                    due = t0 + i * rows_per_txn / rate
                    if due > now:
                        time.sleep(due - now)
                        if time.monotonic() - t0 >= seconds:
                            break
                lo = start_id + i * rows_per_txn
                cur.execute(INSERT, (lo, lo + rows_per_txn - 1))
                counts[k] += 1
                i += n

        threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        # Every id below the highest slot taken is used or skipped; ids stay unique either way.
        env.next_id = start_id + (max(k + n * (c - 1) for k, c in enumerate(counts)) + 1) * rows_per_txn \
            if any(counts) else start_id
        return sum(counts) * rows_per_txn, elapsed

    def cpu_seconds(self):
        return sum(proc_cpu_seconds(p) for p in self.backends)

    def close(self):
        for c in self.conns:
            c.close()


class Sampler(threading.Thread):
    """Every `interval` s: client RSS (sum over its processes) and optionally a callback."""

    def __init__(self, pipeline, interval=0.5, each=None):
        super().__init__(daemon=True)
        self.pipeline, self.interval, self.each = pipeline, interval, each
        self.max_rss = 0.0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            rss = sum(proc_rss_mb(p) for p in self.pipeline.client_pids())
            self.max_rss = max(self.max_rss, rss)
            if self.each:
                self.each(rss)
            self.done.wait(self.interval)

    def stop(self):
        self.done.set()
        self.join()
        return self.max_rss


def cpu_of(pids):
    return sum(proc_cpu_seconds(p) for p in pids)


def wait_delivered(env, target, timeout):
    """Seconds until the CRM holds `target` events, or None after `timeout`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if env.delivered() >= target:
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


SWEEP_FIELDS = ["pipeline", "phase", "target_per_s", "rows_per_txn", "seconds", "offered_per_s", "delivered_per_s",
                "sustained", "drain_s", "backlog_at_end", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms",
                "client_cpu_pct", "server_cpu_pct", "writer_cpu_pct", "host_cores", "client_rss_mb",
                "duplicates", "order_violations"]


def measure(env, loader, phase, rate, seconds, rows_per_txn, max_wait_s):
    """One load window; returns a row for e2e_sweep.csv."""
    env.mock.reset()
    p = env.pipeline
    client, server = p.client_pids(), p.server_pids()
    cpu0, srv0, wr0 = cpu_of(client), cpu_of(server), loader.cpu_seconds()
    sampler = Sampler(p)
    sampler.start()
    host = HostCpu()
    host.start()
    written, elapsed = loader.run(rate, seconds, rows_per_txn)
    host_cores = host.stop()
    at_end = env.delivered()
    drained = wait_delivered(env, written, max_wait_s)
    cpu, srv, wr = cpu_of(client) - cpu0, cpu_of(server) - srv0, loader.cpu_seconds() - wr0
    rss = sampler.stop()
    stats = env.mock.stats()
    lat = stats["latency_ms"]
    offered = written / elapsed
    # Kept up: by the end of the window the CRM had >= 95 % of what was committed (the rest
    # is in flight), and (paced) the writer achieved >= 95 % of the rate.
    sustained = drained is not None and at_end >= 0.95 * written and (not rate or offered >= 0.95 * rate)
    row = dict(pipeline=p.name, phase=phase, target_per_s=rate or "", rows_per_txn=rows_per_txn,
               seconds=f"{elapsed:.1f}", offered_per_s=f"{offered:.0f}", delivered_per_s=f"{at_end / elapsed:.0f}",
               sustained="yes" if sustained else "no", drain_s=f"{drained:.2f}" if drained is not None else "",
               backlog_at_end=written - at_end, p50_ms=lat["p50"], p95_ms=lat["p95"], p99_ms=lat["p99"],
               max_ms=lat["max"], mean_ms=f"{lat['mean']:.2f}", client_cpu_pct=f"{100 * cpu / elapsed:.1f}",
               server_cpu_pct=f"{100 * srv / elapsed:.1f}", writer_cpu_pct=f"{100 * wr / elapsed:.1f}",
               host_cores=f"{host_cores:.2f}", client_rss_mb=f"{rss:.1f}",
               duplicates=stats["records"]["duplicates"], order_violations=stats["records"]["order_violations"])
    log(f"  {p.name:8} {phase:6} target {rate or 'max':>6}/s: offered {offered:7.0f}/s, delivered "
        f"{at_end / elapsed:7.0f}/s, p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.0f} ms, "
        f"client CPU {100 * cpu / elapsed:.0f} %, RSS {rss:.0f} MB, {'sustained' if sustained else 'NOT sustained'}"
        + ("" if drained is not None else f" (backlog {written - env.delivered()} after {max_wait_s} s)"))
    return row, drained is not None


def replay(env, events, max_wait_s):
    """Backlog written with the pipeline stopped, then delivered: the pipeline's capacity."""
    p = env.pipeline
    env.mock.reset()
    p.stop()
    loader = Loader(env)
    cur = loader.conns[0].cursor()
    start_id = env.next_id
    while env.next_id - start_id < events:
        cur.execute(INSERT, (env.next_id, env.next_id + 999))
        env.next_id += 1000
    loader.close()
    written = env.next_id - start_id
    t0 = time.monotonic()
    p.start()
    client = p.client_pids()
    cpu0 = cpu_of(client)
    sampler = Sampler(p)
    sampler.start()
    drained = wait_delivered(env, written, max_wait_s)
    elapsed = time.monotonic() - t0
    cpu = cpu_of(client) - cpu0
    rss = sampler.stop()
    delivered = env.delivered()
    lat = env.mock.stats()["latency_ms"]
    rate = delivered / elapsed
    log(f"  {p.name:8} replay {written} events: {rate:.0f}/s, client CPU {100 * cpu / elapsed:.0f} %, RSS {rss:.0f} MB"
        + ("" if drained is not None else f" (gave up after {max_wait_s} s, {written - delivered} left)"))
    return dict(pipeline=p.name, phase="replay", rows_per_txn=1000, seconds=f"{elapsed:.1f}",
                offered_per_s="", delivered_per_s=f"{rate:.0f}", sustained="",
                drain_s=f"{drained:.2f}" if drained is not None else "", backlog_at_end=max(0, written - delivered),
                p50_ms=lat["p50"], p95_ms=lat["p95"], p99_ms=lat["p99"], max_ms=lat["max"],
                mean_ms=f"{lat['mean']:.2f}", client_cpu_pct=f"{100 * cpu / elapsed:.1f}", client_rss_mb=f"{rss:.1f}")


def run_pipeline(kind, args, sweep_csv, port):
    env = Environment(kind, port)
    try:
        loader = Loader(env, args.loader_connections)
        failed_at = None
        for rate in [int(r) for r in args.rates.split(",")]:
            if failed_at:
                sweep_csv.row(pipeline=kind, phase="sweep", target_per_s=rate, sustained="skipped")
                continue
            row, drained = measure(env, loader, "sweep", rate, args.seconds, max(10, rate // 1000), args.max_wait_s)
            sweep_csv.row(**row)
            if row["sustained"] != "yes":
                failed_at = rate
            if not drained:
                # A backlog left behind would pollute the next phase: start over.
                loader.close()
                env.close()
                env = Environment(kind, port)
                loader = Loader(env, args.loader_connections)
        if env.pipeline.sweep_only:
            loader.close()
            return
        row, drained = measure(env, loader, "max", None, args.max_seconds, 100, args.max_wait_s)
        sweep_csv.row(**row)
        loader.close()
        if not drained:
            env.close()
            env = Environment(kind, port)
        if args.replay_events:
            sweep_csv.row(**replay(env, args.replay_events, args.max_wait_s * 2))
        if args.profile and kind == "crmsync":
            profile_crmsync(env, args)
    finally:
        env.close()


def profile_crmsync(env, args):
    """perf on the sender and its walsender during a paced 10k/s window."""
    log("  crmsync  profiling sender and walsender at 10000/s (perf record -g)")
    loader = Loader(env)
    p = env.pipeline
    perf = PerfRecording(args.out, [
        ("e2e_sender", p.proc.pid, "crmsync-sender at 10000 events/s"),
        ("e2e_walsender", p.server_pids()[0], "walsender (crmsync plugin) at 10000 events/s"),
        ("e2e_writer", loader.backends[0], "the loader's backend (the write path) at 10000 events/s")])
    loader.run(10000, args.seconds, 10)
    perf.stop()
    loader.close()


def outage(args, port):
    """Sender memory while the CRM is down: sampled every second, with slot lag."""
    env = Environment("crmsync", port)
    timeline = CsvOut(os.path.join(args.out, "e2e_outage.csv"),
                      ["t_s", "crm_down", "sender_rss_mb", "sender_cpu_pct", "slot_lag_mb", "delivered"])
    try:
        p = env.pipeline
        pid = p.proc.pid
        state = {"down": False, "t0": time.monotonic(), "cpu": proc_cpu_seconds(pid), "at": time.monotonic()}
        monitor = env.cluster.connect().cursor()

        def sample(rss):
            now = time.monotonic()
            cpu = proc_cpu_seconds(pid)
            monitor.execute("SELECT (pg_current_wal_lsn() - confirmed_flush_lsn) / 1048576.0 FROM pg_replication_slots "
                            "WHERE slot_name = %s", (Crmsync.slot,))
            lag = float(monitor.fetchone()[0])
            timeline.row(t_s=f"{now - state['t0']:.1f}", crm_down=int(state["down"]), sender_rss_mb=f"{rss:.1f}",
                         sender_cpu_pct=f"{100 * (cpu - state['cpu']) / max(now - state['at'], 1e-6):.1f}",
                         slot_lag_mb=f"{lag:.2f}", delivered=env.delivered())
            state["cpu"], state["at"] = cpu, now

        sampler = Sampler(p, interval=1.0, each=sample)
        sampler.start()
        loader = Loader(env)
        rate, before, after = args.outage_rate, args.outage_around_s, args.outage_around_s
        log(f"  crmsync  outage: {rate}/s, CRM up {before} s, down {args.outage_s} s, up again")
        written, _ = loader.run(rate, before, 10)
        env.mock.faults(down=True)
        state["down"] = True
        w, _ = loader.run(rate, args.outage_s, 10)
        written += w
        env.mock.faults(down=False)
        state["down"] = False
        recovered_at = time.monotonic()
        w, _ = loader.run(rate, after, 10)
        written += w
        caught_up = wait_delivered(env, written, args.max_wait_s * 2)
        catch_up_s = time.monotonic() - recovered_at if caught_up is not None else None
        time.sleep(2)
        sampler.stop()
        loader.close()
        stats = env.mock.stats()["records"]
        log(f"  crmsync  outage: {written} events written, {stats['upserted']} delivered, caught up "
            f"{catch_up_s:.1f} s after the CRM came back" if catch_up_s is not None else "  crmsync  outage: NOT caught up")
        with open(os.path.join(args.out, "e2e_outage_summary.csv"), "w") as f:
            f.write("rate_per_s,down_s,written,delivered,duplicates,catch_up_s\n")
            f.write(f"{rate},{args.outage_s},{written},{stats['upserted']},{stats['duplicates']},"
                    f"{'' if catch_up_s is None else f'{catch_up_s:.1f}'}\n")
    finally:
        timeline.close()
        env.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--pipelines", default="crmsync,crmsync_linger1,outbox,node")
    parser.add_argument("--rates", default="1000,5000,10000,20000,50000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--max-seconds", type=float, default=15)
    parser.add_argument("--max-wait-s", type=float, default=30, help="give up waiting for delivery after this")
    parser.add_argument("--replay-events", type=int, default=200000)
    parser.add_argument("--outage-s", type=float, default=60)
    parser.add_argument("--outage-around-s", type=float, default=10)
    parser.add_argument("--outage-rate", type=int, default=5000)
    parser.add_argument("--loader-connections", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--port", type=int, default=56632)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sweep_csv = CsvOut(os.path.join(args.out, "e2e_sweep.csv"), SWEEP_FIELDS)
    try:
        for kind in args.pipelines.split(","):
            log(f"e2e: {kind}")
            run_pipeline(kind, args, sweep_csv, args.port)
        if "crmsync" in args.pipelines.split(",") and args.outage_s > 0:
            log("e2e: crmsync with the CRM down")
            outage(args, args.port)
    finally:
        sweep_csv.close()


if __name__ == "__main__":
    main()
