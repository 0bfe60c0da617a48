#!/usr/bin/python3
"""Peer for bench/run_all.sh: the traditional staging pipeline.

A trigger on contacts writes each change, already shaped as a CRM record, into an outbox
table in the writing transaction; poller processes read the outbox in id order, POST
batches of crmsync-shaped webhook events ({"events":[...]}) to the same mock CRM endpoint,
and delete what the CRM accepted.

Given its best settings: batches of --batch (crmsync's batch size), one poller per lane
(--lanes, crmsync's max_in_flight; a row's lane is a hash of its key, so per-key order
holds), a poll as soon as the previous batch is done, a --poll-ms sleep only when the
outbox is empty, persistent HTTP connections. The event's commit_time is the trigger's
clock_timestamp(), the closest a trigger gets to its transaction's commit.

Usage: outbox_poller.py install --conninfo C [--lanes 4]
       outbox_poller.py run --conninfo C --url URL [--lanes 4] [--batch 100] [--poll-ms 5]
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
CREATE INDEX crm_outbox_lane ON crm_outbox (lane, id);

-- The crmsync mapping of contacts (tests/e2e/scenario.py), as a trigger would write it.
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

FETCH = """
SELECT id, action, object, key, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), record::text
FROM crm_outbox WHERE lane = %s ORDER BY id LIMIT %s
"""


def event_json(row):
    outbox_id, action, obj, key, commit_time, record = row
    # Event id (commit_lsn, seq): the outbox id stands in for the position in the stream.
    head = (f'{{"action":"{action}","object":{json.dumps(obj)},"key":{json.dumps(key)},'
            f'"commit_lsn":"0/{outbox_id:X}","seq":1,"commit_time":"{commit_time}"')
    return head + (f',"record":{record}}}' if record is not None else "}")


def poll_lane(conninfo, url, lane, batch, poll_s):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    target = urllib.parse.urlsplit(url)
    conn = psycopg2.connect(conninfo)
    conn.autocommit = True
    cur = conn.cursor()
    http_conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    while True:
        cur.execute(FETCH, (lane, batch))
        rows = cur.fetchall()
        if not rows:
            time.sleep(poll_s)
            continue
        body = ('{"events":[' + ",".join(event_json(r) for r in rows) + "]}").encode()
        delay = 0.1
        while True:
            try:
                http_conn.request("POST", target.path or "/", body, {"Content-Type": "application/json"})
                response = http_conn.getresponse()
                response.read()
                if 200 <= response.status < 300:
                    break
                if response.status < 500 and response.status != 429:
                    sys.exit(f"the CRM rejected a batch: {response.status}")
            except (OSError, http.client.HTTPException):
                http_conn.close()
            time.sleep(delay)
            delay = min(delay * 2, 5)
        # Exactly the rows sent: with concurrent writers, a lower id can commit after a higher
        # one was read, so "id <= last sent" would delete a row nobody delivered.
        cur.execute("DELETE FROM crm_outbox WHERE id = ANY(%s)", ([r[0] for r in rows],))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["install", "run"])
    parser.add_argument("--conninfo", required=True)
    parser.add_argument("--url")
    parser.add_argument("--lanes", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--poll-ms", type=float, default=5)
    args = parser.parse_args()
    if args.command == "install":
        conn = psycopg2.connect(args.conninfo)
        conn.autocommit = True
        conn.cursor().execute(INSTALL.replace("{lanes}", str(args.lanes)))
        conn.close()
        return
    workers = [multiprocessing.Process(target=poll_lane, args=(args.conninfo, args.url, lane, args.batch,
                                                               args.poll_ms / 1000), daemon=True)
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
