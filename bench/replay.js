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
const {loadSource} = require('./common');

const RATE = Number(process.env.RATE || 1000);
const BIG_RATE = Number(process.env.BIG_RATE || 20);
const SECONDS = Number(process.env.SECONDS || 10);
const REGIONS = (process.env.REGIONS || 'mad,ams,syd,iad,nrt').split(',');
const ORG = 'bench';
let tmpRoot = '';
const cacheRef = {current: null};

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const fmt = (ms) => `${ms.toFixed(2)} ms`;

async function phase(cache, label, rate, makeArgs, sendVia) {
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
  const sentAtBySeq = new Map();
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
      sendVia(region, makeArgs(i)).then((seq) => {
        inflight--;
        const now = performance.now();
        okLatency.push(now - sentAt);
        okAt.set(seq, performance.timeOrigin + now);
        sentAtBySeq.set(seq, performance.timeOrigin + sentAt);
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
    // Applied before the client saw +OK (common through the gateway): counted as 0.
    if (done !== undefined) lat.push(Math.max(0, done - ok));
  }
  lat.sort((a, b) => a - b);
  okLatency.sort((a, b) => a - b);
  const total2 = [];
  for (const [seq, sent] of sentAtBySeq) if (doneAt.has(seq)) total2.push(doneAt.get(seq) - sent);
  total2.sort((a, b) => a - b);
  console.log(
    `${label}: ${okAt.size} commands in ${sendSeconds.toFixed(1)} s (${(okAt.size / sendSeconds).toFixed(0)}/s), ` +
      `${started.size} regions`,
  );
  console.log(`  +OK -> applied in every region: p50 ${fmt(pct(lat, 50))}  p99 ${fmt(pct(lat, 99))}  max ${fmt(lat[lat.length - 1])}  (n=${lat.length})`);
  console.log(`  send -> +OK: p50 ${fmt(pct(okLatency, 50))}  p99 ${fmt(pct(okLatency, 99))}`);
  console.log(`  send -> applied in every region: p50 ${fmt(pct(total2, 50))}  p99 ${fmt(pct(total2, 99))}  max ${fmt(total2[total2.length - 1])}`);
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
  tmpRoot = tmp;
  const {CacheService, CacheTenants} = loadSource('src/cache/index.ts');
  const cache = (cacheRef.current = await CacheService.open({
    stateDir: path.join(tmp, 'state'),
    regions: REGIONS,
    maxmemoryBytes: 256 * 1024 * 1024,
    backlogMaxBytes: 512 * 1024 * 1024,
  }));
  try {
    await cache.ensureOrg(ORG);
    console.log(`bench:replay — ${REGIONS.length} regions (${REGIONS.join(', ')}), node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    await baseline(cache);
    // In-process: the library entry point the gateway calls (validate, rewrite, durable log).
    const direct = async (region, args) => {
      const r = await cache.accept(ORG, region, args);
      if (r.seq === undefined) throw new Error(`not accepted: ${r.reply}`);
      return r.seq;
    };
    const small = Buffer.from('v'.repeat(64));
    const smallArgs = (i) => [Buffer.from('SET'), Buffer.from(`key:${i % 5000}`), small, Buffer.from('EX'), Buffer.from('3600')];
    const s = await phase(cache, `small SET ... EX 3600 at ${RATE}/s, in process`, RATE, smallArgs, direct);
    const mb = Buffer.alloc(1024 * 1024, 'm');
    const bigArgs = (i) => [Buffer.from('SET'), Buffer.from(`big:${i % 20}`), mb];
    const big = await phase(cache, `1 MB SET at ${BIG_RATE}/s, in process`, BIG_RATE, bigArgs, direct);

    // End to end: ioredis clients in db 1 through the region gateway; the time runs from the
    // client receiving +OK. The log position of each command is taken where the gateway calls
    // the cache (one client per region, so commands of a region are accepted in send order).
    const {startGateway} = loadSource('src/gateway/index.ts');
    const Redis = require('ioredis');
    const secret = 'bench-secret';
    await cache.close({stopBackends: true});
    const cache2 = await CacheService.open({
      stateDir: path.join(tmpRoot, 'state2'),
      regions: REGIONS,
      internalSecret: secret,
      maxmemoryBytes: 256 * 1024 * 1024,
      backlogMaxBytes: 512 * 1024 * 1024,
    });
    cacheRef.current = cache2;
    await cache2.ensureOrg(ORG);
    const seqs = Object.fromEntries(REGIONS.map((r) => [r, []]));
    const tenants = new CacheTenants(cache2, (pw) => (pw === 'bench-pw' ? ORG : undefined), () => true);
    const directory = {
      byPassword: (pw) => {
        const t = tenants.byPassword(pw);
        if (!t) return t;
        const accept = t.virtualDb.accept;
        return {...t, virtualDb: {accept: async (args, ctx) => {
          const r = await accept(args, ctx);
          if (r.seq !== undefined) seqs[ctx.region].push(r.seq);
          return r;
        }}};
      },
    };
    const gw = await startGateway({regions: REGIONS, internalSecret: secret, directory});
    const clients = {};
    try {
      for (const r of REGIONS) {
        const ep = gw.endpoints[r];
        clients[r] = new Redis({host: ep.host, port: ep.port, password: 'bench-pw', db: 1});
        await clients[r].ping();
      }
      const viaGateway = async (region, args) => {
        const reply = await clients[region].call(...args.map((a, j) => (j === 0 ? a.toString() : a)));
        if (reply !== 'OK') throw new Error(`unexpected ${reply}`);
        return seqs[region].shift();
      };
      const g = await phase(cache2, `small SET ... EX 3600 at ${RATE}/s, ioredis through the gateway`, RATE, smallArgs, viaGateway);
      const gb = await phase(cache2, `1 MB SET at ${BIG_RATE}/s, ioredis through the gateway`, BIG_RATE, bigArgs, viaGateway);
      console.log(
        `target p99 <= 50 ms for small commands: in process ${s.p99 <= 50 ? 'met' : 'NOT met'} (${fmt(s.p99)}), ` +
          `through the gateway ${g.p99 <= 50 ? 'met' : 'NOT met'} (${fmt(g.p99)}); 1 MB p99 ${fmt(big.p99)} / ${fmt(gb.p99)}`,
      );
    } finally {
      for (const c of Object.values(clients)) c.disconnect();
      await gw.close();
    }
  } finally {
    await cacheRef.current.close();
    fs.rmSync(tmp, {recursive: true, force: true});
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
