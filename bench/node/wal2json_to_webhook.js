#!/usr/bin/env node
// Peer for bench/run_all.sh: what a team builds by hand to feed a CRM from Postgres.
// pg-logical-replication streams wal2json (format 1: one JSON document per transaction,
// with its commit timestamp), this script maps contacts rows to crmsync-shaped webhook
// events and POSTs {"events":[...]} with fetch to the same mock CRM endpoint crmsync uses.
//
// Given its best settings, not a strawman: the same batching as crmsync-sender (batches
// of --batch events or --linger-ms after the first, --lanes requests in flight split by
// key hash so per-key order holds, persistent HTTP connections), and it confirms an LSN
// to Postgres only once every event of that transaction and all earlier ones has a 2xx.
// Stream backpressure: pg-logical-replication's flowControl, awaited only when more than
// --max-queued events wait.
//
// Usage: node wal2json_to_webhook.js --host DIR --port N --slot S --url URL [--batch 100]
//        [--linger-ms 5] [--lanes 4] [--max-queued 20000]
'use strict';
const { LogicalReplicationService, Wal2JsonPlugin } = require('pg-logical-replication');

function options(argv) {
  const o = { batch: 100, 'linger-ms': 5, lanes: 4, 'max-queued': 20000, user: 'postgres', database: 'postgres' };
  for (let i = 2; i < argv.length; i += 2) o[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const k of ['batch', 'linger-ms', 'lanes', 'max-queued', 'port']) o[k] = Number(o[k]);
  for (const k of ['host', 'port', 'slot', 'url']) if (!o[k]) throw new Error(`--${k} is required`);
  return o;
}
const opt = options(process.argv);

// The crmsync mapping of contacts (tests/e2e/scenario.py): column -> CRM property.
const PROPERTIES = { email: 'email', first_name: 'firstname', last_name: 'lastname', score: 'score', active: 'active',
                     updated_at: 'lastmodified', tags: 'tags', notes: 'notes' };

function isoUtc(pgTimestamp) {
  // wal2json writes "2026-11-26 07:43:27.123456+00" (the session runs with TimeZone UTC).
  return pgTimestamp.replace(' ', 'T').replace(/\+00(:00)?$/, 'Z');
}

function lsnValue(lsn) {
  const [hi, lo] = lsn.split('/');
  return BigInt('0x' + hi) * 4294967296n + BigInt('0x' + lo);
}

function keyHash(key) {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}

// Transactions in commit order, each with the number of its events not yet accepted.
// The flush LSN confirmed is the newest one whose prefix is fully accepted.
const pending = [];
let confirmedLsn = null;
let queued = 0;
let service;
const lanes = Array.from({ length: opt.lanes }, () => ({ events: [], firstAt: 0, busy: false, timer: null }));
let wakeCapacity = null;

function confirmPrefix() {
  let advanced = false;
  while (pending.length && pending[0].remaining === 0) {
    confirmedLsn = pending.shift().lsn;
    advanced = true;
  }
  if (advanced && service) service.acknowledge(confirmedLsn);
}

async function post(lane, batch) {
  const body = '{"events":[' + batch.map((e) => e.json).join(',') + ']}';
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(opt.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      await res.arrayBuffer();
      if (res.ok) return;
      if (res.status < 500 && res.status !== 429) throw new Error(`CRM rejected a batch: ${res.status}`);
    } catch (e) {
      if (/rejected/.test(e.message)) throw e;
    }
    await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5000)));
  }
}

function flush(lane) {
  if (lane.busy || lane.events.length === 0) return;
  if (lane.timer) { clearTimeout(lane.timer); lane.timer = null; }
  const batch = lane.events.splice(0, opt.batch);
  lane.busy = true;
  post(lane, batch).then(() => {
    for (const e of batch) e.txn.remaining--;
    queued -= batch.length;
    lane.busy = false;
    confirmPrefix();
    if (wakeCapacity && queued < opt['max-queued']) { wakeCapacity(); wakeCapacity = null; }
    schedule(lane);
  }, (e) => { console.error(e.message); process.exit(1); });
}

function schedule(lane) {
  if (lane.busy || lane.events.length === 0) return;
  if (lane.events.length >= opt.batch) return flush(lane);
  if (!lane.timer) {
    const wait = Math.max(0, lane.events[0].at + opt['linger-ms'] - Date.now());
    lane.timer = setTimeout(() => { lane.timer = null; flush(lane); }, wait);
  }
}

function onTransaction(lsn, doc) {
  const txn = { lsn, remaining: 0 };
  const commitTime = doc.timestamp ? isoUtc(doc.timestamp) : null;
  const now = Date.now();
  let seq = 0;
  for (const change of doc.change || []) {
    if (change.table !== 'contacts') continue;
    seq++;
    let key, record = null, action;
    if (change.kind === 'delete') {
      action = 'delete';
      key = String(change.oldkeys.keyvalues[change.oldkeys.keynames.indexOf('email')]);
    } else {
      action = 'upsert';
      const props = {};
      for (let i = 0; i < change.columnnames.length; i++) {
        const name = PROPERTIES[change.columnnames[i]];
        if (name) props[name] = change.columnvalues[i];
      }
      key = String(props.email);
      record = { id: key, properties: props };
    }
    const event = { action, object: 'contacts', key, commit_lsn: lsn, seq, commit_time: commitTime };
    if (record) event.record = record;
    const lane = lanes[keyHash(key) % lanes.length];
    lane.events.push({ json: JSON.stringify(event), txn, at: now });
    txn.remaining++;
    queued++;
    schedule(lane);
  }
  pending.push(txn);
  confirmPrefix();  // a transaction without contacts changes is done at once
}

async function main() {
  service = new LogicalReplicationService(
    { host: opt.host, port: opt.port, user: opt.user, database: opt.database, options: '-c TimeZone=UTC' },
    // No automatic acknowledgement, no periodic status with the last received LSN: only
    // what the CRM accepted is ever confirmed.
    { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } });
  service.on('data', (lsn, doc) => {
    onTransaction(lsn, doc);
    if (queued >= opt['max-queued']) return new Promise((resolve) => { wakeCapacity = resolve; });
    return undefined;
  });
  service.on('heartbeat', (lsn, timestamp, shouldRespond) => {
    // Never a position below what the slot already has: before the first confirmation, stay silent.
    if (shouldRespond && confirmedLsn) service.acknowledge(confirmedLsn);
  });
  service.on('error', (e) => { console.error(e.message || e); process.exit(1); });
  process.on('SIGTERM', async () => { await service.stop(); process.exit(0); });
  const plugin = new Wal2JsonPlugin({ includeTimestamp: true, includeTypes: false, includeTypmod: false });
  console.error('subscribed to', opt.slot);
  await service.subscribe(plugin, opt.slot);
}

main().catch((e) => { console.error(e); process.exit(1); });
