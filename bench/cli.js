#!/usr/bin/env node
// Start-up cost of the CLI as users feel it: medians of wall time over RUNS rounds, each round
// running `node -e 0` next to every measured command so that machine noise hits both alike.
// Needs a build (npm run build). Starts a real control plane in a temp REDFLY_HOME holding
// DATABASES databases (0 replicas each), and stops it (and its redis-server processes) at the end.
'use strict';
const {spawn, spawnSync} = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.RUNS || 15);
const DATABASES = Number(process.env.DATABASES || 100);
const BIN = path.join(ROOT, 'bin', 'run.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer(home) {
  // The fill creates DATABASES databases in seconds: lift the per-organization quotas, as an
  // operator would for such a tenant (REDFLY_ORG_CREATES_PER_MINUTE, REDFLY_ORG_MAX_DATABASES).
  const env = {...process.env, REDFLY_ORG_CREATES_PER_MINUTE: '100000', REDFLY_ORG_MAX_DATABASES: '100000'};
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/control/main.js'), '--port', '0', '--home', home], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
  const credsFile = path.join(home, 'local-credentials.json');
  for (let i = 0; i < 200; i++) {
    if (fs.existsSync(path.join(home, 'server.json')) && fs.existsSync(credsFile)) {
      const creds = JSON.parse(fs.readFileSync(credsFile, 'utf8'));
      try {
        const res = await fetch(`${creds.apiUrl}/healthz`);
        if (res.ok) return {child, ...creds};
      } catch {
        // not listening yet
      }
    }
    await sleep(50);
  }
  child.kill('SIGTERM');
  throw new Error('control plane did not start');
}

async function call(server, method, route, body) {
  const res = await fetch(`${server.apiUrl}${route}`, {
    method,
    headers: {authorization: `Bearer ${server.token}`, 'content-type': 'application/json'},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function fill(server) {
  const regions = await call(server, 'GET', '/v1/regions');
  const names = [];
  for (let i = 0; i < DATABASES; i += 10) {
    const batch = [];
    for (let j = i; j < Math.min(DATABASES, i + 10); j++) {
      const name = `bench-db-${String(j).padStart(3, '0')}`;
      names.push(name);
      batch.push(
        call(server, 'POST', '/v1/databases', {
          org: 'personal',
          name,
          primaryRegion: regions[j % regions.length].code,
          readRegions: [],
          plan: 'free',
        }),
      );
    }
    await Promise.all(batch);
  }
  for (;;) {
    const {databases} = await call(server, 'GET', '/v1/databases?limit=1000');
    if (databases.length >= DATABASES && databases.every((d) => d.status === 'ready')) break;
    await sleep(200);
  }
  return names;
}

function time(args, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, {env, encoding: 'utf8'});
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return {ms, stdout: r.stdout};
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist/control/main.js'))) throw new Error('build first: npm run build');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-bench-cli-'));
  const server = await startServer(home);
  try {
    const t0 = Date.now();
    const names = await fill(server);
    console.log(`${DATABASES} databases ready in ${Date.now() - t0} ms; ${RUNS} rounds\n`);
    // No REDFLY_API_URL: the CLI finds the local server of REDFLY_HOME as a user's would.
    const env = {...process.env, REDFLY_HOME: home, REDFLY_AUTOSTART: '0'};
    delete env.REDFLY_API_URL;
    delete env.REDFLY_ACCESS_TOKEN;
    const cases = {
      'node -e 0': ['-e', '0'],
      'redfly --version': [BIN, '--version'],
      'redfly redis list --json': [BIN, 'redis', 'list', '--json'],
      [`redfly redis status ${names[0]} --json`]: [BIN, 'redis', 'status', names[0], '--json'],
    };
    // A first run of each warms the OS file cache; it is not counted.
    const list = JSON.parse(time(cases['redfly redis list --json'], env).stdout);
    if (list.length !== DATABASES) throw new Error(`list returned ${list.length} databases`);
    for (const args of Object.values(cases)) time(args, env);
    const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [label, args] of Object.entries(cases)) samples[label].push(time(args, env).ms);
    }
    const base = median(samples['node -e 0']);
    const width = Math.max(...Object.keys(cases).map((k) => k.length));
    console.log(`${'command'.padEnd(width)}  median ms   min ms   x node -e 0`);
    for (const [label, xs] of Object.entries(samples)) {
      const m = median(xs);
      console.log(
        `${label.padEnd(width)}  ${m.toFixed(1).padStart(9)}  ${Math.min(...xs).toFixed(1).padStart(7)}   ${(m / base).toFixed(2)}x`,
      );
    }
    console.log('\ntarget: each redfly command <= 2.00x node -e 0');
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    fs.rmSync(home, {recursive: true, force: true});
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
