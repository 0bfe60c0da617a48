#!/usr/bin/python3
"""Instructions per decoded change, counted by callgrind: each plugin's cost without the
machine's noise (single timed runs on shared cores move by up to 1.5x; instruction counts do
not move at all), for comparing two builds of the plugin or a plugin with its peers.

For each table shape of bench/decode_throughput.py: a throwaway cluster, the same mix of
changes written twice (two identical halves, LSN noted after each), the cluster stopped.
Then, per plugin, `postgres --single` under `valgrind --tool=callgrind` runs
pg_logical_slot_peek[_binary]_changes up to the end of the first half, and again up to the
end of the second: the difference, divided by the changes of one half, is what one more
change costs in that backend (decoding, the plugin, the output row), with start-up, catalog
loading and the first-use costs of the plugin left out. "own" is the part counted in the
plugin's shared library (crmsync.so, pgoutput.so, wal2json.so, ...).

Usage: bench/plugin_instructions.py [--shapes crm,narrow] [--changes 10000]
       [--variants crmsync_webhook,pgoutput,wal2json_v2,floor,floor_message] [--out DIR]
Needs root (the cluster runs as the postgres user), valgrind, and the plugins installed
(bench/run_all.sh does both). Writes DIR/plugin_instructions.csv when --out is given.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from benchlib import BenchCluster, CsvOut, log  # noqa: E402
import harness  # noqa: E402

import decode_throughput as decode  # noqa: E402

TXN_ROWS = 500
LIBRARY = {"crmsync": "crmsync.so", "pgoutput": "pgoutput.so", "wal2json": "wal2json.so",
           "test_decoding": "test_decoding.so", "decoderbufs": "decoderbufs.so",
           "crmsync_bench_floor": "crmsync_bench_floor.so"}


def write_half(cur, spec, first_id, changes):
    """decode_throughput's mix (70 % inserts, 25 % updates, 5 % deletes) on ids from first_id."""
    updates, deletes = changes // 4, changes // 20
    inserts = changes - updates - deletes
    last = first_id + inserts - 1
    for kind, lo, hi in (("insert", first_id, last), ("update", first_id, first_id + updates - 1),
                         ("delete", last - deletes + 1, last)):
        for start in range(lo, hi + 1, TXN_ROWS):
            cur.execute(spec[kind].format(lo=start, hi=min(start + TXN_ROWS - 1, hi)))
    cur.execute("SELECT pg_current_wal_lsn()::text")
    return cur.fetchone()[0]


def prepare(shape, changes, port, variants):
    cluster = BenchCluster(port, autovacuum=False)
    cluster.start()
    spec = decode.SHAPES[shape]
    cluster.query("CREATE EXTENSION crmsync; " + spec["ddl"] + f"; SELECT crmsync.map('bench', '{shape}', '{shape}', "
                  "'id'); " + decode.expressions_mapping(shape) + " CREATE PUBLICATION bench_pub FOR ALL TABLES")
    for plugin in sorted({decode.VARIANTS[v][0] for v in variants} | {"crmsync"}):
        cluster.query("SELECT 'x' FROM pg_create_logical_replication_slot(%s, %s)",
                      (decode.slot_name(shape, plugin), plugin))
    conn = cluster.connect()
    cur = conn.cursor()
    half_end = write_half(cur, spec, 1, changes)
    end = write_half(cur, spec, 10_000_000, changes)
    conn.close()
    cluster.pg_ctl("stop")
    return cluster, half_end, end


def count(cluster, shape, variant, upto, workdir):
    """Instructions of one single-user peek up to `upto`: (total, in the plugin's library)."""
    plugin, binary, options = decode.VARIANTS[variant]
    fn = "pg_logical_slot_peek_binary_changes" if binary else "pg_logical_slot_peek_changes"
    args = "".join(f", '{k}', '{v}'" for k, v in options)
    sql = f"SELECT count(*) FROM {fn}('{decode.slot_name(shape, plugin)}', '{upto}', NULL{args});\n"
    out = os.path.join(workdir, f"callgrind.{variant}.{upto.replace('/', '_')}")
    cmd = harness._as_postgres(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                f"{harness.PG_BIN}/postgres", "--single", "-D", cluster.data,
                                "-c", f"port={cluster.port}", "postgres"])
    run = subprocess.run(cmd, input=sql, text=True, capture_output=True)
    if run.returncode != 0 or "ERROR" in run.stdout + run.stderr:
        sys.exit(f"{variant}: the single-user peek failed:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    report = subprocess.run(["callgrind_annotate", "--threshold=100", out], text=True, capture_output=True,
                            check=True).stdout
    total = int(re.search(r"^([\d,]+).*PROGRAM TOTALS", report, re.M).group(1).replace(",", ""))
    library = LIBRARY[plugin]
    own = sum(int(m.group(1).replace(",", "")) for m in re.finditer(r"^\s*([\d,]+) \([^)]*\)\s+\S.*\[[^\]]*/"
                                                                    + re.escape(library) + r"\]$", report, re.M))
    return total, own


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="crm,narrow")
    parser.add_argument("--changes", type=int, default=10000, help="changes per half")
    parser.add_argument("--variants", default="crmsync_webhook,pgoutput,wal2json_v2,floor,floor_message")
    parser.add_argument("--out")
    parser.add_argument("--port", type=int, default=56740)
    args = parser.parse_args()
    rows = []
    for shape in args.shapes.split(","):
        log(f"instructions: {shape}, {args.changes} changes per half")
        cluster, half_end, end = prepare(shape, args.changes, args.port, args.variants.split(","))
        try:
            with tempfile.TemporaryDirectory() as workdir:
                os.chmod(workdir, 0o777)
                for variant in args.variants.split(","):
                    t1, o1 = count(cluster, shape, variant, half_end, workdir)
                    t2, o2 = count(cluster, shape, variant, end, workdir)
                    per_change, own = (t2 - t1) / args.changes, (o2 - o1) / args.changes
                    rows.append(dict(shape=shape, variant=variant, instructions_per_change=round(per_change),
                                     own_per_change=round(own)))
                    log(f"  {variant:20} {per_change:8.0f} instructions per change, {own:6.0f} in "
                        f"{LIBRARY[decode.VARIANTS[variant][0]]}")
        finally:
            cluster.stop()
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        csv_out = CsvOut(os.path.join(args.out, "plugin_instructions.csv"),
                         ["shape", "variant", "instructions_per_change", "own_per_change"])
        for row in rows:
            csv_out.row(**row)
        csv_out.close()


if __name__ == "__main__":
    main()
