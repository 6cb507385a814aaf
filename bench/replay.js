#!/usr/bin/env node
// Database-1 replay latency: time from a command's +OK to the moment it is applied in every
// region of the organization, at a steady rate, with 5 regions of real redis-server processes.
// Phase 1: small commands (SET with EX, rewritten to PXAT) at RATE per second for SECONDS.
// Phase 2: 1 MB values at BIG_RATE per second for SECONDS.
// Baseline in the same run: the round trip of one pipelined MULTI/SET/EXEC straight to one
// backend, i.e. the floor any replay through Redis pays.
// Compiles src/cache with esbuild into a temp file, so no build is needed.
// Env: RATE (1000), BIG_RATE (20), SECONDS (10), REGIONS (mad,ams,syd,iad,nrt).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const RATE = Number(process.env.RATE || 1000);
const BIG_RATE = Number(process.env.BIG_RATE || 20);
const SECONDS = Number(process.env.SECONDS || 10);
const REGIONS = (process.env.REGIONS || 'mad,ams,syd,iad,nrt').split(',');
const ORG = 'bench';

function loadCache() {
  // Inside the project (tmp/ is git-ignored) so that better-sqlite3 resolves from node_modules.
  fs.mkdirSync(path.join(ROOT, 'tmp'), {recursive: true});
  const out = path.join(ROOT, 'tmp', `bench-replay-${process.pid}.js`);
  process.on('exit', () => fs.rmSync(out, {force: true}));
  require('esbuild').buildSync({
    entryPoints: [path.join(ROOT, 'src/cache/index.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: out,
    external: ['better-sqlite3', 'ioredis'],
    logLevel: 'error',
  });
  return require(out);
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const fmt = (ms) => `${ms.toFixed(2)} ms`;

async function phase(cache, label, rate, makeArgs) {
  const okAt = new Map(); // seq -> +OK time (ms, high resolution)
  const remaining = new Map(); // seq -> regions still to apply
  const doneAt = new Map(); // seq -> applied in every region
  const started = new Set(cache.startedRegions(ORG));
  const off = cache.onApplied((e) => {
    if (e.org !== ORG) return;
    const now = performance.timeOrigin + performance.now();
    for (const {seq} of e.entries) {
      const left = (remaining.get(seq) ?? started.size) - 1;
      if (left === 0) {
        remaining.delete(seq);
        doneAt.set(seq, now);
      } else remaining.set(seq, left);
    }
  });
  const okLatency = [];
  const total = Math.round(rate * SECONDS);
  const t0 = performance.now();
  let sent = 0;
  let inflight = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    while (sent < due) {
      const i = sent++;
      const region = REGIONS[i % REGIONS.length];
      const sentAt = performance.now();
      inflight++;
      cache.accept(ORG, region, makeArgs(i)).then((r) => {
        inflight--;
        const now = performance.now();
        okLatency.push(now - sentAt);
        if (r.seq === undefined) throw new Error(`not accepted: ${r.reply}`);
        okAt.set(r.seq, performance.timeOrigin + now);
      });
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const sendSeconds = (performance.now() - t0) / 1000;
  while (inflight > 0) await new Promise((r) => setTimeout(r, 5));
  await cache.waitApplied(ORG);
  off();
  const lat = [];
  for (const [seq, ok] of okAt) {
    const done = doneAt.get(seq);
    // Batches applied before the +OK promise resolved count as 0: the entry was there already.
    if (done !== undefined) lat.push(Math.max(0, done - ok));
  }
  lat.sort((a, b) => a - b);
  okLatency.sort((a, b) => a - b);
  console.log(
    `${label}: ${okAt.size} commands in ${sendSeconds.toFixed(1)} s (${(okAt.size / sendSeconds).toFixed(0)}/s), ` +
      `${started.size} regions`,
  );
  console.log(`  +OK -> applied in every region: p50 ${fmt(pct(lat, 50))}  p99 ${fmt(pct(lat, 99))}  max ${fmt(lat[lat.length - 1])}  (n=${lat.length})`);
  console.log(`  accept -> +OK (validate + durable log): p50 ${fmt(pct(okLatency, 50))}  p99 ${fmt(pct(okLatency, 99))}`);
  return {p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1]};
}

async function baseline(cache, mod) {
  // One MULTI + SET + EXEC round trip to one backend, the floor of any replay through Redis.
  const a = await cache.backend(ORG, REGIONS[0]);
  const net = require('node:net');
  const lat = [];
  const sock = net.connect(a.port, a.host);
  sock.setNoDelay(true);
  await new Promise((r) => sock.once('connect', r));
  const roundTrip = (bytes, replies) =>
    new Promise((resolve) => {
      let seen = 0;
      const onData = (chunk) => {
        for (const c of chunk) if (c === 0x0a) seen++;
        if (seen >= replies) {
          sock.off('data', onData);
          resolve();
        }
      };
      sock.on('data', onData);
      sock.write(bytes);
    });
  const enc = (args) => Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map((x) => Buffer.from(`$${Buffer.byteLength(x)}\r\n${x}\r\n`))]);
  await roundTrip(enc(['AUTH', a.username, a.password]), 1);
  const batch = Buffer.concat([enc(['MULTI']), enc(['SET', 'baseline', 'x'.repeat(32)]), enc(['EXEC'])]);
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    await roundTrip(batch, 4); // +OK, +QUEUED, *1, +OK
    lat.push(performance.now() - t);
  }
  sock.destroy();
  lat.sort((x, y) => x - y);
  console.log(`baseline, direct MULTI/SET/EXEC round trip to one backend: p50 ${fmt(pct(lat, 50))}  p99 ${fmt(pct(lat, 99))}`);
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-bench-replay-'));
  const {CacheService} = loadCache();
  const cache = await CacheService.open({
    stateDir: path.join(tmp, 'state'),
    regions: REGIONS,
    maxmemoryBytes: 256 * 1024 * 1024,
    backlogMaxBytes: 512 * 1024 * 1024,
  });
  try {
    await cache.ensureOrg(ORG);
    console.log(`bench:replay — ${REGIONS.length} regions (${REGIONS.join(', ')}), node ${process.version}, ${os.cpus().length} CPUs`);
    await baseline(cache);
    const small = Buffer.from('v'.repeat(64));
    const s = await phase(cache, `small SET ... EX 3600 at ${RATE}/s`, RATE, (i) => [
      Buffer.from('SET'),
      Buffer.from(`key:${i % 5000}`),
      small,
      Buffer.from('EX'),
      Buffer.from('3600'),
    ]);
    const mb = Buffer.alloc(1024 * 1024, 'm');
    const big = await phase(cache, `1 MB SET at ${BIG_RATE}/s`, BIG_RATE, (i) => [Buffer.from('SET'), Buffer.from(`big:${i % 20}`), mb]);
    console.log(`target p99 <= 50 ms for small commands: ${s.p99 <= 50 ? 'met' : 'NOT met'} (p99 ${fmt(s.p99)}); 1 MB p99 ${fmt(big.p99)}`);
  } finally {
    await cache.close();
    fs.rmSync(tmp, {recursive: true, force: true});
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
