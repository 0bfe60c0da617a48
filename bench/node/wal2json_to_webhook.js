#!/usr/bin/env node
// Peer for bench/run_all.sh: what a team builds by hand to feed a CRM from Postgres.
// pg-logical-replication streams wal2json (format 1: one JSON document per transaction,
// with its commit timestamp), this script maps contacts rows to CRM records and POSTs them
// with fetch to the same mock CRM crmsync uses:
//
//   --format webhook   crmsync-shaped webhook events, {"events":[...]} to --url
//   --format hubspot   HubSpot's batch upsert, POST <url>/crm/v3/objects/contacts/batch/upsert
//                      {"inputs":[{"idProperty":"email","id":...,"properties":{...}}]}, values
//                      rendered as crmsync's hubspot format renders them (docs/mapping.md, "Type
//                      rendering"), one input per change: no coalescing
//
// Given its best settings, not a strawman: the same batching as crmsync-sender (batches
// of --batch events or --linger-ms after the first, --lanes requests in flight split by
// key hash so per-key order holds, persistent HTTP connections), and it confirms an LSN
// to Postgres only once every event of that transaction and all earlier ones has a 2xx.
// Stream backpressure: pg-logical-replication's flowControl, awaited only when more than
// --max-queued events wait.
//
// HubSpot mode, as a competent hand-written client against HubSpot's documented API:
// * HubSpot refuses a batch that names the same id twice (the mock does too), so a batch takes
//   the oldest waiting change of up to --batch distinct contacts of its lane; a later change of
//   a contact already in the batch waits for a later batch of that lane (one request in flight
//   per lane: sent only after the earlier one's 2xx, so per-key order holds).
// * Pacing ("API usage guidelines and limits", https://developers.hubspot.com/docs/api/usage-details):
//   every answer carries X-HubSpot-RateLimit-Max per X-HubSpot-RateLimit-Interval-Milliseconds;
//   all lanes share one sliding window of that many requests (less one per lane, the margin
//   crmsync-sender keeps), unpaced until the first answer. A lane takes its batch once the
//   window has room, so the batch keeps filling while it waits.
// * 429: Retry-After when given; otherwise (HubSpot sends none, its body names the policyName)
//   every lane pauses 1 s, doubling per 429 in a row, at most 10 s (the rolling window);
//   a DAILY policy waits for the next UTC midnight. 5xx and network errors: 200 ms doubling to
//   5 s. Any other answer is a bug here: the process exits. Deletes are not implemented (the
//   quota benchmark only updates): a delete exits the process rather than being skipped.
//
// Usage: node wal2json_to_webhook.js --host DIR --port N --slot S --url URL [--format webhook|hubspot]
//        [--token-file PATH] [--batch 100] [--linger-ms 5] [--lanes 4] [--max-queued 20000]
'use strict';
const fs = require('fs');
const { LogicalReplicationService, Wal2JsonPlugin } = require('pg-logical-replication');

function options(argv) {
  const o = { format: 'webhook', batch: 100, 'linger-ms': 5, lanes: 4, 'max-queued': 20000, user: 'postgres',
              database: 'postgres' };
  for (let i = 2; i < argv.length; i += 2) o[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const k of ['batch', 'linger-ms', 'lanes', 'max-queued', 'port']) o[k] = Number(o[k]);
  for (const k of ['host', 'port', 'slot', 'url']) if (!o[k]) throw new Error(`--${k} is required`);
  if (o.format !== 'webhook' && o.format !== 'hubspot') throw new Error('--format is webhook or hubspot');
  if (o.format === 'hubspot' && o.batch > 100) throw new Error('HubSpot takes at most 100 inputs per batch');
  return o;
}
const opt = options(process.argv);
const HUBSPOT = opt.format === 'hubspot';
const token = opt['token-file'] ? fs.readFileSync(opt['token-file'], 'utf8').trim() : null;

function isoUtc(pgTimestamp) {
  // wal2json writes "2026-11-26 07:43:27.123456+00" (the session runs with TimeZone UTC).
  return pgTimestamp.replace(' ', 'T').replace(/\+00(:00)?$/, 'Z');
}

// --- rendering ----------------------------------------------------------------------------

// The crmsync mapping of contacts (tests/e2e/scenario.py): column -> CRM property.
const PROPERTIES = { email: 'email', first_name: 'firstname', last_name: 'lastname', score: 'score', active: 'active',
                     updated_at: 'lastmodified', tags: 'tags', notes: 'notes' };

// HubSpot takes every value as a string; the same strings crmsync's hubspot format renders
// (docs/mapping.md, "Type rendering"). Numbers are read as their text (see quoteNumbers), so
// numeric keeps its scale ("12.50", not 12.5 after JSON.parse).
const asText = (v) => (v === null ? '' : String(v));
const asBool = (v) => (v === null ? '' : v ? 'true' : 'false');

function asTimestamptz(v) {
  // "2026-05-06 05:08:09.123456+00" -> "2026-05-06T05:08:09.123Z": UTC, milliseconds truncated.
  if (v === null) return '';
  if (v === 'infinity' || v === '-infinity') return v;
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/.exec(v);
  if (!m) throw new Error(`unexpected timestamptz text ${JSON.stringify(v)}`);
  return `${m[1]}T${m[2]}.${((m[3] || '') + '000').slice(0, 3)}Z`;
}

function asTextArray(v) {
  // A 1-D array's text ("{a,\"b c\",NULL}") -> its items joined with ';', NULL items left out.
  if (v === null) return '';
  if (v[0] !== '{' || v[1] === '{') return v;  // multi-dimensional: its text, as crmsync sends it
  const items = [];
  let i = 1;
  while (i < v.length && v[i] !== '}') {
    let item = '';
    if (v[i] === '"') {
      for (i++; v[i] !== '"'; i++) item += v[i] === '\\' ? v[++i] : v[i];
      i++;
      items.push(item);
    } else {
      while (v[i] !== ',' && v[i] !== '}') item += v[i++];
      if (item !== 'NULL') items.push(item);
    }
    if (v[i] === ',') i++;
  }
  return items.join(';');
}

// wal2json writes numeric values as JSON numbers with all their digits, and JSON.parse would
// turn 12.50 into 12.5 (and lose digits past a double's). Debian's wal2json 2.5 has no
// numeric-data-types-as-string (2.6 has), so every bare number of the document is quoted
// before parsing: the value is then the exact text Postgres printed.
function quoteNumbers(text) {
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;  // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 45 || (c >= 48 && c <= 57)) {  // '-' or a digit starts a number
      let j = i + 1;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (!((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45)) break;
      }
      out += text.slice(from, i) + '"' + text.slice(i, j) + '"';
      from = j;
      i = j - 1;
    }
  }
  return out + text.slice(from);
}

class Wal2JsonNumbersAsText extends Wal2JsonPlugin {
  parse(buffer) { return JSON.parse(quoteNumbers(buffer.toString())); }
}

const HUBSPOT_RENDER = { email: asText, first_name: asText, last_name: asText, score: asText, active: asBool,
                         updated_at: asTimestamptz, tags: asTextArray, notes: asText };

function lsnValue(lsn) {
  const [hi, lo] = lsn.split('/');
  return BigInt('0x' + hi) * 4294967296n + BigInt('0x' + lo);
}

function keyHash(key) {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- HubSpot's request budget, shared by the lanes ----------------------------------------

const pacer = {
  max: 0,           // requests per window; 0 = not learnt yet (unpaced)
  windowMs: 10000,
  sent: [],         // send times in the window, oldest first
  pausedUntil: 0,   // after a 429
  learn(headers) {
    const max = Number(headers.get('x-hubspot-ratelimit-max'));
    const interval = Number(headers.get('x-hubspot-ratelimit-interval-milliseconds'));
    if (max > 0 && interval > 0) {
      this.max = Math.max(1, max - opt.lanes);
      this.windowMs = interval;
    }
  },
  pause(ms) { this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms); },
  async acquire() {
    for (;;) {
      const now = Date.now();
      while (this.sent.length && this.sent[0] <= now - this.windowMs) this.sent.shift();
      let wait = this.pausedUntil - now;
      if (wait <= 0) {
        if (!this.max || this.sent.length < this.max) {
          this.sent.push(now);
          return;
        }
        wait = this.sent[this.sent.length - this.max] + this.windowMs - now + 1;
      }
      await sleep(Math.max(1, wait));
    }
  },
};

// --- delivery -----------------------------------------------------------------------------

// Transactions in commit order, each with the number of its events not yet accepted.
// The flush LSN confirmed is the newest one whose prefix is fully accepted.
const pending = [];
let confirmedLsn = null;
let queued = 0;
let service;
const lanes = Array.from({ length: opt.lanes }, () => ({ events: [], firstAt: 0, busy: false, timer: null }));
let wakeCapacity = null;
let http429InARow = 0;

function confirmPrefix() {
  let advanced = false;
  while (pending.length && pending[0].remaining === 0) {
    confirmedLsn = pending.shift().lsn;
    advanced = true;
  }
  if (advanced && service) service.acknowledge(confirmedLsn);
}

async function postWebhook(lane) {
  const batch = lane.events.splice(0, opt.batch);
  const body = '{"events":[' + batch.map((e) => e.json).join(',') + ']}';
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(opt.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      await res.arrayBuffer();
      if (res.ok) return batch;
      if (res.status < 500 && res.status !== 429) throw new Error(`CRM rejected a batch: ${res.status}`);
    } catch (e) {
      if (/rejected/.test(e.message)) throw e;
    }
    await sleep(Math.min(100 * 2 ** attempt, 5000));
  }
}

// The oldest waiting change of up to opt.batch distinct contacts, in queue order; a contact's
// later changes stay queued, behind its earlier one.
function takeDistinct(lane) {
  const keys = new Set();
  const batch = [];
  const rest = [];
  const events = lane.events;
  let i = 0;
  for (; i < events.length && batch.length < opt.batch; i++) {
    const e = events[i];
    if (keys.has(e.key)) {
      rest.push(e);
    } else {
      keys.add(e.key);
      batch.push(e);
    }
  }
  lane.events = i < events.length ? rest.concat(events.slice(i)) : rest;
  return batch;
}

const HUBSPOT_UPSERT = opt.url.replace(/\/$/, '') + '/crm/v3/objects/contacts/batch/upsert';

async function postHubspot(lane) {
  let batch = null;
  let body;
  let headers;
  for (let failures = 0; ; ) {
    await pacer.acquire();
    if (!batch) {
      batch = takeDistinct(lane);
      body = '{"inputs":[' + batch.map((e) => e.json).join(',') + ']}';
      // The batch's oldest commit, for the mock CRM's commit -> CRM latency (as crmsync-sender sends it).
      headers = { 'Content-Type': 'application/json', 'X-Crmsync-Commit-Time': batch[0].commitTime };
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    let res;
    let text = '';
    try {
      res = await fetch(HUBSPOT_UPSERT, { method: 'POST', headers, body });
      text = await res.text();
    } catch (e) {
      res = null;  // no answer: retried as a 5xx
    }
    if (res) pacer.learn(res.headers);
    if (res && res.ok) {
      http429InARow = 0;
      return batch;
    }
    if (res && res.status === 429) {
      let policy = '';
      try { policy = JSON.parse(text).policyName || ''; } catch (e) { /* not JSON: no policy */ }
      const retryAfter = Number(res.headers.get('retry-after'));
      let wait = Math.min(1000 * 2 ** http429InARow++, 10000);
      if (retryAfter > 0) wait = retryAfter * 1000;
      else if (policy === 'DAILY') wait = 86400000 - (Date.now() % 86400000);
      pacer.pause(wait);
      continue;
    }
    if (res && res.status < 500) {
      throw new Error(`HubSpot rejected a batch: ${res.status} ${text.slice(0, 500)}`);
    }
    await sleep(Math.min(200 * 2 ** failures++, 5000));
  }
}

function flush(lane) {
  if (lane.busy || lane.events.length === 0) return;
  if (lane.timer) { clearTimeout(lane.timer); lane.timer = null; }
  lane.busy = true;
  (HUBSPOT ? postHubspot(lane) : postWebhook(lane)).then((batch) => {
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

function webhookEvent(change, lsn, seq, commitTime) {
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
  return { key, json: JSON.stringify(event) };
}

function hubspotInput(change) {
  if (change.kind === 'delete') {
    throw new Error('a delete of contacts: deletes are not implemented in hubspot mode (the quota load has none)');
  }
  const props = {};
  for (let i = 0; i < change.columnnames.length; i++) {
    const column = change.columnnames[i];
    // A column missing here is an unchanged TOASTed value: left out, HubSpot keeps it.
    if (PROPERTIES[column]) props[PROPERTIES[column]] = HUBSPOT_RENDER[column](change.columnvalues[i]);
  }
  // HubSpot matches emails without regard to case: so does the batch's repeated-id check.
  return { key: props.email.toLowerCase(), json: JSON.stringify({ idProperty: 'email', id: props.email, properties: props }) };
}

function onTransaction(lsn, doc) {
  const txn = { lsn, remaining: 0 };
  const commitTime = doc.timestamp ? isoUtc(doc.timestamp) : null;
  const now = Date.now();
  let seq = 0;
  for (const change of doc.change || []) {
    if (change.table !== 'contacts') continue;
    seq++;
    const { key, json } = HUBSPOT ? hubspotInput(change) : webhookEvent(change, lsn, seq, commitTime);
    const lane = lanes[keyHash(key) % lanes.length];
    lane.events.push({ key, json, txn, at: now, commitTime });
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
    try {
      onTransaction(lsn, doc);
    } catch (e) {
      console.error(e.message);
      process.exit(1);
    }
    if (queued >= opt['max-queued']) return new Promise((resolve) => { wakeCapacity = resolve; });
    return undefined;
  });
  service.on('heartbeat', (lsn, timestamp, shouldRespond) => {
    // Never a position below what the slot already has: before the first confirmation, stay silent.
    if (shouldRespond && confirmedLsn) service.acknowledge(confirmedLsn);
  });
  service.on('error', (e) => { console.error(e.message || e); process.exit(1); });
  process.on('SIGTERM', async () => { await service.stop(); process.exit(0); });
  const settings = { includeTimestamp: true, includeTypes: false, includeTypmod: false };
  const plugin = HUBSPOT ? new Wal2JsonNumbersAsText(settings) : new Wal2JsonPlugin(settings);
  console.error('subscribed to', opt.slot, 'format', opt.format);
  await service.subscribe(plugin, opt.slot);
}

main().catch((e) => { console.error(e); process.exit(1); });
