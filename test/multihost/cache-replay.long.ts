// The regional cache across region hosts with one host away (npm run test:multihost; not in
// npm test): three region hosts on one PostgreSQL log. While database-1 writes go to mad, the fra
// host is cut off (its link down, then in a second test its processes killed); the writes are
// acknowledged all the same (while fra's own clients get an error, not +OK), and once fra is
// back its region converges to exactly the data of the others: INCR and RPUSH show a command
// applied twice, skipped or out of log order.
import Redis from 'ioredis';
import {join} from 'node:path';
import {Cluster, createCluster, eventually} from './cluster';

const REGIONS = ['mad', 'ams', 'fra'];
const ORG = 'personal';

// Namespaces need root (CI runs as root).
const runnable = process.getuid?.() === 0;
(runnable ? describe : describe.skip)('the regional cache across hosts, one host away', () => {
  let c: Cluster;
  const urls: Record<string, string> = {};
  let written = 0; // RPUSH/INCR pairs sent so far (each acknowledged)

  beforeAll(async () => {
    c = await createCluster(REGIONS);
    await c.start('control');
    await Promise.all(REGIONS.map((r) => c.start(r)));
    // Each region host answers the cache's route with its own region's URL.
    for (const region of REGIONS) {
      const api = c.api(region);
      try {
        urls[region] = (await api.getCacheInfo(ORG)).regions.find((r) => r.region === region)!.url;
      } finally {
        api.close();
      }
    }
  }, 120_000);

  afterAll(async () => {
    await c?.teardown();
  });

  /** `n` INCR + RPUSH pairs to database 1 through mad's gateway; every reply must be +OK. */
  let db1: Redis | null = null; // one connection for every write (closed by teardown)
  async function write(n: number): Promise<void> {
    if (!db1) {
      db1 = c.redis(urls.mad);
      await db1.select(1);
    }
    const replies: Array<Promise<unknown>> = [];
    for (let i = 0; i < n; i++) {
      const k = written++;
      replies.push(db1.incr('counter'), db1.rpush('list', `e${k}`));
    }
    // Database 1 answers +OK to every write (INCR too): acknowledged = committed in the log.
    expect(new Set(await Promise.all(replies))).toEqual(new Set(['OK']));
  }

  /** What a region's database 0 holds now (a fresh connection each time: the host may have been
   *  unreachable since the last one). */
  async function contents(region: string): Promise<{counter: string | null; list: string[]}> {
    const r = new Redis(urls[region], {tls: {ca: c.caPem(), checkServerIdentity: () => undefined}, maxRetriesPerRequest: 0,
      retryStrategy: () => null, connectTimeout: 2000, lazyConnect: true});
    r.on('error', () => undefined);
    try {
      await r.connect();
      return {counter: await r.get('counter'), list: await r.lrange('list', 0, -1)};
    } finally {
      r.disconnect();
    }
  }

  const expected = () => ({counter: String(written), list: Array.from({length: written}, (_, k) => `e${k}`)});

  /** Waits until `region` holds exactly the expected data; returns how long that took. */
  async function converged(region: string, timeoutMs: number): Promise<number> {
    const start = Date.now();
    const want = JSON.stringify(expected());
    await eventually(async () => (JSON.stringify(await contents(region)) === want ? true : undefined), timeoutMs, `${region} converged`);
    return Date.now() - start;
  }

  /** One database-1 command sent by redis-cli inside fra's namespace (a client on that host),
   *  its reply as redis-cli prints it. */
  function db1OnFra(...args: string[]): string {
    const url = urls.fra.replace(/^rediss:/, 'redis:');
    const ca = join(c.nodes.fra.home, 'tls', 'ca.pem');
    return c.net.exec('fra', 'timeout', ['30', 'redis-cli', '-u', url, '--tls', '--cacert', ca, '--insecure', '-n', '1', ...args]).trim();
  }

  /** fra's applied sequence, as its host reports it (GET /v1/orgs/:slug/cache/status). */
  async function appliedInFra(): Promise<number> {
    const api = c.api('fra');
    try {
      return (await api.getCacheStatus(ORG)).regions.find((r) => r.region === 'fra')!.appliedSeq;
    } finally {
      api.close();
    }
  }

  test("fra's link goes down during database-1 writes to mad: acknowledged, and fra converges once back", async () => {
    await write(50);
    for (const r of REGIONS) await converged(r, 20_000);
    const before = await appliedInFra();

    c.net.linkDown('fra');
    try {
      // fra's own clients cannot reach the log: their database-1 write is refused, not +OK.
      expect(db1OnFra('INCR', 'counter')).toMatch(/^ERR the database-1 log is unavailable/);
      await write(2000);
      await converged('ams', 30_000); // the other hosts keep applying meanwhile
    } finally {
      c.net.linkUp('fra');
    }
    const took = await converged('fra', 60_000);
    for (const r of REGIONS) expect(await contents(r)).toEqual(expected());
    const after = await appliedInFra();
    console.log(`link down: fra converged ${took} ms after its link came back, replaying ${after - before} entries (applied seq ${before} -> ${after})`);
    expect(after - before).toBe(4000);
  }, 150_000);

  test("fra's processes are killed during database-1 writes: restarted, its empty backend replays the backlog once", async () => {
    c.kill('fra');
    await write(2000);
    await converged('mad', 30_000);
    const restarted = Date.now();
    await c.start('fra');
    const took = await converged('fra', 60_000);
    for (const r of REGIONS) expect(await contents(r)).toEqual(expected());
    console.log(`killed: fra converged ${Date.now() - restarted} ms after its restart began (${took} ms after /healthz answered), ` +
      `${written * 2} entries in the log`);
  }, 150_000);
});
