#!/usr/bin/env node
// Fairness of the rate limit: N connections of one database (500 on the 500 MB plan, whose rate
// is 500 commands/s) each send GETs one after the other for D seconds, so together they ask for
// more than the plan's rate and every command waits its turn. Prints the latency per command
// (p50, p99, max) next to the fair share (N / rate seconds: what each connection would wait if
// the commands were served in turn). Gateway in this process, one redis-server behind it.
//   npm run bench:fairness [-- --conns 500 --seconds 15 --src ../other-checkout/src]
'use strict';
const {freePort, loadSource, numberOptions} = require('./common');
const {spawn, execFileSync} = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Redis = require('ioredis');

const args = process.argv.slice(2);
const opt = numberOptions(args);
const CONNS = opt('conns', 500);
const SECONDS = opt('seconds', 15);
const RATE = 500;
const SECRET = 'bench-internal-secret';

// --src DIR: the gateway of another checkout (e.g. the main branch, to compare before/after).
const srcIdx = args.indexOf('--src');
const SRC = srcIdx >= 0 ? path.resolve(args[srcIdx + 1]) : path.join(__dirname, '..', 'src');


async function main() {
  const {startGateway} = loadSource(path.join(SRC, 'gateway', 'index.ts'));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-fair-'));
  const port = await freePort();
  fs.writeFileSync(path.join(root, 'redis.conf'), [`port ${port}`, 'bind 127.0.0.1', 'save ""', `dir ${root}`,
    `user redfly on >${SECRET} ~* &* +@all`, 'user default off'].join('\n'));
  const proc = spawn('redis-server', [path.join(root, 'redis.conf')], {stdio: 'ignore'});
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync('redis-cli', ['-p', String(port), '--user', 'redfly', '--pass', SECRET, '--no-auth-warning', 'ping'], {stdio: 'pipe'});
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const plan = {maxDataSizeBytes: 524288000, maxConnections: 500, maxCommandsPerSecond: RATE, maxDailyCommands: null,
    maxDailyBandwidthBytes: 32212254720, maxRequestSizeBytes: 10485760};
  const tenant = {kind: 'managed', id: 'fair', plan, eviction: false, primaryRegion: 'mad', primary: {host: '127.0.0.1', port}, replicas: {}};
  const gw = await startGateway({regions: ['mad'], internalSecret: SECRET, directory: {byPassword: (pw) => (pw === 'pw' ? tenant : undefined)}});
  const clients = [];
  for (let i = 0; i < CONNS; i++) {
    const c = new Redis({port: gw.endpoints.mad.port, password: 'pw', lazyConnect: true, enableOfflineQueue: true});
    clients.push(c);
  }
  for (let i = 0; i < clients.length; i += 50) await Promise.all(clients.slice(i, i + 50).map((c) => c.connect()));
  const lat = [];
  const end = Date.now() + SECONDS * 1000;
  const warm = Date.now() + 3000; // the bucket starts full: skip the first burst
  await Promise.all(clients.map(async (c) => {
    while (Date.now() < end) {
      const t = process.hrtime.bigint();
      await c.get('k');
      if (Date.now() > warm) lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  for (const c of clients) c.disconnect();
  await gw.close();
  proc.kill('SIGKILL');
  fs.rmSync(root, {recursive: true, force: true});
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  console.log(`${CONNS} connections, plan rate ${RATE}/s, ${SECONDS} s (first 3 s not counted): ${lat.length} commands, ${(lat.length / (SECONDS - 3)).toFixed(0)}/s`);
  console.log(`fair share ${(CONNS / RATE * 1000).toFixed(0)} ms; p50 ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms, max ${lat[lat.length - 1].toFixed(0)} ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
