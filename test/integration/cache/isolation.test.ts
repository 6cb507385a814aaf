// One organization's cache is invisible to another's, in every region and in database 1.
import {CacheService} from '../../../src/cache';
import {openCache, Regions, REGIONS, rmrf, send, tempDir} from './helpers';

let dir: string;
let cache: CacheService;
let a: Regions;
let z: Regions;

beforeAll(async () => {
  dir = tempDir();
  cache = await openCache(dir);
  await Promise.all([cache.ensureOrg('alpha'), cache.ensureOrg('zulu')]);
  a = new Regions(cache, 'alpha');
  z = new Regions(cache, 'zulu');
});

afterAll(async () => {
  a?.close();
  z?.close();
  await cache?.close();
  rmrf(dir);
});

test('each organization has its own process in each region', () => {
  for (const r of REGIONS) {
    expect(cache.processOf('alpha', r)!.port).not.toBe(cache.processOf('zulu', r)!.port);
  }
});

test('database-1 commands of one organization never reach the other', async () => {
  expect(await send(cache, 'alpha', 'mad', 'SET', 'shared-name', 'alpha')).toBe('+OK');
  expect(await send(cache, 'zulu', 'ams', 'SET', 'shared-name', 'zulu')).toBe('+OK');
  expect(await send(cache, 'alpha', 'syd', 'FLUSHALL')).toBe('+OK');
  expect(await send(cache, 'alpha', 'syd', 'SET', 'after-flush', '1')).toBe('+OK');
  await Promise.all([cache.waitApplied('alpha'), cache.waitApplied('zulu')]);
  expect(await a.each((c) => c.get('shared-name'))).toEqual({mad: null, ams: null, syd: null});
  expect(await z.each((c) => c.get('shared-name'))).toEqual({mad: 'zulu', ams: 'zulu', syd: 'zulu'});
  expect(await z.each((c) => c.exists('after-flush'))).toEqual({mad: 0, ams: 0, syd: 0});
  expect(cache.lastSeq('alpha')).toBe(3);
  expect(cache.lastSeq('zulu')).toBe(1);
});

test('database 0 of one organization is not visible to the other in the same region', async () => {
  await (await a.client('mad')).set('private', 'alpha-only');
  expect(await (await z.client('mad')).get('private')).toBeNull();
});

test('status of one organization counts only its own keys', async () => {
  const sa = await cache.status('alpha');
  const sz = await cache.status('zulu');
  expect(sa.regions.find((r) => r.region === 'mad')!.keys).toBe(2); // after-flush, private
  expect(sz.regions.find((r) => r.region === 'mad')!.keys).toBe(1); // shared-name
});
