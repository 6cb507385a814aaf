#!/usr/bin/env node
// redis-benchmark against a direct redis-server and, in the same run, against an identically
// configured redis-server behind the gateway (gateway in this process). SET and GET, -c 50,
// unpipelined and -P 16, repeated; prints the medians, throughput ratios, p50/p99 latency, the
// p50 overhead, and CPU µs per command of redis-server and of the gateway.
//   npm run bench:gateway [-- --reps 3 --n1 100000 --n16 1000000]
'use strict';
const {spawn, execFileSync} = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const REPS = opt('reps', 3);
const N1 = opt('n1', 100000);
const N16 = opt('n16', 1000000);
const NLAT = opt('nlat', 20000);
const SECRET = 'bench-internal-secret';
const PASSWORD = 'bench-password';

function loadGateway() {
  const dist = path.join(__dirname, '..', 'dist', 'gateway', 'index.js');
  const out = path.join(os.tmpdir(), `redfly-gateway-bench-${process.pid}.js`);
  try {
    require('esbuild').buildSync({
      entryPoints: [path.join(__dirname, '..', 'src', 'gateway', 'index.ts')],
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
  } catch (e) {
    if (fs.existsSync(dist)) return require(dist);
    throw e;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(root) {
  const port = await freePort();
  const dir = path.join(root, String(port));
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(
    path.join(dir, 'redis.conf'),
    [
      'bind 127.0.0.1',
      `port ${port}`,
      `dir ${dir}`,
      'save ""',
      'appendonly no',
      'databases 1',
      `user default on >${PASSWORD} ~* &* +@all -@admin`,
      `user redfly on >${SECRET} ~* &* +@all`,
    ].join('\n'),
  );
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

function procCpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

function runBenchmark(port, extra) {
  return new Promise((resolve, reject) => {
    const p = spawn('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-a', PASSWORD, '--csv', ...extra], {stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', () => {});
    p.on('error', reject);
    p.on('close', () => {
      const rows = {};
      for (const line of out.split('\n')) {
        const cells = line.split('","').map((c) => c.replace(/"/g, ''));
        if (cells.length >= 7 && cells[0] !== 'test') {
          rows[cells[0]] = {rps: Number(cells[1]), p50: Number(cells[4]), p99: Number(cells[6])};
        }
      }
      resolve(rows);
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const {startGateway} = loadGateway();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-bench-'));
  const direct = await startRedis(root);
  const behind = await startRedis(root);
  const plan = {
    maxDataSizeBytes: 4 * 1024 * 1024 * 1024,
    maxConnections: 10000,
    maxCommandsPerSecond: 1e9,
    maxDailyCommands: null,
    maxDailyBandwidthBytes: 1e15,
    maxRequestSizeBytes: 10 * 1024 * 1024,
  };
  const tenant = {kind: 'managed', id: 'bench', plan, eviction: false, primaryRegion: 'mad',
    primary: {host: '127.0.0.1', port: behind.port}, replicas: {}};
  const gw = await startGateway({regions: ['mad'], internalSecret: SECRET, directory: {byPassword: (pw) => (pw === PASSWORD ? tenant : undefined)}});
  const gwPort = gw.endpoints.mad.port;
  const results = []; // {target, load, test, rps, p50, p99, cpuRedis, cpuGw}
  const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const loads = [
    {name: '-c 50 -P 1', args: ['-t', 'set,get', '-c', '50', '-n', String(N1), '-P', '1', '-r', '100000', '-d', '64'], n: N1},
    {name: '-c 50 -P 16', args: ['-t', 'set,get', '-c', '50', '-n', String(N16), '-P', '16', '-r', '100000', '-d', '64'], n: N16},
    {name: '-c 1 -P 1', args: ['-t', 'get', '-c', '1', '-n', String(NLAT), '-r', '100000', '-d', '64'], n: NLAT},
  ];
  try {
    for (let rep = 1; rep <= REPS; rep++) {
      for (const load of loads) {
        // Alternate which goes first: this machine's speed drifts within a run.
        for (const target of rep % 2 ? ['direct', 'gateway'] : ['gateway', 'direct']) {
          const port = target === 'direct' ? direct.port : gwPort;
          const redisPid = target === 'direct' ? direct.proc.pid : behind.proc.pid;
          const r0 = procCpuMs(redisPid);
          const g0 = process.cpuUsage();
          const rows = await runBenchmark(port, load.args);
          const r1 = procCpuMs(redisPid);
          const g1 = process.cpuUsage(g0);
          const tests = Object.keys(rows);
          const cmds = load.n * tests.length;
          for (const t of tests) {
            results.push({target, load: load.name, test: t, ...rows[t],
              cpuRedis: ((r1 - r0) * 1000) / cmds, cpuGw: target === 'gateway' ? (g1.user + g1.system) / cmds : 0});
          }
          process.stderr.write(`rep ${rep} ${load.name} ${target}: ${tests.map((t) => `${t} ${Math.round(rows[t].rps)} rps p50 ${rows[t].p50}`).join(', ')}\n`);
        }
      }
    }
  } finally {
    await gw.close();
    direct.proc.kill('SIGKILL');
    behind.proc.kill('SIGKILL');
    fs.rmSync(root, {recursive: true, force: true});
  }
  console.log(`\nload average before/after: ${loadBefore} / ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes share these cores)`);
  console.log(`redis-benchmark, ${REPS} reps, medians; -d 64 -r 100000; redis ${execFileSync('redis-server', ['--version']).toString().split(' ')[2]}, node ${process.version}, ${os.cpus().length} cores`);
  console.log('load          test  direct rps  gateway rps  ratio  p50 direct/gw ms  p99 direct/gw ms  p50 overhead us  redis cpu us/cmd direct/gw  gateway cpu us/cmd');
  for (const load of loads) {
    const tests = [...new Set(results.filter((r) => r.load === load.name).map((r) => r.test))];
    for (const t of tests) {
      const pick = (target, k) => median(results.filter((r) => r.load === load.name && r.test === t && r.target === target).map((r) => r[k]));
      const d = pick('direct', 'rps');
      const g = pick('gateway', 'rps');
      const line = [
        load.name.padEnd(13),
        t.padEnd(5),
        String(Math.round(d)).padStart(10),
        String(Math.round(g)).padStart(12),
        (g / d).toFixed(2).padStart(6),
        `${pick('direct', 'p50').toFixed(3)}/${pick('gateway', 'p50').toFixed(3)}`.padStart(17),
        `${pick('direct', 'p99').toFixed(3)}/${pick('gateway', 'p99').toFixed(3)}`.padStart(17),
        String(Math.round((pick('gateway', 'p50') - pick('direct', 'p50')) * 1000)).padStart(16),
        `${pick('direct', 'cpuRedis').toFixed(2)}/${pick('gateway', 'cpuRedis').toFixed(2)}`.padStart(27),
        pick('gateway', 'cpuGw').toFixed(2).padStart(19),
      ];
      console.log(line.join(' '));
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
