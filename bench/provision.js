#!/usr/bin/env node
// npm run bench:provision — against the BUILT server (npm run build first).
// 1. create -> ready time with 0 and with 2 read regions (real redis-server processes), next to
//    a baseline: spawning one bare redis-server and waiting for its first PONG, on this machine,
//    in this run;
// 2. GET /v1/databases page time with 1,000 and 10,000 records (records written straight into
//    the server's store; they have no processes, which listing does not need), next to a
//    baseline: GET /healthz on the same server.
// With --pg, both run twice in one go: against the SQLite store, then against a throwaway
// PostgreSQL (scripts/postgres.js; REDFLY_DATABASE_URL for the server), each line labelled.
// Targets (issue 3): ready with 2 replicas <= 500 ms median; a list page out of 10,000 <= 30 ms.
'use strict';
const {freePort} = require('./common');
const {spawn} = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
for (const f of ['dist/cli/local-server.js', 'dist/control/main.js', 'dist/store/index.js']) {
  if (!fs.existsSync(path.join(root, f))) {
    console.error(`missing ${f}: run npm run build first`);
    process.exit(1);
  }
}
const {startLocalServer, stopLocalServer, readLocalCredentials} = require(path.join(root, 'dist/cli/local-server.js'));
const {openStore} = require(path.join(root, 'dist/store/index.js'));
const {startPostgres} = require('../scripts/postgres');

const CREATES = Number(process.env.BENCH_CREATES || 12);
const PAGE_SAMPLES = Number(process.env.BENCH_PAGE_SAMPLES || 60);
const REGIONS = ['ams', 'cdg', 'fra', 'lhr', 'mad', 'ord', 'iad', 'sjc', 'syd', 'nrt', 'sin', 'gru'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (ms) => `${ms.toFixed(1)} ms`;
const summary = (xs) => `median ${fmt(median(xs))}, max ${fmt(Math.max(...xs))}, n=${xs.length}`;

async function main() {
  // 24 creates in well under a minute: lift the per-organization quotas for the server this bench
  // starts (it inherits this environment), as an operator would for such a tenant.
  process.env.REDFLY_ORG_CREATES_PER_MINUTE ??= '100000';
  process.env.REDFLY_ORG_MAX_DATABASES ??= '100000';
  let failed = false;
  let pg = null;
  try {
    await bench('SQLite', {...process.env, REDFLY_DATABASE_URL: ''}, true);
    if (process.argv.includes('--pg')) {
      pg = await startPostgres();
      await bench('PostgreSQL', {...process.env, REDFLY_DATABASE_URL: pg.url}, false);
    }
  } catch (err) {
    failed = true;
    console.error(`bench failed: ${err.stack || err}`);
  } finally {
    if (pg) await pg.stop();
  }
  process.exit(failed ? 1 : 0);
}

/** Both measures against one server whose store the environment `env` chooses; lines start
 *  with `label`. Throws on the first failed request. */
async function bench(label, env, withBaseline) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-bench-'));
  const log = (line) => console.log(`[${label}] ${line}`);
  try {
    const {apiUrl} = await startLocalServer({home, port: 0, env});
    const {token} = readLocalCredentials(home);
    const call = async (method, url, body) => {
      const send = () =>
        fetch(apiUrl + url, {
          method,
          headers: {authorization: `Bearer ${token}`, ...(body ? {'content-type': 'application/json'} : {})},
          body: body ? JSON.stringify(body) : undefined,
        });
      // After the seconds spent inserting records, the server may have closed the idle
      // keep-alive connection just as fetch reuses it: a GET is safe to send again.
      const res = await send().catch((err) => (method === 'GET' ? send() : Promise.reject(err)));
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    log(`redfly bench:provision (server ${apiUrl}, ${os.cpus().length} cores, state in ${home})`);

    // ---- provisioning
    if (withBaseline) {
      const baseline = [];
      for (let i = 0; i < 5; i++) baseline.push(await bareRedisStart(home, i));
      log(`baseline: one bare redis-server spawned until its first PONG: ${summary(baseline)}`);
    }

    const createToReady = async (readRegions) => {
      const primaryRegion = REGIONS.find((r) => !readRegions.includes(r));
      const t0 = performance.now();
      const db = await call('POST', '/v1/databases', {org: 'personal', primaryRegion, readRegions, plan: 'free'});
      for (;;) {
        const now = await call('GET', `/v1/databases/${db.id}`);
        if (now.status === 'ready') break;
        if (now.status === 'failed') throw new Error(`create failed: ${now.statusMessage}`);
        await sleep(2);
      }
      const ms = performance.now() - t0;
      await call('DELETE', `/v1/databases/${db.id}`);
      return ms;
    };
    await createToReady([]); // warm-up: first requests compile the route schemas
    for (const readRegions of [[], ['ams', 'syd']]) {
      const times = [];
      for (let i = 0; i < CREATES; i++) times.push(await createToReady(readRegions));
      log(`create -> ready, ${readRegions.length} read regions: ${summary(times)}`);
    }

    // ---- listing
    const store = await openStore(home, env);
    let inserted = (await call('GET', '/v1/databases?limit=1000')).databases.length;
    for (const target of [1000, 10000]) {
      const start = Date.now();
      const from = inserted;
      for (; inserted < target; inserted++) {
        const at = new Date(start + inserted).toISOString();
        await store.insertDatabase({
          id: `bench${String(inserted).padStart(10, '0')}`,
          name: `bench-${inserted}`,
          org: 'personal',
          plan: 'free',
          primaryRegion: REGIONS[inserted % REGIONS.length],
          readRegions: [REGIONS[(inserted + 1) % REGIONS.length]],
          eviction: false,
          status: 'ready',
          statusMessage: null,
          password: 'p'.repeat(32),
          processes: [],
          createdAt: at,
          updatedAt: at,
        });
      }
      log(`inserted ${inserted - from} records one by one through the store in ${fmt(Date.now() - start)}`);
      // cursors of pages spread over the whole list, to time deep pages too
      const cursors = [null];
      let cursor = null;
      do {
        const page = await call('GET', `/v1/databases?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
        cursor = page.nextCursor;
        if (cursor) cursors.push(cursor);
      } while (cursor);
      const timed = async (url) => {
        const t0 = performance.now();
        const res = await fetch(apiUrl + url, {headers: {authorization: `Bearer ${token}`}});
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${url}: ${res.status}`);
        return performance.now() - t0;
      };
      const health = [];
      const first = [];
      const deep = [];
      const big = [];
      for (let i = 0; i < PAGE_SAMPLES; i++) {
        health.push(await timed('/healthz'));
        first.push(await timed('/v1/databases'));
        const c = cursors[1 + (i % (cursors.length - 1 || 1))] || cursors[0];
        deep.push(await timed(`/v1/databases${c ? `?cursor=${c}` : ''}`));
        if (i % 4 === 0) big.push(await timed('/v1/databases?limit=1000'));
      }
      log(`${target} records: GET /v1/databases (first page of 100): ${summary(first)}`);
      log(`${target} records: GET /v1/databases?cursor=... (deep pages of 100): ${summary(deep)}`);
      log(`${target} records: GET /v1/databases?limit=1000: ${summary(big)}`);
      log(`${target} records: baseline GET /healthz: ${summary(health)}`);
    }
    await store.close();
  } finally {
    const r = await stopLocalServer(home).catch(() => null);
    if (r && r.orphansStopped) console.error(`warning: ${r.orphansStopped} redis-server process(es) outlived the server`);
    fs.rmSync(home, {recursive: true, force: true});
  }
}

/** Time from spawning a bare redis-server to its first PONG: the floor for any create. */
async function bareRedisStart(home, i) {
  const port = await freePort();
  const dir = path.join(home, `baseline-${i}`);
  fs.mkdirSync(dir);
  const t0 = performance.now();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {stdio: 'ignore'});
  try {
    for (;;) {
      if (await ping(port)) return performance.now() - t0;
      await sleep(1);
    }
  } finally {
    child.kill('SIGKILL');
  }
}

function ping(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('error', () => resolve(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}


main();
