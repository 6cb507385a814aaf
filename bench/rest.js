#!/usr/bin/env node
// SET and GET through the REST API (HTTP keep-alive, JSON bodies as @upstash/redis sends them)
// against the same through the RESP gateway, in one run, on one redis-server: 50 requests in
// flight at once for each, unpipelined. The gateway and the REST API run in this process; the
// load comes from a child process (node:http keep-alive agent with 50 sockets for REST, 50
// ioredis connections for RESP), so both sides pay a Node client. Prints per test the median
// over reps of throughput, the REST/RESP ratio, p50/p99 latency, and this process's CPU per
// command (gateway + REST). For scale, the same client against a bare node:http server that
// answers every request at once ("bare HTTP"): the part of REST's cost that is HTTP in Node.
//   npm run bench:rest [-- --reps 3 --n 20000 --c 50]
'use strict';
const {freePort, numberOptions} = require('./common');
const {spawn, execFileSync} = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const args = process.argv.slice(2);
const opt = numberOptions(args);
const REPS = opt('reps', 3);
const N = opt('n', 20000);
const C = opt('c', 50);
const SECRET = 'bench-internal-secret';
const PASSWORD = 'bench-password';
const TOKEN = 'bench-rest-token';

// ---- the load generator (child) ------------------------------------------------------------

async function client(cfg) {
  module.paths.push(path.join(__dirname, '..', 'node_modules'));
  const Redis = require('ioredis');
  const value = 'v'.repeat(64);
  const key = () => `key:${Math.floor(Math.random() * 100000)}`;
  const agent = new http.Agent({keepAlive: true, maxSockets: C});
  const restCall = (body, port = cfg.restPort) =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = http.request({host: '127.0.0.1', port, method: 'POST', path: '/', agent,
        headers: {Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data)}}, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${res.statusCode} ${text}`))));
      });
      req.on('error', reject);
      req.end(data);
    });
  const conns = [];
  for (let i = 0; i < C; i++) {
    const r = new Redis({port: cfg.gwPort, host: '127.0.0.1', password: PASSWORD, enableAutoPipelining: false});
    conns.push(r);
  }
  await Promise.all(conns.map((r) => r.ping()));
  for (let i = 0; i < C; i++) await restCall(['PING']); // open the keep-alive sockets
  const run = async (target, test) => {
    const lat = new Float64Array(N);
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({length: C}, async (_, w) => {
      for (;;) {
        const i = next++;
        if (i >= N) return;
        const s = process.hrtime.bigint();
        if (target === 'rest') await restCall(test === 'SET' ? ['SET', key(), value] : ['GET', key()]);
        else if (target === 'http') await restCall(test === 'SET' ? ['SET', key(), value] : ['GET', key()], cfg.bareHttpPort);
        else if (test === 'SET') await conns[w].set(key(), value);
        else await conns[w].get(key());
        lat[i] = Number(process.hrtime.bigint() - s) / 1e6;
      }
    }));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    lat.sort();
    return {rps: N / secs, p50: lat[Math.floor(N * 0.5)], p99: lat[Math.floor(N * 0.99)]};
  };
  process.on('message', async (m) => {
    if (m.cmd === 'run') process.send({result: await run(m.target, m.test)});
    if (m.cmd === 'exit') {
      for (const r of conns) r.disconnect();
      agent.destroy();
      process.exit(0);
    }
  });
  process.send({ready: true});
}

// ---- the server side (parent) --------------------------------------------------------------

function loadServer() {
  const out = path.join(os.tmpdir(), `redfly-rest-bench-${process.pid}.js`);
  require('esbuild').buildSync({
    stdin: {
      contents: "export {startGateway} from './src/gateway/index.ts'; export {startRest} from './src/rest/server.ts';",
      resolveDir: path.join(__dirname, '..'),
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    packages: 'external',
    outfile: out,
    logLevel: 'warning',
  });
  module.paths.push(path.join(__dirname, '..', 'node_modules'));
  const m = require(out);
  fs.rmSync(out, {force: true});
  return m;
}


async function startRedis(root) {
  const port = await freePort();
  const dir = path.join(root, String(port));
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(path.join(dir, 'redis.conf'), ['bind 127.0.0.1', `port ${port}`, `dir ${dir}`, 'save ""', 'appendonly no',
    'databases 1', 'user default off', `user redfly on >${SECRET} ~* &* +@all`].join('\n'));
  const proc = spawn('redis-server', [path.join(dir, 'redis.conf')], {stdio: 'ignore'});
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('redis-cli', ['-p', String(port), '--user', 'redfly', '--pass', SECRET, '--no-auth-warning', 'ping'], {stdio: 'pipe'});
      return {port, proc};
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('redis-server did not start');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const {startGateway, startRest} = loadServer();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-rest-bench-'));
  const redis = await startRedis(root);
  const plan = {maxDataSizeBytes: 4 * 1024 ** 3, maxConnections: 10000, maxCommandsPerSecond: 1e9, maxDailyCommands: null,
    maxDailyBandwidthBytes: 1e15, maxRequestSizeBytes: 10 * 1024 * 1024};
  const tenant = {kind: 'managed', id: 'bench', plan, eviction: false, primaryRegion: 'mad', primary: {host: '127.0.0.1', port: redis.port}, replicas: {}};
  const gw = await startGateway({regions: ['mad'], internalSecret: SECRET, directory: {byPassword: (pw) => (pw === PASSWORD ? tenant : undefined)}});
  const rest = await startRest({regions: ['mad'], gateway: gw,
    directory: {byToken: (t) => (t === TOKEN ? {password: PASSWORD, readOnly: false, maxRequestBytes: plan.maxRequestSizeBytes} : undefined)}});
  const bare = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': 15});
      res.end('{"result":"OK"}');
    });
  });
  await new Promise((r) => bare.listen(0, '127.0.0.1', r));
  const cfg = {gwPort: gw.endpoints.mad.port, restPort: rest.endpoints.mad.port, bareHttpPort: bare.address().port};
  const child = spawn(process.execPath, [__filename, '--client', JSON.stringify(cfg), ...args],
    {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
  const ask = (m) => new Promise((resolve) => {
    child.once('message', resolve);
    child.send(m);
  });
  await new Promise((resolve) => child.once('message', resolve));
  const results = [];
  const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  try {
    for (let rep = 1; rep <= REPS; rep++) {
      for (const test of ['SET', 'GET']) {
        // Alternate which goes first: this machine's speed drifts within a run.
        for (const target of rep % 2 ? ['resp', 'rest', 'http'] : ['http', 'rest', 'resp']) {
          const c0 = process.cpuUsage();
          const {result} = await ask({cmd: 'run', target, test});
          const c1 = process.cpuUsage(c0);
          results.push({target, test, ...result, cpu: (c1.user + c1.system) / N});
          process.stderr.write(`rep ${rep} ${test} ${target}: ${Math.round(result.rps)} rps p50 ${result.p50.toFixed(3)} ms p99 ${result.p99.toFixed(3)} ms\n`);
        }
      }
    }
  } finally {
    child.send({cmd: 'exit'});
    bare.close();
    await rest.close();
    await gw.close();
    redis.proc.kill('SIGKILL');
    fs.rmSync(root, {recursive: true, force: true});
  }
  console.log(`\nload average before/after: ${loadBefore} / ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes share these cores)`);
  console.log(`${REPS} reps, medians; ${N} requests per test, ${C} in flight, 64-byte values, 100000 keys; node ${process.version}, ${os.cpus().length} cores`);
  console.log('test  RESP rps  REST rps  REST/RESP  p50 RESP/REST ms  p99 RESP/REST ms  server cpu us/cmd RESP/REST  bare HTTP rps, cpu us/req');
  for (const test of ['SET', 'GET']) {
    const pick = (target, k) => median(results.filter((r) => r.test === test && r.target === target).map((r) => r[k]));
    console.log([
      test.padEnd(4),
      String(Math.round(pick('resp', 'rps'))).padStart(9),
      String(Math.round(pick('rest', 'rps'))).padStart(9),
      (pick('rest', 'rps') / pick('resp', 'rps')).toFixed(2).padStart(10),
      `${pick('resp', 'p50').toFixed(3)}/${pick('rest', 'p50').toFixed(3)}`.padStart(17),
      `${pick('resp', 'p99').toFixed(3)}/${pick('rest', 'p99').toFixed(3)}`.padStart(17),
      `${pick('resp', 'cpu').toFixed(1)}/${pick('rest', 'cpu').toFixed(1)}`.padStart(27),
      `${Math.round(pick('http', 'rps'))}, ${pick('http', 'cpu').toFixed(1)}`.padStart(25),
    ].join(' '));
  }
}

if (args[0] === '--client') {
  client(JSON.parse(args[1])).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
