// Delivery survives a region that stops, a region whose process dies, and a restart of the
// server process that owns the log; the backlog is bounded and what it drops is counted.
import {CacheService} from '../../../src/cache';
import {openCache, Regions, REGIONS, rmrf, send, tempDir} from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** After a test that stopped a backend with SIGSTOP: let it run again, then close everything. */
async function release(pid: number, cache: CacheService | null | undefined, dir: string): Promise<void> {
  if (pid) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      /* gone */
    }
  }
  await cache?.close();
  rmrf(dir);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('one owner', () => {
  const ORG = 'sturdy';
  let dir: string;
  let cache: CacheService;
  let regions: Regions;
  const paused: number[] = [];

  beforeAll(async () => {
    dir = tempDir();
    cache = await openCache(dir, {applyBatchEntries: 16});
    await cache.ensureOrg(ORG);
    regions = new Regions(cache, ORG);
  });

  afterAll(async () => {
    for (const pid of paused) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    regions?.close();
    await cache?.close();
    rmrf(dir);
  });

  test('a region whose process is stopped during writes catches up, in order, when it continues', async () => {
    const pid = cache.processOf(ORG, 'ams')!.pid!;
    for (let i = 0; i < 50; i++) await send(cache, ORG, REGIONS[i % 3], 'RPUSH', 'paused-list', `a${i}`);
    process.kill(pid, 'SIGSTOP');
    paused.push(pid);
    for (let i = 50; i < 400; i++) {
      expect(await send(cache, ORG, REGIONS[i % 3], 'RPUSH', 'paused-list', `a${i}`)).toBe('+OK');
    }
    await until('mad and syd to apply', async () => {
      const s = await cache.status(ORG);
      return s.regions.filter((r) => r.region !== 'ams').every((r) => r.lagEntries === 0);
    });
    const lagging = (await cache.status(ORG)).regions.find((r) => r.region === 'ams')!;
    expect(lagging.lagEntries).toBeGreaterThan(0);
    expect(lagging.lagMs).toBeGreaterThan(0);
    process.kill(pid, 'SIGCONT');
    await cache.waitApplied(ORG);
    const expected = Array.from({length: 400}, (_, i) => `a${i}`);
    expect(await regions.each((c) => c.lrange('paused-list', 0, -1))).toEqual({mad: expected, ams: expected, syd: expected});
  });

  test('a region whose process dies during writes comes back and replays the backlog in order', async () => {
    const before = cache.processOf(ORG, 'syd')!;
    for (let i = 0; i < 100; i++) await send(cache, ORG, REGIONS[i % 3], 'RPUSH', 'killed-list', `k${i}`);
    process.kill(before.pid!, 'SIGKILL');
    for (let i = 100; i < 300; i++) {
      expect(await send(cache, ORG, REGIONS[i % 3], 'RPUSH', 'killed-list', `k${i}`)).toBe('+OK');
    }
    await until('syd to be restarted', async () => {
      const now = cache.processOf(ORG, 'syd')!;
      return now.pid !== null && now.pid !== before.pid;
    });
    expect(cache.processOf(ORG, 'syd')!.port).toBe(before.port);
    await cache.waitApplied(ORG);
    regions.close(); // the old connection to syd is dead
    const expected = Array.from({length: 300}, (_, i) => `k${i}`);
    const lists = await regions.each((c) => c.lrange('killed-list', 0, -1));
    expect(lists).toEqual({mad: expected, ams: expected, syd: expected});
    // The restarted process got everything retained, so it converged with the others.
    const digests = await regions.digests();
    expect(digests.syd).toBe(digests.mad);
    expect(digests.ams).toBe(digests.mad);
  });

  test('a region whose process dies while no one writes is rebuilt from the log without waiting for a write', async () => {
    for (let i = 0; i < 50; i++) await send(cache, ORG, REGIONS[i % 3], 'RPUSH', 'idle-list', `i${i}`);
    await cache.waitApplied(ORG);
    const before = cache.processOf(ORG, 'ams')!;
    process.kill(before.pid!, 'SIGKILL');
    await until('ams to be restarted', async () => {
      const now = cache.processOf(ORG, 'ams')!;
      return now.pid !== null && now.pid !== before.pid;
    });
    regions.close(); // the old connection to ams is dead
    const expected = Array.from({length: 50}, (_, i) => `i${i}`);
    // No database-1 command is sent from here on: the applier must notice the restart itself.
    await until('ams to have replayed the backlog', async () => {
      const list = await (await regions.client('ams')).lrange('idle-list', 0, -1);
      return list.length === expected.length;
    });
    expect(await regions.each((c) => c.lrange('idle-list', 0, -1))).toEqual({mad: expected, ams: expected, syd: expected});
  });
});

describe('replay errors during catch-up', () => {
  const ORG = 'faulty';
  let dir: string;
  let cache: CacheService;
  let regions: Regions;

  beforeAll(async () => {
    dir = tempDir();
    // Small batches: the backlog replays in many MULTI/EXECs, each read while the one before runs.
    cache = await openCache(dir, {applyBatchEntries: 64});
    await cache.ensureOrg(ORG);
    regions = new Regions(cache, ORG);
  });

  afterAll(async () => {
    regions?.close();
    await cache?.close();
    rmrf(dir);
  });

  test('an entry that fails inside a batch is counted, and the rest is applied exactly once', async () => {
    expect(await send(cache, ORG, 'mad', 'SET', 'word', 'x')).toBe('+OK');
    for (let i = 0; i < 600; i++) {
      await send(cache, ORG, REGIONS[i % 3], 'INCR', 'count');
      // A list command on a string: accepted, then WRONGTYPE inside the EXEC of every region.
      if (i % 100 === 50) await send(cache, ORG, REGIONS[i % 3], 'LPUSH', 'word', `y${i}`);
    }
    await cache.waitApplied(ORG);
    const errors = async () => Object.fromEntries((await cache.status(ORG)).regions.map((r) => [r.region, r.replayErrors]));
    expect(await errors()).toEqual({mad: 6, ams: 6, syd: 6});
    const st = (await cache.status(ORG)).regions.find((r) => r.region === 'ams')!;
    expect(st.lastReplayError).toMatch(/^WRONGTYPE/);

    const before = cache.processOf(ORG, 'ams')!;
    process.kill(before.pid!, 'SIGKILL');
    await until('ams to be restarted', async () => {
      const now = cache.processOf(ORG, 'ams')!;
      return now.pid !== null && now.pid !== before.pid;
    });
    regions.close(); // the old connection to ams is dead
    await until('ams to have replayed the backlog', async () => (await regions.client('ams')).get('count').then((v) => v === '600'));
    await cache.waitApplied(ORG);
    // The replay met the same six failures again, and neither stopped nor repeated anything.
    expect(await errors()).toEqual({mad: 6, ams: 12, syd: 6});
    expect(await regions.each((c) => c.get('count'))).toEqual({mad: '600', ams: '600', syd: '600'});
    expect(await regions.each((c) => c.get('word'))).toEqual({mad: 'x', ams: 'x', syd: 'x'});
    const applied = (await cache.status(ORG)).regions.map((r) => r.appliedSeq);
    expect(applied).toEqual([607, 607, 607]);
  });
});

describe('a restart of the owner', () => {
  const ORG = 'durable';
  let dir: string;
  let cache: CacheService | null = null;
  let pid = 0;

  beforeAll(() => {
    dir = tempDir();
  });

  afterAll(() => release(pid, cache, dir));

  test('with a backlog pending loses nothing acknowledged and applies nothing twice', async () => {
    cache = await openCache(dir);
    await cache.ensureOrg(ORG);
    pid = cache.processOf(ORG, 'syd')!.pid!;
    process.kill(pid, 'SIGSTOP');
    for (let i = 0; i < 300; i++) {
      expect(await send(cache, ORG, REGIONS[i % 3], 'INCR', 'visits')).toBe('+OK');
      expect(await send(cache, ORG, REGIONS[i % 3], 'RPUSH', 'order', String(i))).toBe('+OK');
    }
    await cache.close({stopBackends: false}); // the backends keep their data and cursors
    cache = null;
    process.kill(pid, 'SIGCONT');

    cache = await openCache(dir);
    expect(cache.lastSeq(ORG)).toBe(600);
    expect(cache.processOf(ORG, 'syd')!.pid).toBe(pid); // adopted, not restarted
    await cache.waitApplied(ORG);
    const regions = new Regions(cache, ORG);
    try {
      expect(await regions.each((c) => c.get('visits'))).toEqual({mad: '300', ams: '300', syd: '300'});
      const order = Array.from({length: 300}, (_, i) => String(i));
      expect(await regions.each((c) => c.lrange('order', 0, -1))).toEqual({mad: order, ams: order, syd: order});
    } finally {
      regions.close();
    }
  });

  test('after a full stop, new empty backends get the whole retained backlog', async () => {
    await cache!.close(); // stops the backends too: their data is gone (volatile)
    cache = await openCache(dir);
    await cache.ensureOrg(ORG);
    const regions = new Regions(cache, ORG);
    try {
      expect(await regions.each((c) => c.get('visits'))).toEqual({mad: '300', ams: '300', syd: '300'});
    } finally {
      regions.close();
    }
  });
});

describe('the backlog bound', () => {
  const ORG = 'bounded';
  let dir: string;
  let cache: CacheService;
  let pid = 0;

  beforeAll(async () => {
    dir = tempDir();
    cache = await openCache(dir, {backlogMaxBytes: 16 * 1024, backlogMaxAgeMs: 60_000});
    await cache.ensureOrg(ORG);
  });

  afterAll(() => release(pid, cache, dir));

  test('entries past the size bound are dropped and counted for the region that missed them', async () => {
    pid = cache.processOf(ORG, 'ams')!.pid!;
    process.kill(pid, 'SIGSTOP');
    const value = 'v'.repeat(100);
    for (let i = 0; i < 500; i++) {
      expect(await send(cache, ORG, 'mad', 'SET', `key${i}`, value)).toBe('+OK');
      // Commands arrive from sockets: give the appliers of the running regions their turn.
      await new Promise((r) => setImmediate(r));
    }
    const during = await cache.status(ORG);
    expect(during.backlog.bytes).toBeLessThanOrEqual(16 * 1024);
    expect(during.backlog.trimmed).toBeGreaterThan(0);
    process.kill(pid, 'SIGCONT');
    pid = 0;
    await cache.waitApplied(ORG);
    const s = await cache.status(ORG);
    const ams = s.regions.find((r) => r.region === 'ams')!;
    expect(ams.dropped).toBeGreaterThan(0);
    expect(ams.lagEntries).toBe(0);
    expect(s.regions.find((r) => r.region === 'mad')!.dropped).toBe(0);
    expect(ams.dropped + ams.keys!).toBe(500); // what it did not get is exactly what was dropped
  });

  test('entries older than the age bound are removed', async () => {
    await cache.close();
    cache = await openCache(dir, {backlogMaxAgeMs: 200});
    expect((await cache.status(ORG)).backlog.entries).toBeGreaterThan(0);
    await until('the backlog to age out', async () => (await cache.status(ORG)).backlog.entries === 0, 5000);
  });
});
