// Commands that need a connection of their own reach Redis as quickly as shared ones: a reader's
// XREAD BLOCK sent before another client's XADD is blocked in Redis before the XADD runs, so it
// gets the entry, every time, as it does against redis-server itself (issue 15).
import type Redis from 'ioredis';
import {GatewayHandle} from '../../../src/gateway';
import {Cluster, clientCount, gateway, MemoryDirectory, startDatabase, stopDatabase, tempRoot, until, testClient} from './harness';

let db: Cluster;
let gw: GatewayHandle;
const dir = new MemoryDirectory();
const PW = 'pw-pinned';

const client = (port: number, direct = false): Redis => testClient(port, PW, direct);

beforeAll(async () => {
  db = await startDatabase(tempRoot(), 'pinned', PW, 'mad', []);
  dir.set(PW, db.tenant);
  gw = await gateway(dir, ['mad']);
});

afterAll(async () => {
  await gw?.close();
  await stopDatabase(db);
});

/** Tries of: a new connection sends XREAD BLOCK, then another sends XADD. How many got it. */
async function race(port: number, tries: number): Promise<number> {
  const writer = client(port);
  let got = 0;
  try {
    for (let i = 0; i < tries; i++) {
      const key = `race:${port}:${i}`;
      const reader = client(port);
      try {
        await reader.ping();
        const read = reader.xread('BLOCK', 2000, 'STREAMS', key, '$');
        await writer.xadd(key, '*', 'f', 'v');
        const r = await read;
        if (r !== null && r[0][1].length === 1 && r[0][1][0][1][1] === 'v') got++;
      } finally {
        reader.disconnect();
      }
    }
  } finally {
    writer.disconnect();
  }
  return got;
}

test('a blocking read sent before another client\'s write gets it, 50 times out of 50, as against Redis itself', async () => {
  expect(await race(db.primary.port, 50)).toBe(50);
  expect(await race(gw.endpoints.mad.port, 50)).toBe(50);
}, 240_000);

test('a consumer that keeps its connection and blocks again and again gets every entry added after it blocked', async () => {
  // XREAD with $ sees only entries added after Redis ran it: the entry is missed if it overtakes.
  for (const port of [db.primary.port, gw.endpoints.mad.port]) {
    const consumer = client(port);
    const producer = client(port);
    const key = `events:${port}`;
    try {
      await consumer.ping();
      let got = 0;
      for (let i = 0; i < 50; i++) {
        const read = consumer.xread('BLOCK', 2000, 'STREAMS', key, '$');
        await producer.xadd(key, '*', 'n', String(i));
        const r = await read;
        if (r !== null && r[0][1].length === 1 && r[0][1][0][1][1] === String(i)) got++;
      }
      expect({port, got}).toEqual({port, got: 50});
    } finally {
      consumer.disconnect();
      producer.disconnect();
    }
  }
}, 240_000);

test('spare connections are not pinned to anyone, and a pinned one still goes with its client', async () => {
  const c = client(gw.endpoints.mad.port);
  await c.ping();
  await until(async () => (await clientCount(db.primary.port, 'spare')) >= 2);
  const base = await clientCount(db.primary.port);
  await c.multi().set('t', '1').get('t').exec();
  expect(await clientCount(db.primary.port)).toBe(base + 1);
  // The spare it took is replaced.
  await until(async () => (await clientCount(db.primary.port, 'spare')) >= 2);
  c.disconnect();
  await until(async () => (await clientCount(db.primary.port)) === base);
});
