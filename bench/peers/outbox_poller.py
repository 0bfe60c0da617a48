#!/usr/bin/python3
"""Peer for bench/run_all.sh: the traditional staging pipeline.

A trigger on contacts writes each change, already shaped as a CRM record, into an outbox
table in the writing transaction; poller processes read the outbox in id order, POST
batches to the same mock CRM crmsync uses, and delete what the CRM accepted:

  --format webhook   crmsync-shaped webhook events ({"events":[...]}) to --url
  --format hubspot   HubSpot's batch upsert, POST <url>/crm/v3/objects/contacts/batch/upsert
                     {"inputs":[{"idProperty":"email","id":...,"properties":{...}}]}; the trigger
                     renders the values as crmsync's hubspot format does (docs/mapping.md, "Type
                     rendering"); one input per change: no coalescing

Given its best settings: batches of --batch (crmsync's batch size), one poller per lane
(--lanes, crmsync's max_in_flight; a row's lane is a hash of its key, so per-key order
holds), a poll as soon as the previous batch is done, a --poll-ms sleep only when the
outbox is empty, persistent HTTP connections. The event's commit_time is the trigger's
clock_timestamp(), the closest a trigger gets to its transaction's commit.

HubSpot mode, as a competent hand-written client against HubSpot's documented API:
* HubSpot refuses a batch that names the same id twice (the mock does too), so a poll reads
  the oldest row of each contact in its lane and sends the 100 oldest of those; a contact's
  later rows wait for a later batch of that lane (sent only after the earlier one's 2xx, so
  per-key order holds). An index on (lane, key, id) serves that read.
* Pacing ("API usage guidelines and limits", https://developers.hubspot.com/docs/api/usage-details):
  every answer carries X-HubSpot-RateLimit-Max per X-HubSpot-RateLimit-Interval-Milliseconds;
  all pollers share one sliding window (shared memory) of that many requests, less one per
  lane (the margin crmsync-sender keeps), unpaced until the first answer. A poller reads its
  batch once the window has room, so the batch keeps filling while it waits.
* 429: Retry-After when given; otherwise (HubSpot sends none, its body names the policyName)
  every poller pauses 1 s, doubling per 429 in a row, at most 10 s (the rolling window); a
  DAILY policy waits for the next UTC midnight. 5xx and network errors: 100 ms doubling to 5 s.
  Any other answer is a bug here: the poller exits. Deletes are not implemented (the quota
  benchmark only updates): a delete row stops its poller rather than being skipped.
* The request carries X-Crmsync-Commit-Time, the batch's oldest row's time, as crmsync-sender
  sends its batch's oldest commit: the mock CRM's commit -> CRM latency.

Usage: outbox_poller.py install --conninfo C [--lanes 4] [--format webhook|hubspot]
       outbox_poller.py run --conninfo C --url URL [--lanes 4] [--batch 100] [--poll-ms 5]
                            [--format webhook|hubspot] [--token-file PATH]
"""
import argparse
import http.client
import json
import multiprocessing
import signal
import sys
import time
import urllib.parse

import psycopg2

INSTALL = """
CREATE TABLE crm_outbox (
    id         bigserial PRIMARY KEY,
    lane       int NOT NULL,
    object     text NOT NULL,
    key        text NOT NULL,
    action     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    record     jsonb
);
"""

# The crmsync mapping of contacts (tests/e2e/scenario.py), as a trigger would write it.
INSTALL_WEBHOOK = """
CREATE INDEX crm_outbox_lane ON crm_outbox (lane, id);
CREATE FUNCTION crm_outbox_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO crm_outbox (lane, object, key, action)
        VALUES (abs(hashtext(OLD.email)) % {lanes}, 'contacts', OLD.email, 'delete');
        RETURN OLD;
    END IF;
    INSERT INTO crm_outbox (lane, object, key, action, record)
    VALUES (abs(hashtext(NEW.email)) % {lanes}, 'contacts', NEW.email, 'upsert',
            jsonb_build_object('id', NEW.email, 'properties', jsonb_build_object(
                'email', NEW.email, 'firstname', NEW.first_name, 'lastname', NEW.last_name, 'score', NEW.score,
                'active', NEW.active, 'lastmodified', NEW.updated_at, 'tags', to_jsonb(NEW.tags), 'notes', NEW.notes)));
    RETURN NEW;
END $$;
CREATE TRIGGER crm_outbox AFTER INSERT OR UPDATE OR DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION crm_outbox_contacts();
"""

# The same mapping as HubSpot batch upsert inputs, every value a string as crmsync's hubspot
# format renders it: NULL "", bool "true"/"false", numeric its text with its scale, timestamptz
# UTC with milliseconds (truncated) and Z, a 1-D text[] its items joined with ';' (NULL items
# left out). The key is the email in lower case: HubSpot matches emails without regard to case.
INSTALL_HUBSPOT = """
CREATE INDEX crm_outbox_lane_key ON crm_outbox (lane, key, id);
CREATE FUNCTION crm_outbox_hubspot_timestamptz(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t IS NULL THEN ''
                WHEN NOT isfinite(t) THEN t::text
                ELSE to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END
$$;
CREATE FUNCTION crm_outbox_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO crm_outbox (lane, object, key, action)
        VALUES (abs(hashtext(lower(OLD.email))) % {lanes}, 'contacts', lower(OLD.email), 'delete');
        RETURN OLD;
    END IF;
    INSERT INTO crm_outbox (lane, object, key, action, record)
    VALUES (abs(hashtext(lower(NEW.email))) % {lanes}, 'contacts', lower(NEW.email), 'upsert',
            jsonb_build_object('idProperty', 'email', 'id', NEW.email, 'properties', jsonb_build_object(
                'email', coalesce(NEW.email, ''), 'firstname', coalesce(NEW.first_name, ''),
                'lastname', coalesce(NEW.last_name, ''), 'score', coalesce(NEW.score::text, ''),
                'active', coalesce(NEW.active::text, ''),
                'lastmodified', crm_outbox_hubspot_timestamptz(NEW.updated_at),
                'tags', coalesce(array_to_string(NEW.tags, ';'), ''), 'notes', coalesce(NEW.notes, ''))));
    RETURN NEW;
END $$;
CREATE TRIGGER crm_outbox AFTER INSERT OR UPDATE OR DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION crm_outbox_contacts();
"""

FETCH = """
SELECT id, action, object, key, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), record::text
FROM crm_outbox WHERE lane = %s ORDER BY id LIMIT %s
"""

# The oldest row of each contact in the lane, the oldest of those first.
FETCH_HUBSPOT = """
SELECT id, action, key, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), record::text
FROM (SELECT DISTINCT ON (key) id, action, key, created_at, record
      FROM crm_outbox WHERE lane = %s ORDER BY key, id) oldest_of_each_key
ORDER BY id LIMIT %s
"""

HUBSPOT_UPSERT = "/crm/v3/objects/contacts/batch/upsert"


def event_json(row):
    outbox_id, action, obj, key, commit_time, record = row
    # Event id (commit_lsn, seq): the outbox id stands in for the position in the stream.
    head = (f'{{"action":"{action}","object":{json.dumps(obj)},"key":{json.dumps(key)},'
            f'"commit_lsn":"0/{outbox_id:X}","seq":1,"commit_time":"{commit_time}"')
    return head + (f',"record":{record}}}' if record is not None else "}")


class SharedPacer:
    """HubSpot's request budget as one sliding window shared by the poller processes:
    X-HubSpot-RateLimit-Max (less one per lane) requests per -Interval-Milliseconds, learnt
    from the answers; unpaced until the first one. Send times live in shared memory."""

    SLOTS = 2000

    def __init__(self, lanes):
        self.lanes = lanes
        self.lock = multiprocessing.Lock()
        self.sent = multiprocessing.RawArray("d", self.SLOTS)
        self.max = multiprocessing.RawValue("i", 0)
        self.window_s = multiprocessing.RawValue("d", 10.0)
        self.paused_until = multiprocessing.RawValue("d", 0.0)
        self.http_429_in_a_row = multiprocessing.RawValue("i", 0)

    def learn(self, response):
        try:
            budget = int(response.getheader("X-HubSpot-RateLimit-Max") or 0)
            interval_ms = int(response.getheader("X-HubSpot-RateLimit-Interval-Milliseconds") or 0)
        except ValueError:
            return
        if budget > 0 and interval_ms > 0:
            with self.lock:
                self.max.value = min(self.SLOTS, max(1, budget - self.lanes))
                self.window_s.value = interval_ms / 1000

    def pause_after_429(self, retry_after_s, policy):
        with self.lock:
            wait = min(2.0 ** self.http_429_in_a_row.value, 10.0)
            self.http_429_in_a_row.value += 1
            if retry_after_s > 0:
                wait = retry_after_s
            elif policy == "DAILY":
                wait = 86400 - time.time() % 86400
            self.paused_until.value = max(self.paused_until.value, time.monotonic() + wait)

    def succeeded(self):
        self.http_429_in_a_row.value = 0

    def acquire(self):
        while True:
            with self.lock:
                now = time.monotonic()
                wait = self.paused_until.value - now
                if wait <= 0:
                    recent = sorted(t for t in self.sent if t > now - self.window_s.value)
                    budget = self.max.value
                    if not budget or len(recent) < budget:
                        oldest = min(range(self.SLOTS), key=self.sent.__getitem__)
                        self.sent[oldest] = now
                        return
                    wait = recent[len(recent) - budget] + self.window_s.value - now + 0.001
            time.sleep(max(0.001, wait))


def post(http_conn, path, body, headers, pacer=None, paid=False):
    """POST until a 2xx; a 4xx other than 429 ends the poller. With a pacer, every attempt
    takes a slot of the budget, but the first when `paid` (its slot already taken)."""
    delay = 0.1
    while True:
        if pacer and not paid:
            pacer.acquire()
        paid = False
        try:
            http_conn.request("POST", path, body, headers)
            response = http_conn.getresponse()
            text = response.read()
            if pacer:
                pacer.learn(response)
            if 200 <= response.status < 300:
                if pacer:
                    pacer.succeeded()
                return
            if response.status == 429 and pacer:
                try:
                    policy = json.loads(text).get("policyName", "")
                except (ValueError, AttributeError):
                    policy = ""
                try:
                    retry_after = float(response.getheader("Retry-After") or 0)
                except ValueError:
                    retry_after = 0
                pacer.pause_after_429(retry_after, policy)
                continue
            if response.status < 500 and response.status != 429:
                sys.exit(f"the CRM rejected a batch: {response.status} {text[:500]!r}")
        except (OSError, http.client.HTTPException):
            http_conn.close()
        time.sleep(delay)
        delay = min(delay * 2, 5)


def poll_lane(conninfo, url, lane, batch, poll_s, fmt, token, pacer):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    target = urllib.parse.urlsplit(url)
    conn = psycopg2.connect(conninfo)
    conn.autocommit = True
    cur = conn.cursor()
    http_conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    hubspot = fmt == "hubspot"
    path = (target.path.rstrip("/") + HUBSPOT_UPSERT) if hubspot else (target.path or "/")
    while True:
        if hubspot:
            cur.execute("SELECT EXISTS (SELECT FROM crm_outbox WHERE lane = %s)", (lane,))
            if not cur.fetchone()[0]:
                time.sleep(poll_s)
                continue
            pacer.acquire()  # the batch is read once the budget has room: it fills while waiting
            cur.execute(FETCH_HUBSPOT, (lane, batch))
        else:
            cur.execute(FETCH, (lane, batch))
        rows = cur.fetchall()
        if not rows:
            time.sleep(poll_s)
            continue
        if hubspot:
            if any(r[1] != "upsert" for r in rows):
                sys.exit("a delete of contacts: deletes are not implemented in hubspot mode (the quota load has none)")
            body = ('{"inputs":[' + ",".join(r[4] for r in rows) + "]}").encode()
            headers = {"Content-Type": "application/json", "X-Crmsync-Commit-Time": min(r[3] for r in rows)}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            post(http_conn, path, body, headers, pacer, paid=True)  # the slot taken above
        else:
            body = ('{"events":[' + ",".join(event_json(r) for r in rows) + "]}").encode()
            post(http_conn, path, body, {"Content-Type": "application/json"})
        # Exactly the rows sent: with concurrent writers, a lower id can commit after a higher
        # one was read, so "id <= last sent" would delete a row nobody delivered.
        cur.execute("DELETE FROM crm_outbox WHERE id = ANY(%s)", ([r[0] for r in rows],))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["install", "run"])
    parser.add_argument("--conninfo", required=True)
    parser.add_argument("--url")
    parser.add_argument("--format", choices=["webhook", "hubspot"], default="webhook")
    parser.add_argument("--token-file")
    parser.add_argument("--lanes", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--poll-ms", type=float, default=5)
    args = parser.parse_args()
    if args.format == "hubspot" and args.batch > 100:
        parser.error("HubSpot takes at most 100 inputs per batch")
    if args.command == "install":
        conn = psycopg2.connect(args.conninfo)
        conn.autocommit = True
        extra = INSTALL_HUBSPOT if args.format == "hubspot" else INSTALL_WEBHOOK
        conn.cursor().execute((INSTALL + extra).replace("{lanes}", str(args.lanes)))
        conn.close()
        return
    token = None
    if args.token_file:
        with open(args.token_file) as f:
            token = f.read().strip()
    pacer = SharedPacer(args.lanes) if args.format == "hubspot" else None
    workers = [multiprocessing.Process(target=poll_lane, args=(args.conninfo, args.url, lane, args.batch,
                                                               args.poll_ms / 1000, args.format, token, pacer),
                                       daemon=True)
               for lane in range(args.lanes)]
    for w in workers:
        w.start()

    def stop(*_):
        for w in workers:
            w.terminate()
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while all(w.is_alive() for w in workers):
        time.sleep(0.2)
    stop()


if __name__ == "__main__":
    main()
