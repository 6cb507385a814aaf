// Database 1's log in PostgreSQL, shared by two processes that each apply one region (what two
// region hosts do): a command accepted by either is applied in both regions, in one order,
// exactly once; a process stopped during writes catches up on its return. Real PostgreSQL (a
// throwaway cluster), real redis-server backends.
import Redis from 'ioredis';
import {CacheService} from '../../../src/cache';
import {startPostgres, TestPostgres} from '../../helpers/postgres';
import {appliedUpTo, REGIONS, rmrf, tempDir} from './helpers';

const ORG = 'shared';
const [MAD, AMS] = REGIONS;
let pg: TestPostgres;
const dirs: string[] = [];
const services: CacheService[] = [];
const clients: Redis[] = [];

async function open(region: string, dir?: string): Promise<CacheService> {
  if (!dir) {
    dir = tempDir();
    dirs.push(dir);
  }
  const c = await CacheService.open({stateDir: dir, regions: REGIONS, applyRegions: [region], databaseUrl: pg.url, maxmemoryBytes: 64 * 1024 * 1024});
  services.push(c);
  return c;
}

async function db0(cache: CacheService, region: string): Promise<Redis> {
  const a = await cache.backend(ORG, region);
  const c = new Redis({host: a.host, port: a.port, username: a.username, password: a.password});
  clients.push(c);
  return c;
}

async function accept(cache: CacheService, region: string, ...args: string[]): Promise<number> {
  const r = await cache.accept(ORG, region, args.map((a) => Buffer.from(a)));
  if (!('reply' in r) || r.seq === undefined) throw new Error(`not accepted: ${JSON.stringify(r)}`);
  return r.seq;
}

const applied = (cache: CacheService, seq: number): Promise<void> => appliedUpTo(cache, ORG, seq);

beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const s of services) await s.close();
  await pg?.stop();
  for (const d of dirs) rmrf(d);
});

test('a command accepted by either process is applied in both regions, in one order, exactly once', async () => {
  const a = await open(MAD);
  const b = await open(AMS);
  await a.ensureOrg(ORG);
  await b.ensureOrg(ORG);
  expect(a.startedRegions(ORG)).toEqual([MAD]);
  expect(b.startedRegions(ORG)).toEqual([AMS]);
  await expect(a.backend(ORG, AMS)).rejects.toThrow(/served by another host/);

  // Both processes append concurrently: their entries interleave in the one sequence.
  const seqs = await Promise.all(
    Array.from({length: 400}, (_, i) => (i % 2 === 0 ? accept(a, MAD, 'RPUSH', 'list', `a${i}`) : accept(b, AMS, 'RPUSH', 'list', `b${i}`))),
  );
  expect(new Set(seqs).size).toBe(400);
  expect(Math.min(...seqs)).toBe(1);
  expect(Math.max(...seqs)).toBe(400); // gap-free
  await applied(a, 400);
  await applied(b, 400);
  const inLogOrder = Array.from({length: 400}, (_, i) => i)
    .sort((x, y) => seqs[x] - seqs[y])
    .map((i) => `${i % 2 === 0 ? 'a' : 'b'}${i}`);
  const mad = await db0(a, MAD);
  const ams = await db0(b, AMS);
  expect(await mad.lrange('list', 0, -1)).toEqual(inLogOrder);
  expect(await ams.lrange('list', 0, -1)).toEqual(inLogOrder);
}, 60_000);

test('a process stopped during writes catches up on its return, exactly once', async () => {
  const [a, b] = services;
  const amsDir = dirs[1];
  for (let i = 0; i < 100; i++) await accept(a, MAD, 'INCR', 'hits');
  await applied(b, a.lastSeq(ORG));
  // b stops while a writes (its backend keeps running with its data and cursor, as after a
  // crash of a region host's process): a batch it had in flight is applied or not, never twice.
  let last = 0;
  let closing: Promise<void> | null = null;
  for (let chunk = 0; chunk < 20; chunk++) {
    const seqs = await Promise.all(Array.from({length: 100}, () => accept(a, MAD, 'INCR', 'hits')));
    last = Math.max(last, ...seqs);
    if (chunk === 4) closing = b.close({stopBackends: false});
  }
  await closing;
  await applied(a, last);
  const b2 = await open(AMS, amsDir);
  await applied(b2, last);
  const mad = await db0(a, MAD);
  const ams = await db0(b2, AMS);
  expect(await mad.get('hits')).toBe('2100');
  expect(await ams.get('hits')).toBe('2100');
  // And the returned process's own writes reach the other region.
  const seq = await accept(b2, AMS, 'SET', 'from-ams', 'yes');
  await applied(a, seq);
  expect(await mad.get('from-ams')).toBe('yes');
}, 60_000);

test('bad settings are refused at open: an unknown region to apply, an unreachable database', async () => {
  const dir = tempDir();
  dirs.push(dir);
  await expect(CacheService.open({stateDir: dir, regions: REGIONS, applyRegions: ['xyz'], databaseUrl: pg.url})).rejects.toThrow(
    /applyRegions: unknown region\(s\) xyz/,
  );
  // A port nothing listens on (the cluster's own port + 1 is not guaranteed free: use port 1).
  await expect(CacheService.open({stateDir: dir, regions: REGIONS, databaseUrl: 'postgres://redfly@127.0.0.1:1/none'})).rejects.toThrow(
    /ECONNREFUSED/,
  );
});

test('with PostgreSQL gone, a database-1 write gets an error, not +OK', async () => {
  const a = services[0];
  await pg.stop();
  const r = await a.accept(ORG, MAD, ['SET', 'lost', '1'].map((x) => Buffer.from(x)));
  expect('reply' in r && r.reply.toString()).toMatch(/^-ERR the database-1 log is unavailable/);
}, 30_000);
