#!/usr/bin/env node
// npm run bench:restart [-- --dbs 1000 --fill-concurrency 16 --baseline --adopt-only --keep --home DIR --leave-running]
// Against the BUILT server (npm run build first). Issue 11: a region host with 1,000 databases is
// back, every database ready, in 5 s or less.
// 1. fills a fresh REDFLY_HOME with N free-plan databases (one redis-server each) through the API,
//    16 creates in flight, and says how long that took;
// 2. restarts the server the way `redfly server stop` + `redfly server start` do (every
//    redis-server stopped, then brought back), and prints: time until the API answers
//    (GET /healthz 200), time until every database is `ready` AND answers AUTH + PING through its
//    URL (the gateway), the server's RSS and the redis-servers' total RSS;
// 3. a restart of the control process alone (SIGKILL of the server: its redis-servers live on and
//    the next start adopts them), the same figures;
// 4. with --baseline, the same restart with REDFLY_RECONCILE_CONCURRENCY=1 (one database after the
//    other, the old path) in the same run;
// 5. the verdicts: the restart of the control process (adoption) against the issue's 5 s, and the
//    cold start against its floor on this machine (N x the CPU of one redis-server start, measured
//    in the same run, / cores). Also printed per restart: the server's CPU time until the API
//    answered and until every database was ready, the honest figure on a shared, loaded machine.
// --adopt-only skips 2 (and the floor); --home DIR reuses (and keeps) a home an earlier --keep run
// filled; --leave-running leaves its server and redis-servers running for the next --home run.
'use strict';
const {numberOptions} = require('./common');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
for (const f of ['dist/cli/local-server.js', 'dist/control/main.js']) {
  if (!fs.existsSync(path.join(root, f))) {
    console.error(`missing ${f}: run npm run build first`);
    process.exit(1);
  }
}
const {startLocalServer, stopLocalServer, readLocalCredentials} = require(path.join(root, 'dist/cli/local-server.js'));

const opt = numberOptions(process.argv);
const DBS = opt('dbs', 1000);
const FILL_CONCURRENCY = opt('fill-concurrency', 16);
const PING_CONCURRENCY = 32;
const BASELINE = process.argv.includes('--baseline');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** VmRSS of a pid in bytes (0 when it is gone). */
function rss(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
/** CPU time (user + system) a live pid has used, in ms (clock ticks of 10 ms). */
function cpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * The CPU one cold redis-server start costs by itself (exec, dynamic linking, AOF set-up, up to
 * its first PONG), in ms: `n` servers with AOF on, spawned from this script one after the other,
 * each one's time on CPU read at its first PONG from /proc/<pid>/schedstat (nanoseconds; the
 * clock ticks of /proc/<pid>/stat truncate a ~17 ms process to 10 ms) and then stopped. The floor of a cold start of N
 * databases on this machine is N x this / cores, whatever starts them.
 */
async function perStartCpuMs(n = 20) {
  const {spawn} = require('node:child_process');
  const {freePort} = require('./common');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-bench-floor-'));
  let total = 0;
  try {
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      const d = path.join(dir, String(i));
      fs.mkdirSync(d);
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', d, '--appendonly', 'yes', '--save', ''], {stdio: 'ignore'});
      for (;;) {
        const ok = await new Promise((resolve) => {
          const sock = net.connect(port, '127.0.0.1');
          sock.on('connect', () => sock.write('PING\r\n'));
          sock.on('data', (b) => (sock.destroy(), resolve(b.toString().startsWith('+PONG'))));
          sock.on('error', () => resolve(false));
        });
        if (ok) break;
        await sleep(2);
      }
      total += Number(fs.readFileSync(`/proc/${child.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
      const gone = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
  return total / n;
}

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** Proportional set size of a pid in bytes (shared pages divided among their sharers, so that a
 *  sum over 1,000 redis-servers counts the binary's pages once), 0 when it is gone. */
function pss(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** "server 120 MiB RSS, 1000 redis-servers 12000 MiB RSS (3000 MiB PSS)" */
function memory(home, serverPid) {
  const pids = redisPids(home);
  const sum = (f) => pids.reduce((s, p) => s + f(p), 0);
  return `server ${mib(rss(serverPid))} RSS, ${pids.length} redis-servers ${mib(sum(rss))} RSS (${mib(sum(pss))} PSS)`;
}

/** The pids in the redis.pid files under <home>/data. */
function redisPids(home) {
  const pids = [];
  const data = path.join(home, 'data');
  for (const db of fs.existsSync(data) ? fs.readdirSync(data) : []) {
    for (const region of fs.readdirSync(path.join(data, db))) {
      try {
        pids.push(Number(fs.readFileSync(path.join(data, db, region, 'redis.pid'), 'utf8').trim()));
      } catch {
        // no pidfile: not running
      }
    }
  }
  return pids.filter((p) => rss(p) > 0);
}

/** Runs `fn` over `items`, `n` at a time. */
async function pool(items, n, fn) {
  const queue = [...items];
  await Promise.all(Array.from({length: n}, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

/** AUTH + PING through a redis:// URL; resolves once both are answered, rejects otherwise. */
function authPing(url) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    const pw = decodeURIComponent(u.password);
    let got = '';
    const timer = setTimeout(() => (sock.destroy(), reject(new Error(`${url}: no answer`))), 10_000);
    sock.on('connect', () => sock.write(`*3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$${Buffer.byteLength(pw)}\r\n${pw}\r\n*1\r\n$4\r\nPING\r\n`));
    sock.on('data', (d) => {
      got += d.toString();
      if (got.startsWith('-')) {
        clearTimeout(timer);
        sock.destroy();
        reject(new Error(got.trim()));
      } else if (got === '+OK\r\n+PONG\r\n') {
        clearTimeout(timer);
        sock.end();
        resolve();
      }
    });
    sock.on('error', (err) => (clearTimeout(timer), reject(err)));
  });
}

async function main() {
  // 1,000 creates in a few seconds: lift the per-organization quotas for the server this bench
  // starts (it inherits this environment), as an operator would for such a host.
  process.env.REDFLY_ORG_CREATES_PER_MINUTE ??= '1000000';
  process.env.REDFLY_ORG_MAX_DATABASES ??= '1000000';
  const homeArg = process.argv.indexOf('--home');
  // --home DIR: reuse a home an earlier run left with --keep (its fill is skipped when it already
  // holds --dbs databases)
  const home = homeArg >= 0 ? path.resolve(process.argv[homeArg + 1]) : fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-bench-restart-'));
  let failed = false;
  try {
    let {apiUrl, pid} = await startLocalServer({home, port: 0});
    const {token} = readLocalCredentials(home);
    const call = async (method, url, body) => {
      const res = await fetch(apiUrl + url, {
        method,
        headers: {authorization: `Bearer ${token}`, ...(body ? {'content-type': 'application/json'} : {})},
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const all = async () => {
      const out = [];
      let cursor = null;
      do {
        const page = await call('GET', `/v1/databases?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
        out.push(...page.databases);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    };
    /** Every database ready (throws on a failed one); returns them. Polls the cheap /healthz
     *  (how many databases are still coming back) rather than the list, which would load the
     *  server it measures, then reads the list. */
    const untilAllReady = async () => {
      for (;;) {
        const health = await (await fetch(`${apiUrl}/healthz`)).json();
        if (!health.databasesStarting) {
          const dbs = await all();
          const bad = dbs.find((d) => d.status === 'failed');
          if (bad) {
            const said = fs.readFileSync(path.join(home, 'server.log'), 'utf8').split('\n').filter((l) => l.includes(bad.id) && /"level":(40|50)/.test(l));
            throw new Error(`database ${bad.id} failed: ${bad.statusMessage}\n${said.slice(-3).join('\n')}`);
          }
          if (dbs.length === DBS && dbs.every((d) => d.status === 'ready')) return dbs;
        }
        await sleep(20);
      }
    };
    console.log(`redfly bench:restart (${DBS} databases, ${os.cpus().length} cores, ${mib(os.totalmem())} RAM, REDFLY_REDIS_HZ=${process.env.REDFLY_REDIS_HZ ?? "unset (Redis default 10)"}, state in ${home})`);

    // ---- 1. fill
    const t0 = performance.now();
    const have = new Set((await all()).map((d) => d.name));
    await pool(Array.from({length: DBS}, (_, i) => i).filter((i) => !have.has(`db-${i}`)), FILL_CONCURRENCY, (i) =>
      call('POST', '/v1/databases', {org: 'personal', name: `db-${i}`, primaryRegion: 'mad', plan: 'free'}),
    );
    const accepted = performance.now() - t0;
    await untilAllReady();
    console.log(`fill: ${DBS} creates accepted in ${secs(accepted)}, all ready in ${secs(performance.now() - t0)} (${FILL_CONCURRENCY} in flight)`);
    console.log(`memory before restart: ${memory(home, pid)}`);

    /** Start the server (after a stop or a kill) and time it. */
    const restart = async (label, env = {}) => {
      const saved = {};
      for (const [k, v] of Object.entries(env)) (saved[k] = process.env[k]), (process.env[k] = v);
      const t = performance.now();
      try {
        ({apiUrl, pid} = await startLocalServer({home, port: 0}));
      } finally {
        for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
      }
      const answering = performance.now() - t;
      const cpuAnswering = cpuMs(pid);
      const dbs = await untilAllReady();
      const readyAt = performance.now() - t;
      const cpuReady = cpuMs(pid);
      await pool(dbs, PING_CONCURRENCY, async (d) => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await authPing(d.privateUrl);
          } catch (err) {
            if (attempt > 100) throw err;
            await sleep(20);
          }
        }
      });
      const pinged = performance.now() - t;
      console.log(
        `${label}: API answering after ${secs(answering)}, every database ready after ${secs(readyAt)}, ` +
          `ready and answering PING through its URL after ${secs(pinged)} (${(pinged / DBS).toFixed(1)} ms a database); ` +
          `server CPU: ${cpuAnswering} ms until the API answered, ${cpuReady - cpuAnswering} ms more until every database was ready ` +
          `(${((cpuReady - cpuAnswering) / DBS).toFixed(2)} ms a database); memory: ${memory(home, pid)}`,
      );
      return {answering, readyAt, pinged};
    };

    // ---- 2. stop + start
    let t = performance.now();
    let cold = null;
    if (!process.argv.includes('--adopt-only')) {
      await stopLocalServer(home);
      console.log(`stop: ${secs(performance.now() - t)} (every redis-server stopped)`);
      cold = await restart('start after stop');
    }

    // ---- 3. the control process alone dies
    const before = new Set(redisPids(home));
    process.kill(pid, 'SIGKILL');
    while (rss(pid) > 0) await sleep(10);
    const adopted = await restart('start after SIGKILL of the server');
    const kept = redisPids(home).filter((p) => before.has(p)).length;
    console.log(`  ${kept} of ${before.size} redis-servers kept their pid (adopted)`);

    // ---- 4. baseline: one database after the other
    if (BASELINE) {
      t = performance.now();
      await stopLocalServer(home);
      const seq = await restart('baseline, start after stop, REDFLY_RECONCILE_CONCURRENCY=1', {REDFLY_RECONCILE_CONCURRENCY: '1'});
      console.log(`  concurrent start is ${(seq.pinged / cold.pinged).toFixed(1)}x faster than one at a time`);
    }
    // Issue 11: a region host with 1,000 databases is back, every database ready, in 5 s or less.
    // The restart that matters for a region host is its control process coming back while its
    // redis-servers live on (adoption): that is the figure held against the target. A cold start
    // cannot beat N x the CPU of one redis-server start / cores, measured here in the same run.
    const scale = 1000 / DBS;
    console.log(
      `target (issue 11), restart of the control process (adoption): every database ready in <= 5 s: ` +
        `${adopted.readyAt <= 5000 ? 'met' : 'NOT met'} (${secs(adopted.readyAt)}${DBS !== 1000 ? `; for 1,000, the start as measured plus the adoptions x${scale.toFixed(2)}: ${secs(adopted.answering + (adopted.readyAt - adopted.answering) * scale)}` : ''})`,
    );
    if (cold) {
      const per = await perStartCpuMs();
      const cores = os.availableParallelism?.() ?? os.cpus().length;
      const floor = (DBS * per) / cores;
      console.log(
        `cold start (every redis-server stopped): every database ready after ${secs(cold.readyAt)}; floor on this machine ` +
          `${DBS} x ${per.toFixed(1)} ms CPU a redis-server start / ${cores} cores = ${secs(floor)} (${(cold.readyAt / floor).toFixed(1)}x the floor)`,
      );
    }
  } catch (err) {
    console.error(`bench:restart failed: ${err.stack ?? err}`);
    failed = true;
  } finally {
    const t = performance.now();
    if (!process.argv.includes('--leave-running')) await stopLocalServer(home).catch(() => undefined);
    console.log(`cleanup stop: ${secs(performance.now() - t)}`);
    if (process.argv.includes('--keep') || homeArg >= 0) console.log(`kept ${home}`);
    else fs.rmSync(home, {recursive: true, force: true});
  }
  process.exit(failed ? 1 : 0);
}

void main();
