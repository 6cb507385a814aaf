#!/usr/bin/env node
// What TLS costs on the gateway: redis-benchmark against the same gateway setup with and without
// TLS in one run, and against redis-server's own TLS port as the peer a user would compare with
// (each behind/at an identically configured redis-server). SET and GET, -c 50, unpipelined and
// -P 16, repeated; prints medians of throughput and p50/p99. Certificates: redfly's own CA and
// server certificate (src/tls), verified by redis-benchmark (--cacert).
//   npm run bench:gateway:tls [-- --reps 3 --n1 50000 --n16 300000]
'use strict';
const {freePort, loadSource, numberOptions} = require('./common');
const {spawn, execFileSync} = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const args = process.argv.slice(2);
const opt = numberOptions(args);
const REPS = opt('reps', 3);
const N1 = opt('n1', 50000);
const N16 = opt('n16', 300000);
const SECRET = 'bench-internal-secret';
const PASSWORD = 'bench-password';


async function startRedis(root, tls) {
  const port = await freePort();
  const tlsPort = tls ? await freePort() : 0;
  const dir = path.join(root, String(port));
  fs.mkdirSync(dir, {recursive: true});
  const lines = ['bind 127.0.0.1', `port ${port}`, `dir ${dir}`, 'save ""', 'appendonly no', 'databases 1',
    `user default on >${PASSWORD} ~* &* +@all -@admin`, `user redfly on >${SECRET} ~* &* +@all`];
  if (tls) {
    lines.push(`tls-port ${tlsPort}`, `tls-cert-file ${tls.certFile}`, `tls-key-file ${tls.keyFile}`, `tls-ca-cert-file ${tls.caFile}`,
      'tls-auth-clients no');
  }
  fs.writeFileSync(path.join(dir, 'redis.conf'), lines.join('\n'));
  const proc = spawn('redis-server', [path.join(dir, 'redis.conf')], {stdio: 'ignore'});
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('redis-cli', ['-p', String(port), '--user', 'redfly', '--pass', SECRET, '--no-auth-warning', 'ping'], {stdio: 'pipe'});
      return {port, tlsPort, proc};
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('redis-server did not start');
}

function runBenchmark(port, extra) {
  return new Promise((resolve, reject) => {
    const p = spawn('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-a', PASSWORD, '--csv', ...extra], {stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', () => {
      const rows = {};
      for (const line of out.split('\n')) {
        const cells = line.split('","').map((c) => c.replace(/"/g, ''));
        if (cells.length >= 7 && cells[0] !== 'test') rows[cells[0]] = {rps: Number(cells[1]), p50: Number(cells[4]), p99: Number(cells[6])};
      }
      if (Object.keys(rows).length === 0) return reject(new Error(`redis-benchmark printed nothing: ${err}`));
      resolve(rows);
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const {startGateway} = loadSource('src/gateway/index.ts');
  const {ensureOwnTls, tlsDir} = loadSource('src/tls/certificates.ts');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-bench-tls-'));
  const material = await ensureOwnTls(root, ['127.0.0.1', 'localhost']);
  const files = {certFile: path.join(tlsDir(root), 'server.pem'), keyFile: path.join(tlsDir(root), 'server-key.pem'), caFile: material.caFile};
  const plain = await startRedis(root, null);
  const secure = await startRedis(root, null);
  const peer = await startRedis(root, files);
  const plan = {maxDataSizeBytes: 4 * 1024 ** 3, maxConnections: 10000, maxCommandsPerSecond: 1e9, maxDailyCommands: null,
    maxDailyBandwidthBytes: 1e15, maxRequestSizeBytes: 10 * 1024 * 1024};
  const tenant = (port) => ({kind: 'managed', id: `bench-${port}`, plan, eviction: false, primaryRegion: 'mad',
    primary: {host: '127.0.0.1', port}, replicas: {}});
  const tPlain = tenant(plain.port);
  const tSecure = tenant(secure.port);
  const gwPlain = await startGateway({regions: ['mad'], internalSecret: SECRET, directory: {byPassword: (pw) => (pw === PASSWORD ? tPlain : undefined)}});
  const gwTls = await startGateway({regions: ['mad'], internalSecret: SECRET, tls: material,
    directory: {byPassword: (pw) => (pw === PASSWORD ? tSecure : undefined)}});
  const tlsArgs = ['--tls', '--cacert', material.caFile];
  const targets = {
    'gateway': {port: gwPlain.endpoints.mad.port, extra: []},
    'gateway+tls': {port: gwTls.endpoints.mad.port, extra: tlsArgs},
    'redis+tls': {port: peer.tlsPort, extra: tlsArgs},
  };
  const loads = [
    {name: '-c 50 -P 1', args: ['-t', 'set,get', '-c', '50', '-n', String(N1), '-P', '1', '-r', '100000', '-d', '64']},
    {name: '-c 50 -P 16', args: ['-t', 'set,get', '-c', '50', '-n', String(N16), '-P', '16', '-r', '100000', '-d', '64']},
  ];
  const results = [];
  const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  try {
    for (let rep = 1; rep <= REPS; rep++) {
      for (const l of loads) {
        const order = Object.keys(targets);
        if (rep % 2 === 0) order.reverse(); // this machine's speed drifts within a run
        for (const name of order) {
          const rows = await runBenchmark(targets[name].port, [...targets[name].extra, ...l.args]);
          for (const [t, r] of Object.entries(rows)) results.push({target: name, load: l.name, test: t, ...r});
          process.stderr.write(`rep ${rep} ${l.name} ${name}: ${Object.entries(rows).map(([t, r]) => `${t} ${Math.round(r.rps)} rps`).join(', ')}\n`);
        }
      }
    }
  } finally {
    await gwPlain.close();
    await gwTls.close();
    for (const r of [plain, secure, peer]) r.proc.kill('SIGKILL');
    fs.rmSync(root, {recursive: true, force: true});
  }
  console.log(`\nload average before/after: ${loadBefore} / ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes share these cores)`);
  console.log(`redis-benchmark, ${REPS} reps, medians; -d 64 -r 100000; ECDSA P-256 certificate, TLS 1.3; node ${process.version}, ${os.cpus().length} cores`);
  console.log('load          test   gateway rps  gateway+tls rps  tls/plain  redis+tls rps  p50 ms gw/gw+tls/redis+tls  p99 ms gw/gw+tls/redis+tls');
  for (const l of loads) {
    for (const t of [...new Set(results.filter((r) => r.load === l.name).map((r) => r.test))]) {
      const pick = (target, k) => median(results.filter((r) => r.load === l.name && r.test === t && r.target === target).map((r) => r[k]));
      const fmt = (k) => ['gateway', 'gateway+tls', 'redis+tls'].map((x) => pick(x, k).toFixed(3)).join('/');
      console.log([l.name.padEnd(13), t.padEnd(5), String(Math.round(pick('gateway', 'rps'))).padStart(12),
        String(Math.round(pick('gateway+tls', 'rps'))).padStart(16), (pick('gateway+tls', 'rps') / pick('gateway', 'rps')).toFixed(2).padStart(10),
        String(Math.round(pick('redis+tls', 'rps'))).padStart(14), fmt('p50').padStart(28), fmt('p99').padStart(28)].join(' '));
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
