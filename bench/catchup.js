#!/usr/bin/env node
// Regional cache catch-up: how fast a region whose backend was killed (kill -9) rebuilds
// database 0 from the retained database-1 log, against the live apply of the other regions in
// the same run. Real redis-server backends, the real log (SQLite by default; PostgreSQL when
// PG=1: a throwaway cluster from scripts/postgres.js).
// Phase 1 (live): N small SETs accepted as fast as the log takes them, every region live;
//   figure: accepted/s and the time until every region is in step.
// Phase 2 (restart): kill -9 of one region's backend; the supervisor starts it again, empty,
//   and its applier replays the whole retained log; figure: entries / (in step - back up).
// Phase 3 (during writes): RATE commands/s for SECONDS with a kill -9 of the victim in the
//   middle; figure: how long after the last +OK each region is in step.
// Compiles src/cache with esbuild into a temp file, so no build is needed.
// Phase 4 (PG=1 only): propagation between two processes sharing the PostgreSQL log.
// Env: N (300000), RATE (9000), PROP_RATE (1000), SECONDS (10), REGIONS (mad,ams,syd), VICTIM (syd), PG (unset).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {loadSource} = require('./common');

const N = Number(process.env.N || 300_000);
const RATE = Number(process.env.RATE || 9000);
const PROP_RATE = Number(process.env.PROP_RATE || 1000);
const SECONDS = Number(process.env.SECONDS || 10);
const REGIONS = (process.env.REGIONS || 'mad,ams,syd').split(',');
const VICTIM = process.env.VICTIM || REGIONS[REGIONS.length - 1];
const ORG = 'bench';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const rate = (n, ms) => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`;

/** Accepts `count` SETs as fast as accept() answers, `window` in flight. */
async function writeMany(cache, count, from) {
  const value = Buffer.from('v'.repeat(64));
  const window = 256;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = from + next++;
      const r = await cache.accept(ORG, REGIONS[i % REGIONS.length], [Buffer.from('SET'), Buffer.from(`key:${i % 50_000}`), value, Buffer.from('EX'), Buffer.from('3600')]);
      if (r.seq === undefined) throw new Error(`not accepted: ${r.reply}`);
    }
  };
  await Promise.all(Array.from({length: window}, worker));
}

/** Resolves (with performance.now()) at the first batch applied in `region` that reaches `seq`,
 *  or at once when the region is there already (unless `fresh`: a restarted region). */
async function applied(cache, region, seq, fresh = false) {
  let off = () => undefined;
  const p = new Promise((resolve) => {
    off = cache.onApplied((e) => {
      if (e.org === ORG && e.region === region && e.seq >= seq) resolve(performance.now());
    });
  });
  if (!fresh) {
    const st = await cache.status(ORG);
    if (st.regions.find((r) => r.region === region).appliedSeq >= seq) {
      off();
      return performance.now();
    }
  }
  return p.finally(off);
}

/** Time (performance.now()) at which each region reaches `seq`. */
async function inStep(cache, seq) {
  const at = {};
  await Promise.all(REGIONS.map(async (r) => (at[r] = await applied(cache, r, seq))));
  return at;
}

/** The floor in this run: the same number of SETs written straight into one backend (its
 *  database 1, which the victim's kill -9 then empties) in MULTI/EXEC batches of `batch`, one
 *  batch in flight, as fast as a raw socket goes. Returns the milliseconds it took.
 *  mode 'encode' (the floor of the earlier notes): each batch is RESP-encoded inside the timed
 *    loop, so the figure holds this script's own encoding, not only Redis's work.
 *  mode 'replies': the batches are encoded before the clock starts (the applier's payloads come
 *    encoded from the log) and each ends with a cursor SET inside the MULTI/EXEC, as the
 *    applier's do; Redis answers +QUEUED per command and an EXEC array.
 *  mode 'reply-off': the same, between CLIENT REPLY OFF and CLIENT REPLY ON + a GET of the
 *    cursor (Redis builds no +QUEUED and no EXEC array; the GET tells that the batch ran). */
async function directImport(address, count, batch, mode) {
  const net = require('node:net');
  const sock = net.connect(address.port, address.host);
  sock.setNoDelay(true);
  await new Promise((r) => sock.once('connect', r));
  const roundTrip = (bytes, lines) =>
    new Promise((resolve) => {
      let seen = 0;
      const onData = (chunk) => {
        for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) seen++;
        if (seen >= lines) {
          sock.off('data', onData);
          resolve();
        }
      };
      sock.on('data', onData);
      sock.write(bytes);
    });
  const enc = (args) => Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map((x) => Buffer.from(`$${Buffer.byteLength(x)}\r\n${x}\r\n`))]);
  await roundTrip(Buffer.concat([enc(['AUTH', address.username, address.password]), enc(['SELECT', '1'])]), 2);
  const value = 'v'.repeat(64);
  const at = String(Date.now() + 3_600_000);
  const encodeBatch = (done, k) => {
    const parts = mode === 'reply-off' ? [enc(['CLIENT', 'REPLY', 'OFF']), enc(['MULTI'])] : [enc(['MULTI'])];
    for (let i = 0; i < k; i++) parts.push(enc(['SET', `baseline:${(done + i) % 50_000}`, value, 'PXAT', at]));
    if (mode !== 'encode') parts.push(enc(['SET', 'baseline:cursor', String(done + k)]));
    parts.push(enc(['EXEC']));
    if (mode === 'reply-off') parts.push(enc(['CLIENT', 'REPLY', 'ON']), enc(['GET', 'baseline:cursor']));
    return Buffer.concat(parts);
  };
  // Lines of the replies: +OK, a +QUEUED per command, the EXEC array's header and elements;
  // with replies off, CLIENT REPLY ON's +OK and the GET's bulk string (two lines).
  const lines = (k) => (mode === 'encode' ? 2 * k + 2 : mode === 'replies' ? 2 * (k + 1) + 2 : 3);
  const batches = [];
  if (mode !== 'encode') for (let done = 0; done < count; done += batch) batches.push(encodeBatch(done, Math.min(batch, count - done)));
  const t0 = performance.now();
  for (let done = 0, n = 0; done < count; done += batch, n++) {
    const k = Math.min(batch, count - done);
    await roundTrip(mode === 'encode' ? encodeBatch(done, k) : batches[n], lines(k));
  }
  const ms = performance.now() - t0;
  sock.destroy();
  return ms;
}

async function waitRestart(cache, oldPid) {
  for (;;) {
    const p = cache.processOf(ORG, VICTIM);
    if (p && p.pid !== null && p.pid !== oldPid) {
      try {
        process.kill(p.pid, 0);
        return performance.now();
      } catch {
        /* not yet */
      }
    }
    await sleep(2);
  }
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Phase 4 (PG only): a second CacheService on the same PostgreSQL applies region `lhr` only
 *  (what a second region host runs). Commands accepted by the first at PROP_RATE/s for SECONDS:
 *  +OK on the first -> applied in lhr by the second, against the first's own regions. */
async function propagation(CacheService, first, url, tmp) {
  const second = await CacheService.open({
    stateDir: path.join(tmp, 'second'),
    regions: [...REGIONS, 'lhr'],
    applyRegions: ['lhr'],
    databaseUrl: url,
    maxmemoryBytes: 512 * 1024 * 1024,
    backlogMaxBytes: 1024 * 1024 * 1024,
  });
  try {
    await second.ensureOrg(ORG);
    await applied(second, 'lhr', first.lastSeq(ORG));
    const okAt = new Map();
    const localAt = new Map(); // seq -> applied in every region of the first
    const remoteAt = new Map();
    const left = new Map();
    const offA = first.onApplied((e) => {
      const now = performance.now();
      for (const {seq} of e.entries) {
        const n = (left.get(seq) ?? REGIONS.length) - 1;
        if (n === 0) {
          left.delete(seq);
          localAt.set(seq, now);
        } else left.set(seq, n);
      }
    });
    const offB = second.onApplied((e) => {
      const now = performance.now();
      for (const {seq} of e.entries) remoteAt.set(seq, now);
    });
    const total = PROP_RATE * SECONDS;
    const value = Buffer.from('p'.repeat(64));
    const t0 = performance.now();
    let sent = 0;
    let inflight = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * PROP_RATE) + 1);
      while (sent < due) {
        const i = sent++;
        inflight++;
        first.accept(ORG, REGIONS[i % REGIONS.length], [Buffer.from('SET'), Buffer.from(`p:${i % 50_000}`), value]).then((r) => {
          inflight--;
          okAt.set(r.seq, performance.now());
        });
      }
      await sleep(1);
    }
    while (inflight > 0) await sleep(1);
    const secs = (performance.now() - t0) / 1000;
    await applied(second, 'lhr', first.lastSeq(ORG));
    await inStep(first, first.lastSeq(ORG));
    offA();
    offB();
    const lat = (at) => [...okAt].filter(([seq]) => at.has(seq)).map(([seq, ok]) => Math.max(0, at.get(seq) - ok)).sort((a, b) => a - b);
    const remote = lat(remoteAt);
    const local = lat(localAt);
    console.log(`propagation: ${total.toLocaleString('en-US')} SETs at ${rate(total, secs * 1000)} accepted by one process, second process on the same PostgreSQL applies lhr`);
    console.log(`  +OK -> applied in lhr by the other process: p50 ${pct(remote, 50).toFixed(1)} ms  p99 ${pct(remote, 99).toFixed(1)} ms  max ${remote[remote.length - 1].toFixed(1)} ms (n=${remote.length})`);
    console.log(`  +OK -> applied in the accepting process's ${REGIONS.length} regions: p50 ${pct(local, 50).toFixed(1)} ms  p99 ${pct(local, 99).toFixed(1)} ms (n=${local.length})`);
  } finally {
    await second.close();
  }
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-bench-catchup-'));
  const {CacheService} = loadSource('src/cache/index.ts');
  let pg = null;
  const extra = {};
  if (process.env.PG) {
    pg = await require('../scripts/postgres').startPostgres();
    extra.databaseUrl = pg.url;
  }
  const cache = await CacheService.open({
    stateDir: path.join(tmp, 'state'),
    regions: REGIONS,
    maxmemoryBytes: 512 * 1024 * 1024,
    backlogMaxBytes: 1024 * 1024 * 1024,
    ...extra,
  });
  try {
    await cache.ensureOrg(ORG);
    console.log(
      `bench:catchup — log ${pg ? 'PostgreSQL' : 'SQLite'}, ${REGIONS.length} regions (${REGIONS.join(', ')}), victim ${VICTIM}, ` +
        `node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    );

    // Phase 1: live apply.
    let t0 = performance.now();
    const done1 = inStep(cache, N);
    await writeMany(cache, N, 0);
    const tAck = performance.now();
    const at1 = await done1;
    console.log(`live: ${N.toLocaleString('en-US')} SETs accepted in ${(tAck - t0).toFixed(0)} ms (${rate(N, tAck - t0)})`);
    for (const r of REGIONS) console.log(`  ${r}: in step ${(at1[r] - tAck).toFixed(0)} ms after the last +OK (${rate(N, at1[r] - t0)} from the first)`);

    const victim = await cache.backend(ORG, VICTIM);
    const floors = [
      ['encode', 'encoded in the timed loop (the earlier notes\' floor)'],
      ['replies', 'pre-encoded + cursor SET, replies on (what the applier sends)'],
      ['reply-off', 'pre-encoded + cursor SET, CLIENT REPLY OFF, then ON + GET cursor'],
    ];
    console.log(`floor: the same ${N.toLocaleString('en-US')} SETs straight into one backend, MULTI/EXEC of 10,000, raw socket:`);
    for (const [mode, label] of floors) {
      const ms = await directImport(victim, N, 10_000, mode);
      console.log(`  ${label}: ${ms.toFixed(0)} ms, ${rate(N, ms)}`);
    }

    // Phase 2: kill -9 the victim, measure the rebuild of the whole retained log.
    const oldPid = cache.processOf(ORG, VICTIM).pid;
    const tKill = performance.now();
    process.kill(oldPid, 'SIGKILL');
    const last = cache.lastSeq(ORG);
    const replayed = applied(cache, VICTIM, last, true);
    const tUp = await waitRestart(cache, oldPid);
    const progress = setInterval(async () => {
      const st = await cache.status(ORG);
      const v = st.regions.find((r) => r.region === VICTIM);
      if (process.env.VERBOSE) console.log(`  ... ${VICTIM} ${v.state} applied ${v.appliedSeq} of ${st.lastSeq}`);
    }, 1000);
    const tDone = await replayed.finally(() => clearInterval(progress));
    console.log(
      `restart: ${VICTIM} killed, back up after ${(tUp - tKill).toFixed(0)} ms, replayed ${last.toLocaleString('en-US')} entries ` +
        `in ${(tDone - tUp).toFixed(0)} ms: catch-up ${rate(last, tDone - tUp)} (live apply above: ${rate(N, at1[REGIONS[0]] - t0)})`,
    );

    // Phase 3: kill -9 during writes at RATE/s.
    const total = RATE * SECONDS;
    const base = cache.lastSeq(ORG);
    const value = Buffer.from('w'.repeat(64));
    t0 = performance.now();
    let sent = 0;
    let inflight = 0;
    let killed = false;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE) + 1);
      while (sent < due) {
        const i = sent++;
        inflight++;
        cache.accept(ORG, REGIONS[i % REGIONS.length], [Buffer.from('SET'), Buffer.from(`w:${i % 50_000}`), value]).then(() => inflight--);
      }
      if (!killed && performance.now() - t0 > (SECONDS * 1000) / 2) {
        killed = true;
        process.kill(cache.processOf(ORG, VICTIM).pid, 'SIGKILL');
      }
      await sleep(1);
    }
    while (inflight > 0) await sleep(1);
    const tLast = performance.now();
    const at3 = await inStep(cache, base + total);
    console.log(`during writes: ${total.toLocaleString('en-US')} SETs at ${rate(total, tLast - t0)}, ${VICTIM} killed at ${SECONDS / 2} s`);
    for (const r of REGIONS) console.log(`  ${r}: in step ${(at3[r] - tLast).toFixed(0)} ms after the last +OK`);

    if (pg) await propagation(CacheService, cache, pg.url, tmp);
  } finally {
    await cache.close();
    await pg?.stop();
    fs.rmSync(tmp, {recursive: true, force: true});
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
