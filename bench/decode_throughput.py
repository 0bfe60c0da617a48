#!/usr/bin/python3
"""Decode throughput: the same WAL decoded by crmsync (each format) and its peers, through
the SQL interface (pg_logical_slot_peek_changes) and through the streaming replication
protocol (pg_recvlogical to /dev/null with --endpos), medians of several runs, round robin.

The WAL: three tables, each loaded after its own set of slots was created, so a slot
created for a table decodes exactly that table's changes (upto / endpos = the LSN after
its load):
  crm     13 columns: text, numeric, bool, timestamptz, text[], jsonb (a CRM contact)
  narrow  3 columns (id, email, updated_at)
  wide    60 columns (text, int, numeric, bool, timestamptz in turn)
Changes are 70 % inserts, 25 % updates, 5 % deletes, committed TXN_ROWS per transaction.

Peers: pgoutput (text and binary mode), wal2json format 1 and 2, test_decoding,
decoderbufs (protobuf), and the floor plugin bench/floor_plugin (deforms tuples, writes
nothing: what Postgres' decoding machinery costs by itself; as floor_message it also sends a
2-byte message per change: the ceiling for any plugin that sends one message per change; as
floor_message_sized each message is as long as crmsync webhook's are on average for that table,
which shows what the length of a message adds to that ceiling).

Usage: bench/decode_throughput.py --out DIR [--changes crm=500000,narrow=450000,wide=50000] [--runs 3]
       [--modes peek,stream] [--variants ...] [--profile crmsync_webhook,pgoutput]
Writes DIR/decode_raw.csv, decode_summary.csv, decode_bytes.csv (and profile_*.txt).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from benchlib import BenchCluster, CsvOut, harness, log, median, write_perf_report  # noqa: E402

WIDE_TYPES = ["text", "int", "numeric(14,2)", "bool", "timestamptz"]


def wide_columns():
    return [(f"c{i:02d}", WIDE_TYPES[(i - 1) % len(WIDE_TYPES)]) for i in range(1, 60)]


def wide_value(i, typ):
    return {"text": f"'value {i} ' || g", "int": f"g % {1000 + i}", "numeric(14,2)": f"(g % 100000) / {i + 2}.0",
            "bool": f"g % {i + 1} = 0", "timestamptz": f"timestamptz '2026-01-01' + g * interval '{i} seconds'"}[typ]


SHAPES = {
    "crm": {
        "ddl": """CREATE TABLE crm (id bigint PRIMARY KEY, email text NOT NULL, first_name text, last_name text,
                    company text, score numeric(12,2), active bool, created_at timestamptz, updated_at timestamptz,
                    tags text[], attrs jsonb, city text, phone text)""",
        "insert": """INSERT INTO crm SELECT g, 'user' || g || '@example.com', 'First' || g, E'M\\u00fcller ' || g,
                    'Company ' || (g % 1000), (g % 10000) / 3.0, g % 2 = 0, now(), now(), ARRAY['lead', 't' || (g % 10)],
                    jsonb_build_object('plan', 'pro', 'seats', g % 50, 'trial', g % 3 = 0), 'City ' || (g % 300),
                    '+1-555-' || g FROM generate_series({lo}, {hi}) g""",
        "update": """UPDATE crm SET score = score + 1, updated_at = now(), active = NOT active WHERE id BETWEEN {lo} AND {hi}""",
        "delete": "DELETE FROM crm WHERE id BETWEEN {lo} AND {hi}",
    },
    "narrow": {
        "ddl": "CREATE TABLE narrow (id bigint PRIMARY KEY, email text NOT NULL, updated_at timestamptz)",
        "insert": "INSERT INTO narrow SELECT g, 'u' || g || '@example.com', now() FROM generate_series({lo}, {hi}) g",
        "update": "UPDATE narrow SET updated_at = now() WHERE id BETWEEN {lo} AND {hi}",
        "delete": "DELETE FROM narrow WHERE id BETWEEN {lo} AND {hi}",
    },
    "wide": {
        "ddl": "CREATE TABLE wide (id bigint PRIMARY KEY, "
               + ", ".join(f"{n} {t}" for n, t in wide_columns()) + ")",
        "insert": "INSERT INTO wide SELECT g, " + ", ".join(wide_value(i, t) for i, (_, t) in enumerate(wide_columns(), 1))
                  + " FROM generate_series({lo}, {hi}) g",
        "update": "UPDATE wide SET c01 = c01 || 'u', c02 = c02 + 1, c05 = now() WHERE id BETWEEN {lo} AND {hi}",
        "delete": "DELETE FROM wide WHERE id BETWEEN {lo} AND {hi}",
    },
}

# name: (plugin, binary output, options). crmsync formats share a slot, as do wal2json's and pgoutput's.
VARIANTS = {
    "crmsync_webhook": ("crmsync", False, [("crm", "bench")]),
    "crmsync_hubspot": ("crmsync", False, [("crm", "bench"), ("format", "hubspot")]),
    "crmsync_salesforce": ("crmsync", False, [("crm", "bench"), ("format", "salesforce")]),
    # The webhook mapping plus a row filter every row passes (id > 0) and two computed
    # properties (EXPRESSIONS): what evaluating expressions per change costs
    # (docs/mapping.md, "Row filters", "Computed properties").
    "crmsync_expressions": ("crmsync", False, [("crm", "bench_expr")]),
    "pgoutput": ("pgoutput", True, [("proto_version", "1"), ("publication_names", "bench_pub")]),
    "pgoutput_binary": ("pgoutput", True, [("proto_version", "1"), ("publication_names", "bench_pub"), ("binary", "true")]),
    "wal2json_v1": ("wal2json", False, [("format-version", "1")]),
    "wal2json_v2": ("wal2json", False, [("format-version", "2")]),
    "test_decoding": ("test_decoding", False, []),
    "decoderbufs": ("decoderbufs", True, []),
    "floor": ("crmsync_bench_floor", False, []),
    # The floor plus one two-byte message per change: the ceiling for any plugin that sends
    # one message per change (crmsync's output format, docs/mapping.md: one JSON object per message; wal2json v2).
    "floor_message": ("crmsync_bench_floor", False, [("emit", "per-change")]),
    # The same with messages as long as crmsync webhook's mean for the table (measured after the load).
    "floor_message_sized": ("crmsync_bench_floor", False, [("emit", "per-change"), ("message-bytes", None)]),
}
BASELINE = "crmsync_webhook"


# Per shape, two computed properties over its columns, for crmsync_expressions.
EXPRESSIONS = {
    "crm": {"fullname": "first_name || ' ' || last_name", "email_lower": "lower(email)"},
    "narrow": {"email_lower": "lower(email)", "domain": "split_part(email, '@', 2)"},
    "wide": {"c01_lower": "lower(c01)", "c02_next": "c02 + 1"},
}


def expressions_mapping(shape):
    """Every column under its own name, as the plain mapping sends them, plus the computed
    properties and a row filter that every row passes."""
    computed = json.dumps({name: {"expr": expr} for name, expr in EXPRESSIONS[shape].items()}).replace("'", "''")
    return (f"SELECT crmsync.map('bench_expr', '{shape}', '{shape}', 'id', row_filter => 'id > 0', properties => "
            f"(SELECT jsonb_object_agg(attname, attname) FROM pg_attribute WHERE attrelid = '{shape}'::regclass "
            f"AND attnum > 0 AND NOT attisdropped) || '{computed}'::jsonb);")


def slot_name(shape, plugin):
    return f"s_{shape}_{plugin}"


def load_shape(cluster, shape, changes, txn_rows, variants):
    """Creates the shape's slots (one per plugin the variants use; crmsync's always, it
    marks where the load begins), writes its changes, returns the LSN after them."""
    spec = SHAPES[shape]
    for plugin in sorted({VARIANTS[v][0] for v in variants} | {"crmsync"}):
        cluster.query("SELECT 'x' FROM pg_create_logical_replication_slot(%s, %s)", (slot_name(shape, plugin), plugin))
    updates, deletes = changes // 4, changes // 20
    inserts = changes - updates - deletes
    conn = cluster.connect()
    cur = conn.cursor()
    t0 = time.monotonic()
    for kind, lo, hi in (("insert", 1, inserts), ("update", 1, updates), ("delete", inserts - deletes + 1, inserts)):
        for start in range(lo, hi + 1, txn_rows):
            cur.execute(spec[kind].format(lo=start, hi=min(start + txn_rows - 1, hi)))
    cur.execute("SELECT pg_current_wal_lsn()::text, pg_size_pretty(pg_current_wal_lsn() - %s::pg_lsn)",
                (cluster.query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s",
                               (slot_name(shape, "crmsync"),))[0][0],))
    end_lsn, wal_size = cur.fetchone()
    conn.close()
    log(f"  {shape}: {changes} changes ({inserts} inserts, {updates} updates, {deletes} deletes), "
        f"{wal_size} of WAL in {time.monotonic() - t0:.0f} s")
    return end_lsn


# Per shape: crmsync webhook's mean message length, for floor_message_sized's None.
MESSAGE_BYTES = {}


def variant_options(shape, variant):
    return [(k, MESSAGE_BYTES[shape] if v is None else v) for k, v in VARIANTS[variant][2]]


def measure_message_bytes(cluster, shape, end_lsn):
    """crmsync webhook's mean message length over the shape's changes (commit markers included)."""
    _, _, options = VARIANTS[BASELINE]
    args = ", ".join(f"'{k}', '{v}'" for k, v in options)
    return cluster.query(f"SELECT round(avg(octet_length(data)))::int FROM pg_logical_slot_peek_changes("
                         f"'{slot_name(shape, VARIANTS[BASELINE][0])}', '{end_lsn}', NULL, {args})")[0][0]


def peek_call(shape, variant, end_lsn):
    plugin, binary, _ = VARIANTS[variant]
    options = variant_options(shape, variant)
    fn = "pg_logical_slot_peek_binary_changes" if binary else "pg_logical_slot_peek_changes"
    args = ", ".join(f"'{k}', '{v}'" for k, v in options)
    return f"{fn}('{slot_name(shape, plugin)}', '{end_lsn}', NULL{', ' + args if args else ''})"


def time_peek(cluster, shape, variant, end_lsn):
    """Seconds, and the output volume: every plugin pays the same small sum(octet_length)."""
    conn = cluster.connect()
    cur = conn.cursor()
    t0 = time.monotonic()
    cur.execute(f"SELECT count(*), coalesce(sum(octet_length(data)), 0) FROM {peek_call(shape, variant, end_lsn)}")
    rows, size = cur.fetchone()
    seconds = time.monotonic() - t0
    conn.close()
    return seconds, (rows, size)


def recvlogical_cmd(cluster, slot, shape, variant, end_lsn):
    options = variant_options(shape, variant)
    cmd = [f"{harness.PG_BIN}/pg_recvlogical", *cluster.psql_args(), "--slot", slot, "--start", "--no-loop",
           "--endpos", end_lsn, "-f", "/dev/null", "-s", "10"]
    for k, v in options:
        cmd += ["-o", f"{k}={v}"]
    return cmd


def copy_slot(cluster, shape, variant):
    """Streaming confirms what it received and so advances its slot; each run streams from a
    fresh copy of the shape's slot, which starts exactly where the original does."""
    plugin = VARIANTS[variant][0]
    copy = f"c_{shape}_{plugin}"
    cluster.query("SELECT 'x' FROM pg_copy_logical_replication_slot(%s, %s)", (slot_name(shape, plugin), copy))
    return copy


def drop_slot(cluster, slot):
    harness.wait_until(lambda: cluster.query("SELECT NOT active FROM pg_replication_slots WHERE slot_name = %s",
                                             (slot,)) == [(True,)], 30, f"slot {slot} to be released")
    cluster.query("SELECT pg_drop_replication_slot(%s)", (slot,))


def time_stream(cluster, shape, variant, end_lsn):
    slot = copy_slot(cluster, shape, variant)
    try:
        t0 = time.monotonic()
        done = subprocess.run(recvlogical_cmd(cluster, slot, shape, variant, end_lsn), capture_output=True, text=True)
        seconds = time.monotonic() - t0
        if done.returncode != 0:
            raise RuntimeError(f"pg_recvlogical for {variant} failed: {done.stderr.strip()}")
        return seconds, None
    finally:
        drop_slot(cluster, slot)


def profile_stream(cluster, shape, variant, end_lsn, out_dir):
    """One streaming run with `perf record -g` attached to the walsender; writes the report."""
    slot = copy_slot(cluster, shape, variant)
    data = os.path.join(tempfile.mkdtemp(prefix="crmsync-perf-"), "perf.data")
    try:
        client = subprocess.Popen(recvlogical_cmd(cluster, slot, shape, variant, end_lsn), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        pid = harness.wait_until(lambda: (cluster.query("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s",
                                                        (slot,)) or [(None,)])[0][0], 30, "the walsender", 0.01)
        perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(pid), "-o", data],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client.wait()
        time.sleep(0.5)
        if perf.poll() is None:
            perf.send_signal(signal.SIGINT)
        perf.wait(60)
        write_perf_report(data, os.path.join(out_dir, f"profile_decode_{variant}.txt"),
                          f"walsender streaming {shape} changes to pg_recvlogical, plugin {variant}")
    finally:
        drop_slot(cluster, slot)
        shutil.rmtree(os.path.dirname(data), ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--changes", default="crm=500000,narrow=450000,wide=50000",
                        help="changes per table, shape=count,...")
    parser.add_argument("--txn-rows", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", default="peek,stream")
    parser.add_argument("--variants", default=",".join(v for v in VARIANTS if v != "pgoutput_binary"),
                        help="default: all but pgoutput_binary")
    parser.add_argument("--shapes", default="crm,narrow,wide")
    parser.add_argument("--profile", default="", help="variants to profile (streaming, crm table)")
    parser.add_argument("--port", type=int, default=56610)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    variants = args.variants.split(",")
    modes = args.modes.split(",")
    sizes = {k: int(v) for k, v in (pair.split("=") for pair in args.changes.split(","))}
    shapes = [s for s in args.shapes.split(",") if s in sizes]

    cluster = BenchCluster(args.port, autovacuum=False)
    cluster.start()
    try:
        ddl = ";\n".join(SHAPES[s]["ddl"] for s in shapes)
        maps = "\n".join(f"SELECT crmsync.map('bench', '{s}', '{s}', 'id'); " + expressions_mapping(s) for s in shapes)
        cluster.query(f"CREATE EXTENSION crmsync; {ddl}; {maps} CREATE PUBLICATION bench_pub FOR ALL TABLES;")
        log(f"decode: writing the WAL ({args.txn_rows} changes per transaction)")
        end_lsn = {}
        for shape in shapes:
            end_lsn[shape] = load_shape(cluster, shape, sizes[shape], args.txn_rows, variants)
        # Something after the last table, so that every stream sees a record past its endpos.
        cluster.query("CREATE TABLE after_the_load (x int); INSERT INTO after_the_load VALUES (1)")
        cluster.query("CHECKPOINT")
        if "floor_message_sized" in variants:
            for shape in shapes:
                MESSAGE_BYTES[shape] = measure_message_bytes(cluster, shape, end_lsn[shape])
                log(f"  {shape}: crmsync webhook's messages are {MESSAGE_BYTES[shape]} bytes on average")

        raw = CsvOut(os.path.join(args.out, "decode_raw.csv"), ["shape", "variant", "mode", "run", "changes", "seconds"])
        times, volumes = {}, {}
        for run in range(1, args.runs + 1):
            log(f"decode: run {run} of {args.runs}")
            # Round robin: a burst of load from other users of the machine hits every plugin alike.
            for shape in shapes:
                for variant in variants:
                    for mode in modes:
                        fn = time_peek if mode == "peek" else time_stream
                        seconds, volume = fn(cluster, shape, variant, end_lsn[shape])
                        if volume:
                            volumes[(shape, variant)] = volume
                        times.setdefault((shape, variant, mode), []).append(seconds)
                        raw.row(shape=shape, variant=variant, mode=mode, run=run, changes=sizes[shape],
                                seconds=f"{seconds:.4f}")
        raw.close()
        volume_csv = CsvOut(os.path.join(args.out, "decode_bytes.csv"),
                            ["shape", "variant", "changes", "output_rows", "output_bytes", "bytes_per_change"])
        for (shape, variant), (rows, size) in volumes.items():
            volume_csv.row(shape=shape, variant=variant, changes=sizes[shape], output_rows=rows, output_bytes=size,
                           bytes_per_change=f"{size / sizes[shape]:.1f}")
        volume_csv.close()

        summary = CsvOut(os.path.join(args.out, "decode_summary.csv"),
                         ["shape", "variant", "mode", "changes", "median_s", "changes_per_s", "vs_crmsync",
                          "crmsync_speedup"])
        print(f"{'shape':<7} {'variant':<19} {'mode':<6} {'median s':>9} {'changes/s':>11} {'÷ crmsync':>9}")
        for shape in shapes:
            for mode in modes:
                base = median(times.get((shape, BASELINE, mode), []))
                for variant in variants:
                    m = median(times[(shape, variant, mode)])
                    rate = sizes[shape] / m
                    summary.row(shape=shape, variant=variant, mode=mode, changes=sizes[shape], median_s=f"{m:.4f}",
                                changes_per_s=f"{rate:.0f}", vs_crmsync=f"{base / m:.3f}",
                                crmsync_speedup=f"{m / base:.3f}")
                    print(f"{shape:<7} {variant:<19} {mode:<6} {m:>9.3f} {rate:>11.0f} {base / m:>9.2f}")
        summary.close()

        for variant in filter(None, args.profile.split(",")):
            log(f"decode: profiling {variant} (perf, streaming, crm table)")
            profile_stream(cluster, "crm", variant, end_lsn["crm"], args.out)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
