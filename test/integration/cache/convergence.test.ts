// Writers in three regions at once: every region ends with the same data.

import {useOrgCache, REGIONS, send} from './helpers';

const ORG = 'busy';
// Small batches so that appliers interleave with the writers.
const t = useOrgCache(ORG, {applyBatchEntries: 7});

// Order-sensitive commands on a few shared keys: any two regions applying them in different
// orders would end with different values.
function commandFor(writer: number, i: number): string[] {
  const key = `k${i % 5}`;
  switch (i % 9) {
    case 0: return ['SET', key, `w${writer}-${i}`];
    case 1: return ['APPEND', key, `+${writer}`];
    case 2: return ['RPUSH', 'list', `w${writer}-${i}`];
    case 3: return ['LPUSH', 'list', `w${writer}-${i}`];
    case 4: return ['HSET', 'hash', `f${i % 4}`, `w${writer}-${i}`];
    case 5: return ['ZADD', 'zset', String(i % 7), `w${writer}`];
    case 6: return ['SET', `ttl${i % 3}`, `w${writer}`, 'EX', String(100 + writer)];
    case 7: return ['DEL', `k${(i + 2) % 5}`];
    default: return ['XADD', 'stream', 'MAXLEN', '50', '*', 'w', String(writer)];
  }
}

test('concurrent writers in three regions: the same digest of database 0 everywhere', async () => {
  const before = await t.regions.digests();
  await Promise.all(
    REGIONS.map(async (region, writer) => {
      for (let i = 0; i < 400; i++) {
        expect(await send(t.cache, ORG, region, ...commandFor(writer, i))).toBe('+OK');
        // Let the other writers and the appliers run between commands.
        if (i % 10 === 0) await new Promise((r) => setImmediate(r));
      }
    }),
  );
  await t.cache.waitApplied(ORG);
  const after = await t.regions.digests();
  expect(after.mad).not.toBe(before.mad);
  expect(after.ams).toBe(after.mad);
  expect(after.syd).toBe(after.mad);
  // The digest covers values and expirations; check a few directly as well.
  const lists = await t.regions.each((c) => c.lrange('list', 0, -1));
  expect(lists.mad.length).toBe(3 * 90); // i % 9 in {2, 3}: 90 pushes per writer
  expect(lists.ams).toEqual(lists.mad);
  expect(lists.syd).toEqual(lists.mad);
  const status = await t.cache.status(ORG);
  expect(status.lastSeq).toBe(1200);
  expect(status.regions.every((r) => r.appliedSeq === 1200 && r.replayErrors === 0)).toBe(true);
});
