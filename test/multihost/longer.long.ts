// The longer multi-host scenarios (npm run test:multihost; not in npm test): two control nodes
// behind one PostgreSQL, and a region host whose link goes down and comes back.
import Redis from 'ioredis';
import {randomUUID} from 'node:crypto';
import type {Database} from '../../src/api/types';
import {Cluster, createCluster, eventually} from './cluster';

// Namespaces need root (CI runs as root).
const runnable = process.getuid?.() === 0;
(runnable ? describe : describe.skip)('several hosts, longer scenarios', () => {
  let c: Cluster;

  beforeAll(async () => {
    c = await createCluster(['mad', 'ams'], 2);
    // A change waits 3 s for the hosts' reports (instead of 120 s), for the host-down case.
    await c.start('control', {REDFLY_HOST_REPORT_TIMEOUT_MS: '3000'});
    await Promise.all(['control2', 'mad', 'ams'].map((n) => c.start(n)));
  }, 90_000);

  afterAll(async () => {
    await c?.teardown();
  });

  const connect = (url: string, readyCheck = true): Redis => c.redis(url, readyCheck);

  let db: Database;

  test('two control nodes get the same create with the same Idempotency-Key at once: one database, both answer it', async () => {
    const key = randomUUID();
    const body = {name: 'once-only', primaryRegion: 'mad', readRegions: ['ams'], plan: 'free', org: 'personal'};
    const [a, b] = [c.api('control'), c.api('control2')];
    try {
      const [x, y] = await Promise.all([a.createDatabase(body, {idempotencyKey: key}), b.createDatabase(body, {idempotencyKey: key})]);
      expect(x.id).toBe(y.id);
      const all = await a.listAllDatabases();
      expect(all.filter((d) => d.name === 'once-only')).toHaveLength(1);
      db = await b.waitUntilReady(x.id, {timeoutMs: 60_000});
      expect(db.status).toBe('ready');
      // both nodes show the same URLs: each region's host
      expect((await a.getDatabase(x.id)).endpoints).toEqual(db.endpoints);
    } finally {
      a.close();
      b.close();
    }
  }, 90_000);

  test("the ams host's link goes down: mad keeps taking writes; back up, ams has them", async () => {
    const mad = connect(db.endpoints.mad);
    await mad.set('before', '1');
    const ams = connect(db.endpoints.ams);
    await eventually(async () => ((await ams.get('before')) === '1' ? true : undefined), 10_000, 'before in ams');

    c.net.linkDown('ams');
    await mad.set('during', '2');
    const hostsOf = async () => {
      const api = c.api('control2');
      try {
        return (await api.listHosts()).hosts;
      } finally {
        api.close();
      }
    };
    await eventually(async () => ((await hostsOf()).find((h) => h.region === 'ams')?.up === false ? true : undefined), 20_000, 'ams shown down');

    c.net.linkUp('ams');
    await eventually(async () => ((await hostsOf()).find((h) => h.region === 'ams')?.up === true ? true : undefined), 20_000, 'ams shown up');
    const again = connect(db.endpoints.ams, false);
    await eventually(async () => ((await again.get('during')) === '2' ? true : undefined), 20_000, 'during in ams');
  }, 90_000);

  test('a database created while its replica region\'s host is down: failed, then ready once that host is back', async () => {
    c.kill('ams');
    const api = c.api('control');
    try {
      let rec = await api.createDatabase({name: 'while-down', primaryRegion: 'mad', readRegions: ['ams'], plan: 'free', org: 'personal'});
      rec = await eventually(async () => {
        const r = await api.getDatabase(rec.id);
        return r.status === 'failed' ? r : undefined;
      }, 30_000, 'failed while ams is down');
      expect(rec.statusMessage).toMatch(/replica in ams/);
      await c.start('ams');
      const ready = await eventually(async () => {
        const r = await api.getDatabase(rec.id);
        return r.status === 'ready' ? r : undefined;
      }, 40_000, 'ready once ams is back');
      const mad = connect(ready.endpoints.mad);
      await mad.set('k', 'v');
      const ams = connect(ready.endpoints.ams);
      await eventually(async () => ((await ams.get('k')) === 'v' ? true : undefined), 15_000, 'k in ams');
    } finally {
      api.close();
    }
  }, 120_000);
});
