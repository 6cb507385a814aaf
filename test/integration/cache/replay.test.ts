// Database 0 is region-local; database 1 is replayed in every region, deterministically.
import {createHash} from 'node:crypto';

import {useOrgCache, REGIONS, send} from './helpers';

const ORG = 'acme';
const t = useOrgCache(ORG);

test('database 0 is region-local', async () => {
  const mad = await t.regions.client('mad');
  await mad.set('local:key', 'from-mad');
  expect(await mad.get('local:key')).toBe('from-mad');
  expect(await (await t.regions.client('ams')).get('local:key')).toBeNull();
  expect(await (await t.regions.client('syd')).get('local:key')).toBeNull();
});

test('a database-1 command gets +OK and is applied in every region, the sender\'s included', async () => {
  expect(await send(t.cache, ORG, 'ams', 'SET', 'greeting', 'hello')).toBe('+OK');
  expect(await send(t.cache, ORG, 'ams', 'HSET', 'user:1', 'name', 'Ada', 'lang', 'en')).toBe('+OK');
  await t.cache.waitApplied(ORG);
  expect(await t.regions.each((c) => c.get('greeting'))).toEqual({mad: 'hello', ams: 'hello', syd: 'hello'});
  expect(await t.regions.each((c) => c.hgetall('user:1'))).toEqual(
    Object.fromEntries(REGIONS.map((r) => [r, {name: 'Ada', lang: 'en'}])),
  );
});

test('purging through database 1 deletes a key cached in every region', async () => {
  await t.regions.each((c) => c.set('page:/home', '<html>'));
  expect(await send(t.cache, ORG, 'syd', 'DEL', 'page:/home')).toBe('+OK');
  await t.cache.waitApplied(ORG);
  expect(await t.regions.each((c) => c.exists('page:/home'))).toEqual({mad: 0, ams: 0, syd: 0});
});

test('each command is applied exactly once per region (INCR)', async () => {
  for (let i = 0; i < 200; i++) await send(t.cache, ORG, REGIONS[i % 3], 'INCR', 'counter');
  await t.cache.waitApplied(ORG);
  expect(await t.regions.each((c) => c.get('counter'))).toEqual({mad: '200', ams: '200', syd: '200'});
});

test('SET ... EX becomes an absolute expiry: the same PEXPIRETIME in every region', async () => {
  const before = Date.now();
  expect(await send(t.cache, ORG, 'mad', 'SET', 'session', 'x', 'EX', '100')).toBe('+OK');
  expect(await send(t.cache, ORG, 'mad', 'SET', 'other', 'y')).toBe('+OK');
  expect(await send(t.cache, ORG, 'ams', 'EXPIRE', 'other', '50')).toBe('+OK');
  expect(await send(t.cache, ORG, 'syd', 'SETEX', 'third', '30', 'z')).toBe('+OK');
  expect(await send(t.cache, ORG, 'syd', 'PSETEX', 'fourth', '30000', 'z')).toBe('+OK');
  await t.cache.waitApplied(ORG);
  for (const [key, ttl] of [['session', 100_000], ['other', 50_000], ['third', 30_000], ['fourth', 30_000]] as const) {
    const times = await t.regions.each((c) => c.call('PEXPIRETIME', key) as Promise<number>);
    const values = Object.values(times);
    expect(new Set(values).size).toBe(1);
    expect(values[0]).toBeGreaterThanOrEqual(before + ttl);
    expect(values[0]).toBeLessThanOrEqual(Date.now() + ttl);
  }
});

test('GETEX EX and RESTORE with a TTL become absolute too', async () => {
  const mad = await t.regions.client('mad');
  await send(t.cache, ORG, 'mad', 'SET', 'g', 'v');
  await send(t.cache, ORG, 'mad', 'GETEX', 'g', 'EX', '70');
  await mad.set('src', 'payload');
  const dump = (await mad.dumpBuffer('src')) as Buffer;
  await send(t.cache, ORG, 'ams', 'RESTORE', 'restored', '40000', dump, 'REPLACE');
  await t.cache.waitApplied(ORG);
  for (const key of ['g', 'restored']) {
    const times = Object.values(await t.regions.each((c) => c.call('PEXPIRETIME', key) as Promise<number>));
    expect(new Set(times).size).toBe(1);
    expect(times[0]).toBeGreaterThan(Date.now());
  }
  expect(await t.regions.each((c) => c.get('restored'))).toEqual({mad: 'payload', ams: 'payload', syd: 'payload'});
});

test('XADD * gets one explicit ID, so the stream is the same everywhere', async () => {
  for (let i = 0; i < 5; i++) expect(await send(t.cache, ORG, REGIONS[i % 3], 'XADD', 'events', '*', 'n', String(i))).toBe('+OK');
  await t.cache.waitApplied(ORG);
  const streams = await t.regions.each((c) => c.xrange('events', '-', '+'));
  expect(streams.mad).toHaveLength(5);
  expect(streams.ams).toEqual(streams.mad);
  expect(streams.syd).toEqual(streams.mad);
});

test('a 5 MB value arrives intact in every region', async () => {
  const value = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < value.length; i++) value[i] = (i * 131 + (i >> 11)) & 0xff;
  const sum = createHash('sha256').update(value).digest('hex');
  expect(await send(t.cache, ORG, 'syd', 'SET', 'big', value)).toBe('+OK');
  await t.cache.waitApplied(ORG);
  const sums = await t.regions.each(async (c) => createHash('sha256').update((await c.getBuffer('big'))!).digest('hex'));
  expect(sums).toEqual({mad: sum, ams: sum, syd: sum});
});

test('SELECT 0 returns to the local database; SELECT 2 is out of range', async () => {
  const r = await t.cache.accept(ORG, 'mad', [Buffer.from('SELECT'), Buffer.from('0')]);
  expect(r).toEqual({reply: Buffer.from('+OK\r\n'), select: 0});
  expect(await send(t.cache, ORG, 'mad', 'SELECT', '2')).toBe('-ERR DB index is out of range');
});

test('PING and ECHO answer as usual; reads are acknowledged without being replayed', async () => {
  const seq = t.cache.lastSeq(ORG);
  expect(await send(t.cache, ORG, 'mad', 'PING')).toBe('+PONG');
  expect(await send(t.cache, ORG, 'mad', 'ECHO', 'hi')).toBe('$2\r\nhi');
  expect(await send(t.cache, ORG, 'mad', 'GET', 'greeting')).toBe('+OK');
  expect(t.cache.lastSeq(ORG)).toBe(seq);
});

test('status reports keys, memory and no lag once caught up', async () => {
  await t.cache.waitApplied(ORG);
  const s = await t.cache.status(ORG);
  expect(s.regions.map((r) => r.region)).toEqual(REGIONS);
  for (const r of s.regions) {
    expect(r.state).toBe('live');
    expect(r.keys).toBeGreaterThan(3);
    expect(r.memoryBytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(r.lagEntries).toBe(0);
    expect(r.lagMs).toBe(0);
    expect(r.appliedSeq).toBe(s.lastSeq);
  }
});
