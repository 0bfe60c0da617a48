"""What every benchmark script shares: a throwaway cluster tuned for measuring (on top of
tests/e2e/harness.py), /proc readings of CPU and memory, medians and CSV output.

Scripts run with Debian's /usr/bin/python3 (python3-psycopg2), as root or as a user who can
run initdb; the cluster itself always runs as the postgres user.
"""
import csv
import os
import shutil
import statistics
import subprocess
import sys
import time

BENCH = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import harness  # noqa: E402
from harness import Cluster, MockCrm, Sender, wait_until  # noqa: E402,F401

# Every output plugin a benchmark compares; Postgres 15.19+ loads only the ones named here.
PLUGINS = "pgoutput, test_decoding, crmsync, wal2json, decoderbufs, crmsync_bench_floor"


class BenchCluster(Cluster):
    """harness.Cluster with settings for measuring rather than for catching bugs: the
    Postgres default logical_decoding_work_mem (the tests make it tiny to force spilling),
    room for many slots, no checkpoints in the middle of a run, every peer plugin loadable.
    fsync stays off (tests/regress.conf): commits are not disk-bound on a shared machine,
    for every pipeline alike."""

    def __init__(self, port, autovacuum=True, extra=()):
        super().__init__(port)
        self.extra = list(extra)
        self.autovacuum = autovacuum

    def start(self):
        subprocess.run(harness._as_postgres([f"{harness.PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "-A",
                                             "trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                       check=True, capture_output=True)
        with open(os.path.join(ROOT, "tests", "regress.conf")) as f:
            conf = f.read()
        lines = [
            f"port = {self.port}", "listen_addresses = ''", f"unix_socket_directories = '{self.dir}'",
            f"output_plugin_libraries = '{PLUGINS}'",
            "logical_decoding_work_mem = 64MB", "shared_buffers = 512MB", "max_wal_size = 16GB",
            "checkpoint_timeout = 1h", "max_replication_slots = 64", "max_wal_senders = 16",
            "wal_sender_timeout = 60s", f"autovacuum = {'on' if self.autovacuum else 'off'}",
        ] + self.extra
        conf += "\n" + "\n".join(lines) + "\n"
        subprocess.run(harness._as_postgres(["tee", "-a", os.path.join(self.data, "postgresql.conf")]), input=conf,
                       text=True, check=True, capture_output=True)
        self.pg_ctl("start")

    def psql_args(self):
        return ["-h", self.dir, "-p", str(self.port), "-U", "postgres", "-d", "postgres"]


def proc_cpu_seconds(pid):
    """User + system CPU of a process so far (children excluded)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def tree_pids(pid):
    """pid and all its descendants (node's helper threads are threads, but npm-style launchers fork)."""
    pids, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as f:
                children = [int(c) for c in f.read().split()]
        except FileNotFoundError:
            children = []
        pids += children
        frontier += children
    return pids


class HostCpu:
    """Whole-machine busy fraction between start() and stop(), in cores (2.0 = both cores busy)."""

    @staticmethod
    def _read():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    def start(self):
        self.t0 = time.monotonic()
        self.busy0, self.total0 = self._read()

    def stop(self):
        busy, total = self._read()
        jiffies = total - self.total0
        return os.cpu_count() * (busy - self.busy0) / jiffies if jiffies else 0.0


def median(values):
    return statistics.median(values) if values else float("nan")


class CsvOut:
    """Appends rows to a CSV, writing the header once; flushes each row so a crash keeps data."""

    def __init__(self, path, fields):
        self.fields = fields
        new = not os.path.exists(path)
        self.file = open(path, "a", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=fields)
        if new:
            self.writer.writeheader()

    def row(self, **values):
        self.writer.writerow({k: values.get(k, "") for k in self.fields})
        self.file.flush()

    def close(self):
        self.file.close()


def write_perf_report(data, path, title):
    """Self time by DSO and symbol, then inclusive time by symbol, as plain text."""
    import re

    def report(*extra):
        text = subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none", *extra],
                              capture_output=True, text=True).stdout
        lines = []
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            lines.append(re.sub(r"(\s+-)+\s*$", "", line).rstrip())
        return "\n".join(lines)

    with open(path, "w") as f:
        f.write(f"# {title}\n# perf record -F 999 -g; self time by DSO and symbol (>= 0.7 %):\n")
        f.write(report("--no-children", "--sort", "dso,symbol", "--percent-limit", "0.7") + "\n")
        f.write("\n# inclusive time (self + callees) by symbol (>= 3 %):\n")
        f.write(report("--children", "--sort", "symbol", "--percent-limit", "3") + "\n")


class PerfRecording:
    """`perf record -g` attached to running processes until stop(); then one report per process."""

    def __init__(self, out_dir, targets):
        import tempfile
        self.out_dir = out_dir
        self.runs = []
        for name, pid, title in targets:
            data = os.path.join(tempfile.mkdtemp(prefix="crmsync-perf-"), "perf.data")
            proc = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(pid), "-o", data],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.runs.append((name, proc, data, title))

    def stop(self):
        import signal
        for _, proc, _, _ in self.runs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for name, proc, data, title in self.runs:
            proc.wait(60)
            write_perf_report(data, os.path.join(self.out_dir, f"profile_{name}.txt"), title)
            shutil.rmtree(os.path.dirname(data), ignore_errors=True)


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)
