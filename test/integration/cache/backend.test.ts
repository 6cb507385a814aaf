// Database 0 is volatile (memory only) and evicts when full instead of refusing writes; the
// backend is reachable only with the platform's secret, never with the user's password.
import {CacheService} from '../../../src/cache';
import {RedisConnection} from '../../../src/redis/client';
import {openCache, Regions, rmrf, tempDir} from './helpers';

const ORG = 'tiny';
let dir: string;
let cache: CacheService;
let regions: Regions;

beforeAll(async () => {
  dir = tempDir();
  cache = await openCache(dir, {maxmemoryBytes: 8 * 1024 * 1024, internalSecret: 'platform-secret'});
  await cache.backend(ORG, 'mad');
  regions = new Regions(cache, ORG);
});

afterAll(async () => {
  regions?.close();
  await cache?.close();
  rmrf(dir);
});

test('a full cache evicts old keys instead of refusing writes', async () => {
  const mad = await regions.client('mad');
  const value = 'x'.repeat(10 * 1024);
  for (let i = 0; i < 3000; i++) await mad.set(`page:${i}`, value); // ~30 MB into 8 MB
  expect(await mad.get('page:2999')).toBe(value);
  expect(await mad.dbsize()).toBeLessThan(3000);
});

test('nothing is persisted: no AOF, no RDB snapshots', async () => {
  const mad = await regions.client('mad');
  expect(await mad.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
  expect(await mad.config('GET', 'save')).toEqual(['save', '']);
});

test('the backend refuses anyone without the platform secret', async () => {
  const {port} = cache.processOf(ORG, 'mad')!;
  const anon = await RedisConnection.connect(port);
  try {
    await expect(anon.call('GET', 'page:1')).rejects.toThrow(/NOAUTH/);
    await expect(anon.call('AUTH', 'default', 'anything')).rejects.toThrow(/WRONGPASS/);
    await expect(anon.call('AUTH', 'redfly', 'wrong')).rejects.toThrow(/WRONGPASS/);
    expect(await anon.call('AUTH', 'redfly', 'platform-secret')).toBe('OK');
  } finally {
    anon.close();
  }
});

test('a region is started on first use; status shows the others idle', async () => {
  expect(cache.startedRegions(ORG)).toEqual(['mad']);
  const s = await cache.status(ORG);
  expect(s.regions.map((r) => [r.region, r.state === 'idle'])).toEqual([['mad', false], ['ams', true], ['syd', true]]);
});
