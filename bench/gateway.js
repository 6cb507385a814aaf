#!/usr/bin/env node
// The gateway beside two C proxies, in one run: redis-benchmark against
//   direct     a bare redis-server (the Redis behind every proxy here),
//   twemproxy  Debian's nutcracker in front of it (one server connection, like its default),
//   haproxy    Debian's haproxy in TCP mode in front of it (its default thread count),
//   gateway    the region gateway (built from src/, in a process of its own like the C
//              proxies, so its CPU is measured the same way) in front of it, for a database on the
//              operator plan "bench" of a catalogue override in a temp REDFLY_HOME: the
//              shipped plans throttle at 300-500 commands/s, that plan has no throttle
//              (maxCommandsPerSecond 0) and no daily cap, like one an operator would add.
// Loads (-d 64 -r 100000): -c 50 SET/GET, -c 50 -P 16 SET/GET, -c 1 SET/GET. Every rep runs
// every load on every target, in a rotating order (this machine's speed drifts within a run);
// the table shows, over reps, the median of each proxy's throughput as a ratio to direct Redis
// measured in the same rep and load (pairs close in time, so drift between reps cancels), and
// for -c 1 the median latency one hop adds (p50/p99 through the proxy minus direct, in µs).
// Then CPU µs per command of redis-server and of the gateway, and the gateway's raw figures.
// With --workers N (N > 1) a fifth target, "gateway xN", is the server's worker mode
// (`redfly server start --gateway-workers N`: src/gateway/cluster.ts and worker.ts, this process
// as the cluster's primary, the directory sent as a snapshot, usage exchanged every 100 ms), with
// the bench's tenant: how far more cores carry it. `--static-workers` instead runs N bare gateway
// processes on one port with a fixed directory (the stand-in of the first measurements).
// `--floor` adds the target "node floor" (bench/floor.js): bytes copied both ways through the
// gateway's own I/O layer with no gateway logic, the least a proxy in Node costs here.
// `--loads c50,p16,c1` runs only those loads (all three by default).
// The last column says whether the gateway's median ratio is at least the better C proxy's, and
// in how many reps its ratio was (same rep, same load): a row won by the median but in few reps
// is within this machine's noise.
//   npm run bench:gateway [-- --reps 5 --n1 100000 --n16 300000 --nlat 20000 --workers 2 --floor]
//   (-c 50 and -c 1 runs of about a second and a half each: shorter ones varied by a tenth from
//   run to run on a 2-core VM, more than the differences being measured)
// Needs: redis-server/redis-benchmark (redis-tools), nutcracker, haproxy:
//   apt-get install -y redis-server redis-tools nutcracker haproxy
'use strict';
const {freePort, loadSource, numberOptions, usageError} = require('./common');
const {spawn, execFileSync} = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const opt = numberOptions(args);
const REPS = opt('reps', 5);
const N1 = opt('n1', 100000);
const N16 = opt('n16', 300000);
const NLAT = opt('nlat', 20000);
const SECRET = 'bench-internal-secret';
const PASSWORD = 'bench-password';
const WORKERS = opt('workers', 1);
const PROXIES = ['twemproxy', 'haproxy', 'gateway'];
const MULTI = WORKERS > 1 ? `gateway x${WORKERS}` : null;
const STATIC_WORKERS = args.includes('--static-workers');
const FLOOR = args.includes('--floor') ? 'node floor' : null;
const ALL_LOADS = ['c50', 'p16', 'c1'];
const LOAD_IDS = args.includes('--loads') ? String(args[args.indexOf('--loads') + 1] ?? '').split(',') : ALL_LOADS;
const unknownLoad = LOAD_IDS.find((id) => !ALL_LOADS.includes(id));
if (unknownLoad !== undefined) usageError(`--loads takes a comma list of ${ALL_LOADS.join(', ')} (got "${unknownLoad}")`);
const cluster = require('node:cluster');

function need(bin) {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], {stdio: 'pipe'});
  } catch {
    console.error(`bench:gateway needs ${bin}: apt-get install -y redis-server redis-tools nutcracker haproxy`);
    process.exit(2);
  }
}


async function waitPort(port, what, proc) {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

async function startRedis(root) {
  const port = await freePort();
  const dir = path.join(root, 'redis');
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(path.join(dir, 'redis.conf'), [
    'bind 127.0.0.1',
    `port ${port}`,
    `dir ${dir}`,
    'save ""',
    'appendonly no',
    'databases 1',
    `user default on >${PASSWORD} ~* &* +@all -@admin`,
    `user redfly on >${SECRET} ~* &* +@all`,
  ].join('\n'));
  const proc = spawn('redis-server', [path.join(dir, 'redis.conf')], {stdio: 'ignore'});
  await waitPort(port, 'redis-server', proc);
  return {port, proc};
}

async function startTwemproxy(root, backend) {
  const port = await freePort();
  const conf = path.join(root, 'nutcracker.yml');
  fs.writeFileSync(conf, [
    'bench:',
    `  listen: 127.0.0.1:${port}`,
    '  hash: fnv1a_64',
    '  distribution: ketama',
    '  redis: true',
    `  redis_auth: ${PASSWORD}`,
    '  servers:',
    `   - 127.0.0.1:${backend}:1`,
    '',
  ].join('\n'));
  const statsPort = await freePort();
  const proc = spawn('nutcracker', ['-c', conf, '-s', String(statsPort), '-o', path.join(root, 'nutcracker.log')], {stdio: 'ignore'});
  await waitPort(port, 'nutcracker', proc);
  return {port, proc};
}

async function startHaproxy(root, backend) {
  const port = await freePort();
  const conf = path.join(root, 'haproxy.cfg');
  fs.writeFileSync(conf, [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    'listen redis',
    `  bind 127.0.0.1:${port}`,
    `  server r1 127.0.0.1:${backend}`,
    '',
  ].join('\n'));
  const proc = spawn('haproxy', ['-f', conf, '-db'], {stdio: 'ignore'});
  await waitPort(port, 'haproxy', proc);
  return {port, proc};
}

/** bench/floor.js on its own port, forwarding to Redis on `backend`. */
async function startFloor(backend) {
  const port = await freePort();
  const proc = spawn(process.execPath, [path.join(__dirname, 'floor.js'), String(port), String(backend)], {stdio: ['ignore', 'ignore', 'inherit']});
  await waitPort(port, 'bench/floor.js', proc);
  return {port, proc};
}

/** The operator's catalogue override: the shipped plans plus "bench" without a throttle. */
function benchCatalogue(home, loadCatalogue) {
  const shipped = JSON.parse(fs.readFileSync(path.join(ROOT, 'data', 'plans.json'), 'utf8'));
  const bench = {
    id: 'bench',
    displayName: 'Benchmark (operator plan, no throttle)',
    maxDataSizeBytes: 4 * 1024 * 1024 * 1024,
    maxConnections: 10000,
    maxCommandsPerSecond: 0,
    maxDailyCommands: null,
    maxDailyBandwidthBytes: 1e15,
    maxRequestSizeBytes: 10 * 1024 * 1024,
    pricePerMonthPerRegionUsd: 0,
  };
  fs.writeFileSync(path.join(home, 'plans.json'), JSON.stringify([...shipped, bench], null, 2));
  return loadCatalogue(home).plan('bench');
}

/** CPU time of process `pid` so far, ms: user, system (utime and stime of /proc/PID/stat, in
 *  clock ticks of 10 ms). */
function procCpu(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return {user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10};
}

function procCpuMs(pid) {
  const c = procCpu(pid);
  return c.user + c.sys;
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

function nutcrackerVersion() {
  const r = require('node:child_process').spawnSync('nutcracker', ['--version'], {encoding: 'utf8'});
  return (`${r.stdout}${r.stderr}`.match(/nutcracker-[\w.]+/) ?? ['nutcracker'])[0];
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A cluster worker: one gateway process on the shared port (see --workers). */
async function workerMain() {
  const {startGateway} = require(process.env.BENCH_GATEWAY_BUNDLE);
  const tenant = JSON.parse(process.env.BENCH_TENANT);
  const port = Number(process.env.BENCH_PORT);
  await startGateway({regions: ['mad'], internalSecret: SECRET, port: () => port,
    directory: {byPassword: (pw) => (pw === PASSWORD ? tenant : undefined), byId: () => tenant}});
  process.send('ready');
}

async function startWorkers(bundle, tenant, count) {
  const port = await freePort();
  cluster.setupPrimary({exec: __filename, silent: true});
  const workers = [];
  for (let i = 0; i < count; i++) {
    const w = cluster.fork({BENCH_GATEWAY_BUNDLE: bundle, BENCH_TENANT: JSON.stringify(tenant), BENCH_PORT: String(port)});
    workers.push(w);
    await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('exit', (code) => reject(new Error(`gateway worker exited with ${code}`)));
    });
  }
  return {port, pids: workers.map((w) => w.process.pid), stop: () => workers.forEach((w) => w.process.kill('SIGKILL'))};
}

/** The server's worker mode (src/gateway/cluster.ts) with the bench's tenant as its directory. */
async function startServerWorkers(tenant, count) {
  const {startGatewayCluster} = loadSource('src/gateway/cluster.ts');
  const workerScript = loadSource('src/gateway/worker.ts', {run: false}).__file;
  const port = await freePort();
  const gw = await startGatewayCluster({regions: ['mad'], internalSecret: SECRET, port: () => port, workers: count, workerScript,
    directory: {byPassword: (pw) => (pw === PASSWORD ? tenant : undefined), byId: () => tenant},
    feed: {snapshot: () => ({managed: [{tenant, password: PASSWORD, userKeys: []}], caches: []}), subscribe: () => () => undefined}});
  // The workers' CPU; the primary (this process) only hands connections over.
  return {port, pids: gw.workers().map((w) => w.pid), stop: () => gw.close()};
}

async function main() {
  for (const b of ['redis-server', 'redis-benchmark', 'nutcracker', 'haproxy']) need(b);
  const gatewayBundle = loadSource('src/gateway/index.ts');
  const {loadCatalogue} = loadSource('src/control/catalogue.ts');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-bench-'));
  const procs = [];
  let one = null;
  let multi = null;
  const results = []; // {target, load, test, rps, p50, p99, cpuRedis, cpuGwUser, cpuGwSys}
  const loads = [
    {id: 'c50', name: '-c 50', args: ['-t', 'set,get', '-c', '50', '-n', String(N1), '-P', '1', '-r', '100000', '-d', '64'], n: N1},
    {id: 'p16', name: '-c 50 -P 16', args: ['-t', 'set,get', '-c', '50', '-n', String(N16), '-P', '16', '-r', '100000', '-d', '64'], n: N16},
    {id: 'c1', name: '-c 1', args: ['-t', 'set,get', '-c', '1', '-n', String(NLAT), '-r', '100000', '-d', '64'], n: NLAT},
  ].filter((l) => LOAD_IDS.includes(l.id));
  const uptimeBefore = execFileSync('uptime').toString().trim();
  try {
    const redis = await startRedis(root);
    procs.push(redis.proc);
    const twem = await startTwemproxy(root, redis.port);
    procs.push(twem.proc);
    const hap = await startHaproxy(root, redis.port);
    procs.push(hap.proc);
    const plan = benchCatalogue(root, loadCatalogue);
    const tenant = {kind: 'managed', id: 'bench', plan, eviction: false, primaryRegion: 'mad',
      primary: {host: '127.0.0.1', port: redis.port}, replicas: {}};
    one = await startWorkers(gatewayBundle.__file, tenant, 1);
    const ports = {direct: redis.port, twemproxy: twem.port, haproxy: hap.port, gateway: one.port};
    const targets = ['direct', ...PROXIES];
    let floor = null;
    if (FLOOR !== null) {
      floor = await startFloor(redis.port);
      procs.push(floor.proc);
      ports[FLOOR] = floor.port;
      targets.push(FLOOR);
    }
    if (MULTI !== null) {
      multi = STATIC_WORKERS ? await startWorkers(gatewayBundle.__file, tenant, WORKERS) : await startServerWorkers(tenant, WORKERS);
      ports[MULTI] = multi.port;
      targets.push(MULTI);
    }
    // The processes whose CPU is each proxy's.
    const proxyPids = {twemproxy: [twem.proc.pid], haproxy: [hap.proc.pid], gateway: one.pids};
    if (multi !== null) proxyPids[MULTI] = multi.pids;
    if (floor !== null) proxyPids[FLOOR] = [floor.proc.pid];
    // Not recorded: the gateway's JavaScript is compiled as it runs, and a first rep would pay it.
    for (const target of targets) {
      await runBenchmark(ports[target], ['-t', 'set,get', '-c', '50', '-n', '50000', '-P', '16', '-r', '100000', '-d', '64']);
      await runBenchmark(ports[target], ['-t', 'set,get', '-c', '1', '-n', '2000', '-r', '100000', '-d', '64']);
    }
    for (let rep = 1; rep <= REPS; rep++) {
      for (const load of loads) {
        const order = targets.map((_, i) => targets[(i + rep - 1) % targets.length]);
        for (const target of order) {
          // CPU µs of the proxy under test: user, system.
          const gwCpu = () => {
            const pids = proxyPids[target] ?? [];
            return pids.map(procCpu).reduce((a, c) => ({user: a.user + c.user * 1000, sys: a.sys + c.sys * 1000}), {user: 0, sys: 0});
          };
          const r0 = procCpuMs(redis.proc.pid);
          const g0 = gwCpu();
          const rows = await runBenchmark(ports[target], load.args);
          const r1 = procCpuMs(redis.proc.pid);
          const g1 = gwCpu();
          const tests = Object.keys(rows);
          const cmds = load.n * tests.length;
          for (const t of tests) {
            results.push({rep, target, load: load.name, test: t, ...rows[t], cpuRedis: ((r1 - r0) * 1000) / cmds,
              cpuGwUser: (g1.user - g0.user) / cmds, cpuGwSys: (g1.sys - g0.sys) / cmds});
          }
          process.stderr.write(`rep ${rep} ${load.name} ${target}: ${tests.map((t) => `${t} ${Math.round(rows[t].rps)} rps p50 ${rows[t].p50} ms`).join(', ')}\n`);
        }
      }
    }
  } finally {
    if (one !== null) one.stop();
    if (multi !== null) await multi.stop();
    for (const p of procs) p.kill('SIGKILL');
    fs.rmSync(root, {recursive: true, force: true});
  }
  const pick = (target, load, test, k) =>
    median(results.filter((r) => r.target === target && r.load === load && r.test === test).map((r) => r[k]));
  // Over reps: the target against direct Redis measured in the same rep and load.
  const paired = (target, load, test, f) => {
    const xs = [];
    for (let r = 1; r <= REPS; r++) {
      const at = (t) => results.find((x) => x.rep === r && x.target === t && x.load === load && x.test === test);
      const a = at(target);
      const d = at('direct');
      if (a !== undefined && d !== undefined) xs.push(f(a, d));
    }
    return median(xs);
  };
  const ratio = (target, load, test) => paired(target, load, test, (a, d) => a.rps / d.rps);
  const us = (ms) => {
    const v = Math.round(ms * 1000);
    return v < 0 ? `${v}` : `+${v}`;
  };
  console.log(`\nredis-benchmark -d 64 -r 100000, medians of ${REPS}; redis ${execFileSync('redis-server', ['--version']).toString().split(' ')[2].slice(2)}, ` +
    `${nutcrackerVersion()}, ` +
    `haproxy ${execFileSync('haproxy', ['-v']).toString().split(' ')[2]}, node ${process.version}, ${os.cpus().length} cores`);
  const {batchedIoUnavailable} = loadSource('src/net/batched-io.ts');
  const off = batchedIoUnavailable();
  console.log(`gateway reads: ${off === '' ? 'native batch (dist/native/batched-io.node)' : `Node's own (${off})`}`);
  console.log(`uptime before: ${uptimeBefore}`);
  console.log(`uptime after:  ${execFileSync('uptime').toString().trim()}`);
  console.log('\nthroughput as a ratio to the Redis behind (direct rps: median); -c 1: (+ µs a hop, p50/p99)');
  const columns = [...PROXIES, ...(FLOOR === null ? [] : [FLOOR])];
  // Reps in which the gateway's throughput was at least the better C proxy's (same rep and load,
  // so against the same direct run).
  const repsWon = (load, test) => {
    let won = 0;
    let of = 0;
    for (let r = 1; r <= REPS; r++) {
      const at = (t) => results.find((x) => x.rep === r && x.target === t && x.load === load && x.test === test)?.rps;
      const [g, t, h] = [at('gateway'), at('twemproxy'), at('haproxy')];
      if (g === undefined || t === undefined || h === undefined) continue;
      of++;
      if (g >= Math.max(t, h)) won++;
    }
    return `${won}/${of} reps`;
  };
  console.log(`| load | direct rps | ${columns.join(' | ')} | gateway >= best C proxy |`);
  console.log(`|---|---|${columns.map(() => '---|').join('')}---|`);
  for (const load of loads) {
    for (const test of ['SET', 'GET']) {
      const d = pick('direct', load.name, test, 'rps');
      const ratios = columns.map((p) => ratio(p, load.name, test));
      const cells = columns.map((p, i) => {
        let c = ratios[i].toFixed(2);
        if (load.name === '-c 1') {
          c += ` (${us(paired(p, load.name, test, (a, x) => a.p50 - x.p50))}/` +
            `${us(paired(p, load.name, test, (a, x) => a.p99 - x.p99))} µs)`;
        }
        return c;
      });
      const best = Math.max(ratios[0], ratios[1]);
      console.log(`| \`${load.name}\` ${test} | ${Math.round(d)} | ${cells.join(' | ')} | ${ratios[2] >= best ? 'yes' : 'NO'} (${repsWon(load.name, test)}) |`);
    }
  }
  console.log('\nMedians over reps; CPU per command counts both tests of a load together:');
  console.log('load          test  target       rps        p50 ms   p99 ms   redis cpu us/cmd   proxy cpu us/cmd (user+sys)');
  for (const load of loads) {
    for (const test of ['SET', 'GET']) {
      for (const target of ['direct', ...PROXIES, ...(FLOOR === null ? [] : [FLOOR]), ...(MULTI === null ? [] : [MULTI])]) {
        console.log([
          load.name.padEnd(13), test.padEnd(5), target.padEnd(10),
          String(Math.round(pick(target, load.name, test, 'rps'))).padStart(9),
          pick(target, load.name, test, 'p50').toFixed(3).padStart(8),
          pick(target, load.name, test, 'p99').toFixed(3).padStart(8),
          pick(target, load.name, test, 'cpuRedis').toFixed(2).padStart(17),
          (target === 'direct' ? '' : `${(pick(target, load.name, test, 'cpuGwUser') + pick(target, load.name, test, 'cpuGwSys')).toFixed(2)} ` +
            `(${pick(target, load.name, test, 'cpuGwUser').toFixed(2)}+${pick(target, load.name, test, 'cpuGwSys').toFixed(2)})`).padStart(30),
        ].join(' '));
      }
    }
  }
  printScaling(loads, pick, ratio);
}

function printScaling(loads, pick, ratio) {
  if (MULTI === null) return;
  console.log(`\n${MULTI} (one port, ${WORKERS} processes) against one gateway process, same run:`);
  console.log(`| load | gateway rps | ${MULTI} rps | scaling | ${MULTI} as a ratio to Redis |`);
  console.log('|---|---|---|---|---|');
  for (const load of loads) {
    for (const test of ['SET', 'GET']) {
      const one = pick('gateway', load.name, test, 'rps');
      const many = pick(MULTI, load.name, test, 'rps');
      console.log(`| \`${load.name}\` ${test} | ${Math.round(one)} | ${Math.round(many)} | ${(many / one).toFixed(2)} | ${ratio(MULTI, load.name, test).toFixed(2)} |`);
    }
  }
}

if (cluster.isWorker) {
  workerMain().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else main().catch((e) => {
  console.error(e);
  process.exit(1);
});
