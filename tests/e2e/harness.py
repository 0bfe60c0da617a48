"""End-to-end harness: a real Postgres cluster (Debian's 15, or CRMSYNC_PG_CONFIG's major)
with the crmsync plugin, the real crmsync-sender and the mock CRM (a real HTTP server on
loopback), all started here.

As root (CI), initdb and postgres run as the postgres user in a directory it owns.
"""
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import psycopg2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("CRMSYNC_BUILD_DIR", os.path.join(ROOT, "build"))
SENDER_BIN = os.path.join(BUILD, "sender", "crmsync-sender")
MOCK_BIN = os.path.join(BUILD, "tests", "mock_crm", "crmsync-mock-crm")
# The PostgreSQL major the clusters run: Debian's 15 unless CRMSYNC_PG_CONFIG names another
# (tests/run_majors.sh, with the plugin installed there).
PG_CONFIG = os.environ.get("CRMSYNC_PG_CONFIG", "pg_config")
PG_BIN = subprocess.run([PG_CONFIG, "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
PG_MAJOR = int(subprocess.run([PG_CONFIG, "--version"], capture_output=True, text=True, check=True)
               .stdout.split()[1].split(".")[0])


def wait_until(predicate, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            # `what` may be a callable, so that what it reports (a log tail) is from now.
            raise AssertionError(f"timed out after {timeout}s waiting for {what() if callable(what) else what}")
        time.sleep(interval)


def _as_postgres(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


class Cluster:
    def __init__(self, port):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="crmsync-e2e-pg-")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")

    def start(self):
        subprocess.run(_as_postgres([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                                     "-E", "UTF8", "--locale=C.UTF-8"]),
                       check=True, capture_output=True)
        with open(os.path.join(ROOT, "tests", "regress.conf")) as f:
            conf = f.read()
        conf += (f"\nport = {self.port}\nlisten_addresses = ''\nunix_socket_directories = '{self.dir}'\n"
                 "logical_decoding_work_mem = 4MB\nwal_sender_timeout = 20s\n")
        subprocess.run(_as_postgres(["tee", "-a", os.path.join(self.data, "postgresql.conf")]), input=conf,
                       text=True, check=True, capture_output=True)
        self.pg_ctl("start")

    def start_standby_of(self, primary, slot):
        """A physical standby of `primary` streaming through its physical slot `slot`, with
        logical slot synchronisation on (PostgreSQL 17+: failover slots are kept here)."""
        subprocess.run(_as_postgres([f"{PG_BIN}/pg_basebackup", "-D", self.data, "-X", "stream", "-c", "fast",
                                     "-d", primary.conninfo]), check=True, capture_output=True)
        conf = (f"\nport = {self.port}\nunix_socket_directories = '{self.dir}'\n"
                f"primary_conninfo = '{primary.conninfo} application_name={slot}'\n"
                f"primary_slot_name = '{slot}'\nhot_standby_feedback = on\nsync_replication_slots = on\n")
        subprocess.run(_as_postgres(["tee", "-a", os.path.join(self.data, "postgresql.conf")]), input=conf,
                       text=True, check=True, capture_output=True)
        subprocess.run(_as_postgres(["touch", os.path.join(self.data, "standby.signal")]), check=True)
        self.pg_ctl("start")

    def promote(self):
        self.pg_ctl("promote")

    def pg_ctl(self, action, *extra):
        subprocess.run(_as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60",
                                     *extra, action]), check=True, capture_output=True)

    def restart(self):
        self.pg_ctl("restart", "-m", "fast")

    def stop(self):
        try:
            self.pg_ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def conninfo(self):
        return f"host={self.dir} port={self.port} dbname=postgres user=postgres"

    def connect(self):
        conn = psycopg2.connect(self.conninfo)
        conn.autocommit = True
        return conn

    def drop_slot(self, name):
        """Drops a slot once its walsender is gone: a stopped sender's walsender exits a moment
        after the sender does, and dropping an active slot is an error."""
        wait_until(lambda: self.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = %s AND active",
                                      (name,)) == [(0,)], 30, f"replication slot {name} to be released")
        self.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                   (name,))

    def query(self, sql, params=None):
        # No "with conn": psycopg2 would wrap the statement in a transaction block.
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()


class MockCrm:
    def __init__(self, workdir, token=None, state_file=None, declare_schema=True, latency="0", quotas=False,
                 port=None, quiet=True, extra_args=()):
        """latency: --latency ("0" = none, None = the mock's realistic default); quotas: keep the
        mock's HubSpot/Salesforce API quotas (off unless a test wants them)."""
        self.declare_schema = declare_schema
        self.latency = latency
        self.quotas = quotas
        self.port_file = os.path.join(workdir, "mock.port")
        self.log_path = os.path.join(workdir, "mock.log")
        self.token = token
        self.state_file = state_file
        self.proc = None
        self.port = port
        self.quiet = quiet
        self.extra_args = list(extra_args)

    def start(self):
        """Starts on a free port, or on the same port again after a restart."""
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        args = [MOCK_BIN, "--listen", f"127.0.0.1:{self.port or 0}", "--port-file", self.port_file,
                "--seed", "7"] + (["--quiet"] if self.quiet else []) + self.extra_args
        if self.latency is not None:
            args += ["--latency", self.latency]
        if not self.quotas:
            args += ["--hubspot-per-10s", "0", "--hubspot-daily", "0", "--salesforce-daily", "0"]
        if self.token:
            args += ["--token", self.token]
        if self.state_file:
            args += ["--state-file", self.state_file]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.log_path, "ab"))
        wait_until(lambda: os.path.exists(self.port_file), 10, "the mock CRM to listen")
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        if self.declare_schema:
            # What a user sets up in the CRM before syncing (scenario.CRM_SCHEMA); after a
            # restart with a state file the schema is still there and creating it again conflicts.
            from scenario import declare_crm_schema
            declare_crm_schema(self)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def restart(self, down_seconds=0):
        """A clean stop (the state file keeps the CRM's data), some downtime, a start."""
        self.stop()
        assert self.proc.returncode == 0, f"mock CRM exited {self.proc.returncode}"
        time.sleep(down_seconds)
        self.start()

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def _call(self, path, body=None, auth=False):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url(path), data=data, method="POST" if data is not None else "GET",
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
            return json.loads(text) if text else None

    def create_hubspot_property(self, object_type, prop):
        """POST /crm/v3/properties/{object_type}; an existing property (409) is left as it is."""
        try:
            return self._call(f"/crm/v3/properties/{object_type}", prop, auth=True)
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise RuntimeError(f"creating HubSpot property {prop['name']}: {e.code} {e.read()!r}") from e

    def declare_salesforce_fields(self, sobject, fields):
        """The mock's stand-in for Setup: custom fields (and the custom object) exist after it."""
        return self._call("/_mock/salesforce/fields", {"sobject": sobject, "fields": fields})

    def state(self):
        return self._call("/_mock/state")

    def stats(self):
        return self._call("/_mock/stats")

    def faults(self, **settings):
        return self._call("/_mock/faults", settings)

    def reset(self):
        return self._call("/_mock/reset", {})


class Sender:
    def __init__(self, workdir, crm, fmt, conninfo, url, token_file=None, extra=""):
        self.config = os.path.join(workdir, f"{crm}.toml")
        self.log_path = os.path.join(workdir, f"sender-{crm}.log")
        token = f'token_file = "{token_file}"\n' if token_file else ""
        with open(self.config, "w") as f:
            f.write(f"""[source]
conninfo = "{conninfo}"
crm = "{crm}"
create_slot = true

[target]
format = "{fmt}"
url = "{url}"
{token}timeout_ms = 5000

[delivery]
linger_ms = 5
max_in_flight = 4
drain_timeout_ms = 10000
{extra}
""")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([SENDER_BIN, "run", "--config", self.config], stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path, "ab"))

    def backfill(self, tables=(), timeout=300):
        """`crmsync-sender backfill`: returns (exit status, stderr)."""
        args = [SENDER_BIN, "backfill", "--config", self.config]
        for table in tables:
            args += ["--table", table]
        done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout)
        return done.returncode, done.stderr

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout):
        return self.proc.wait(timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()
