// XADD '*' in database 1 gets its ID in the log's append transaction, from the organization's
// stream clock: IDs increase in log order whatever the clock of the host that accepted the
// command. Against both logs: SQLite (one process whose clock steps back, across a restart) and
// PostgreSQL (two processes, one region each, whose clocks are two minutes apart). Real
// redis-server backends; a replay error would show in the status and as missing entries.
import Redis from 'ioredis';
import {CacheService} from '../../../src/cache';
import {startPostgres, TestPostgres} from '../../helpers/postgres';
import {appliedUpTo, openCache, REGIONS, Regions, rmrf, send, tempDir} from './helpers';

const ORG = 'streams';
const dirs: string[] = [];
const services: CacheService[] = [];
const clients: Redis[] = [];
let pg: TestPostgres | null = null;

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const s of services) await s.close();
  await pg?.stop();
  for (const d of dirs) rmrf(d);
});

/** A clock that returns `times` one after another (then the last one forever). */
const scripted = (times: number[]) => {
  let i = 0;
  return () => times[Math.min(i++, times.length - 1)];
};

/** Every replay error and the applied sequence of the organization's started regions. */
async function replayErrors(cache: CacheService): Promise<number> {
  const s = await cache.status(ORG);
  return s.regions.filter((r) => r.state !== 'idle').reduce((n, r) => n + r.replayErrors, 0);
}

function expectIncreasing(ids: string[]): void {
  const parsed = ids.map((id) => id.split('-').map(BigInt));
  for (let i = 1; i < parsed.length; i++) {
    const [a, b] = [parsed[i - 1], parsed[i]];
    expect(b[0] > a[0] || (b[0] === a[0] && b[1] > a[1])).toBe(true);
  }
}

describe('SQLite log', () => {
  test('a clock that steps back: IDs keep increasing, in every region, and after a restart', async () => {
    const dir = tempDir();
    dirs.push(dir);
    // accept() reads the clock once per command.
    let cache = await openCache(dir, {clock: scripted([5000, 5000, 3000, 9000, 1000])});
    await cache.ensureOrg(ORG);
    for (let i = 0; i < 5; i++) expect(await send(cache, ORG, REGIONS[i % 3], 'XADD', 'events', '*', 'n', String(i))).toBe('+OK');
    // An explicit ID ahead of the clock moves it: the next '*' follows it.
    expect(await send(cache, ORG, 'mad', 'XADD', 'events', '20000-5', 'n', 'explicit')).toBe('+OK');
    expect(await send(cache, ORG, 'ams', 'XADD', 'events', '*', 'n', '5')).toBe('+OK');
    await cache.waitApplied(ORG);
    let regions = new Regions(cache, ORG);
    const want = [
      ['5000-0', '0'], ['5000-1', '1'], ['5000-2', '2'], ['9000-0', '3'], ['9000-1', '4'], ['20000-5', 'explicit'], ['20000-6', '5'],
    ].map(([id, n]) => [id, ['n', n]]);
    expect(await regions.each((c) => c.xrange('events', '-', '+'))).toEqual({mad: want, ams: want, syd: want});
    expect(await replayErrors(cache)).toBe(0);
    regions.close();

    // The stream clock is kept with the log: a restart with a clock far behind still follows it.
    await cache.close();
    cache = await openCache(dir, {clock: () => 1000});
    services.push(cache);
    expect(await send(cache, ORG, 'syd', 'XADD', 'events', '*', 'n', 'after-restart')).toBe('+OK');
    await cache.ensureOrg(ORG);
    await cache.waitApplied(ORG);
    regions = new Regions(cache, ORG);
    const last = await regions.each(async (c) => (await c.xrevrange('events', '+', '-', 'COUNT', 1))[0]);
    for (const r of REGIONS) expect(last[r]).toEqual(['20000-7', ['n', 'after-restart']]);
    expect(await replayErrors(cache)).toBe(0);
    regions.close();
  }, 60_000);
});

describe('PostgreSQL log', () => {
  const [MAD, AMS] = REGIONS;

  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);

  async function open(region: string, skewMs: number): Promise<CacheService> {
    const dir = tempDir();
    dirs.push(dir);
    const c = await CacheService.open({
      stateDir: dir, regions: REGIONS, applyRegions: [region], databaseUrl: pg!.url, clock: () => Date.now() + skewMs,
    });
    services.push(c);
    return c;
  }

  async function xrange(cache: CacheService, region: string): Promise<Array<[string, string[]]>> {
    const a = await cache.backend(ORG, region);
    const c = new Redis({host: a.host, port: a.port, username: a.username, password: a.password});
    clients.push(c);
    return c.xrange('s', '-', '+');
  }

  const applied = (cache: CacheService, seq: number): Promise<void> => appliedUpTo(cache, ORG, seq);

  test('two hosts whose clocks are two minutes apart append to one stream: one increasing stream in both regions', async () => {
    const ahead = await open(MAD, +60_000);
    const behind = await open(AMS, -60_000);
    await ahead.ensureOrg(ORG);
    await behind.ensureOrg(ORG);
    // Turn by turn (each append committed before the other host's), then all at once.
    for (let i = 0; i < 20; i++) {
      const [cache, region] = i % 2 === 0 ? [ahead, MAD] : [behind, AMS];
      expect(await send(cache, ORG, region, 'XADD', 's', '*', 'n', String(i))).toBe('+OK');
    }
    const replies = await Promise.all(
      Array.from({length: 200}, (_, i) => (i % 2 === 0 ? send(ahead, ORG, MAD, 'XADD', 's', '*', 'n', String(20 + i)) : send(behind, ORG, AMS, 'XADD', 's', '*', 'n', String(20 + i)))),
    );
    expect(new Set(replies)).toEqual(new Set(['+OK']));
    const last = Math.max(ahead.lastSeq(ORG), behind.lastSeq(ORG));
    await applied(ahead, last);
    await applied(behind, last);

    const [inMad, inAms] = [await xrange(ahead, MAD), await xrange(behind, AMS)];
    expect(inMad).toHaveLength(220);
    expect(inAms).toEqual(inMad);
    expectIncreasing(inMad.map(([id]) => id));
    // The turn-by-turn part is in the order it was sent.
    expect(inMad.slice(0, 20).map(([, f]) => f[1])).toEqual(Array.from({length: 20}, (_, i) => String(i)));
    expect(await replayErrors(ahead)).toBe(0);
    expect(await replayErrors(behind)).toBe(0);
  }, 90_000);
});
