// Blocking commands time out when their clients expect, whatever `hz` the database's redis-server
// runs at. Redis checks blocked clients' deadlines each time its event loop wakes: on an idle
// redis-server at hz 1 (REDFLY_REDIS_HZ=1, for hosts with many databases) that is once a second,
// so `BLPOP k 0.1` answers after a second. While a database has clients, the gateway's monitor
// samples it every 100 ms (src/gateway/tenant.ts), which wakes it as often as Redis's default hz
// would. The bounds below are a user's: at most about half of what Redis alone takes at hz 1.
import type Redis from 'ioredis';
import {GatewayHandle} from '../../../src/gateway';
import {Cluster, gateway, MemoryDirectory, startDatabase, stopDatabase, tempRoot, testClient} from './harness';

let db: Cluster;
let gw: GatewayHandle;
const dir = new MemoryDirectory();
const PW = 'pw-block-timeout';

const client = (port: number, direct = false): Redis => testClient(port, PW, direct);

async function timed<T>(f: () => Promise<T>): Promise<{value: T; ms: number}> {
  const t0 = Date.now();
  const value = await f();
  return {value, ms: Date.now() - t0};
}

beforeAll(async () => {
  db = await startDatabase(tempRoot(), 'block-timeout', PW, 'mad', [], undefined, false, ['hz 1']);
  dir.set(PW, db.tenant);
  gw = await gateway(dir, ['mad']);
});

afterAll(async () => {
  await gw?.close();
  await stopDatabase(db);
});

test('BLPOP, BLMPOP and XREAD BLOCK with a 100 ms timeout answer nil soon after it, where redis-server at hz 1 alone takes a second', async () => {
  // First with no client on the gateway: the redis-server alone, at hz 1.
  const direct = client(db.primary.port, true);
  const alone = await timed(() => direct.blpop('bt:none', 0.1));
  direct.disconnect();
  expect(alone.value).toBeNull();
  expect(alone.ms).toBeGreaterThanOrEqual(800);
  const c = client(gw.endpoints.mad.port);
  try {
    for (const run of [
      () => c.blpop('bt:none', 0.1),
      () => c.call('BLMPOP', '0.1', '1', 'bt:none', 'LEFT'),
      () => c.xread('BLOCK', 100, 'STREAMS', 'bt:stream', '$'),
    ]) {
      const r = await timed(run);
      expect(r.value).toBeNull();
      expect(r.ms).toBeGreaterThanOrEqual(100);
      expect(r.ms).toBeLessThan(600);
    }
  } finally {
    c.disconnect();
  }
});

test('a short timeout pipelined behind a long one does not end the long one early', async () => {
  const c = client(gw.endpoints.mad.port);
  const w = client(gw.endpoints.mad.port);
  try {
    const replies = c.pipeline().blpop('bt:long', 5).blpop('bt:short', 0.1).exec();
    await new Promise((r) => setTimeout(r, 500));
    await w.rpush('bt:long', 'x');
    const got = (await replies)!.map(([err, v]) => (err ? String(err) : v));
    expect(got).toEqual([['bt:long', 'x'], null]);
  } finally {
    c.disconnect();
    w.disconnect();
  }
});
