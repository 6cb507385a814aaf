// The data plane through the real server process (node dist/control/main.js in a temp home):
// a database created through the API is used through its gateway endpoints in every region, its
// password never opens a redis-server directly, password reset and delete reach the gateway at
// once, usage is counted, a restart keeps every URL and the data, and each organization's
// regional cache is served in every region with database 1 replayed everywhere.
import {
  api,
  cleanup,
  Clients,
  endpointOf,
  eventually,
  Json,
  redisPidsUnder,
  passwordOf,
  portOf,
  startServer,
  tempHome,
  TestServer,
  waitForStatus,
  waitGone,
} from '../control/helpers';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {localServerStatus, startLocalServer, stopLocalServer} from '../../../src/cli/local-server';

const home = tempHome('platform');
let s: TestServer;
const clients = new Clients();
let db: Json;
const REGIONS = ['mad', 'ams', 'syd'];

beforeAll(async () => {
  s = await startServer(home);
  const created = await api(s, 'POST', '/v1/databases', {
    org: 'personal',
    name: 'platform-db',
    primaryRegion: 'mad',
    readRegions: ['ams', 'syd'],
    plan: 'free',
  });
  expect(created.status).toBe(201);
  db = await waitForStatus(s, created.body.id, 'ready');
});
afterEach(() => clients.closeAll());
afterAll(async () => {
  await clients.closeAll();
  await cleanup(home);
});

const portOfUrl = (url: string) => Number(new URL(url).port);

test('the private URL and the endpoints name the gateway, one endpoint per region of the database', () => {
  expect(Object.keys(db.endpoints)).toEqual(REGIONS);
  expect(db.privateUrl).toBe(db.endpoints.mad);
  const gatewayPorts = REGIONS.map((r) => portOfUrl(endpointOf(db, r)));
  expect(new Set(gatewayPorts).size).toBe(3);
  for (const p of db.processes) expect(gatewayPorts).not.toContain(p.port);
  for (const r of REGIONS) expect(passwordOf({privateUrl: endpointOf(db, r)})).toBe(passwordOf(db));
});

test('a write in a read region is read back on the same connection, then in every region', async () => {
  const ams = clients.open(endpointOf(db, 'ams'));
  for (let i = 0; i < 50; i++) {
    expect(await ams.set(`ryw:${i}`, `v${i}`)).toBe('OK');
    // read-your-writes: served in ams, never older than this connection's own write
    expect(await ams.get(`ryw:${i}`)).toBe(`v${i}`);
  }
  expect(await ams.incr('counter')).toBe(1);
  expect(await ams.get('counter')).toBe('1');
  for (const region of REGIONS) {
    const c = clients.open(endpointOf(db, region));
    await eventually(`ryw:49 in ${region}`, async () => ((await c.get('ryw:49')) === 'v49' ? true : undefined));
    expect(await c.get('counter')).toBe('1');
  }
});

test('the database password is refused by every redis-server; only the gateway accepts it', async () => {
  for (const region of REGIONS) {
    const raw = clients.port(portOf(db, region), passwordOf(db));
    await expect(raw.get('counter')).rejects.toThrow(/WRONGPASS|NOAUTH/);
  }
  const wrong = clients.open(db.privateUrl.replace(passwordOf(db), 'x'.repeat(32)));
  await expect(wrong.get('counter')).rejects.toThrow(/^WRONGPASS invalid username-password pair or user is disabled\.$/);
});

test('stats count the commands sent through the gateway, against the plan', async () => {
  const before = (await api(s, 'GET', `/v1/databases/${db.id}/stats`)).body;
  const c = clients.open(endpointOf(db, 'syd'));
  for (let i = 0; i < 20; i++) await c.get('counter');
  const after = await eventually('20 more commands counted', async () => {
    const r = (await api(s, 'GET', `/v1/databases/${db.id}/stats`)).body;
    return r.commandsToday.used >= before.commandsToday.used + 20 ? r : undefined;
  });
  expect(after.commandsToday.limit).toBe(10000);
  expect(after.connections).toEqual({used: 1, limit: 100});
  expect(after.bandwidthTodayBytes.used).toBeGreaterThan(before.bandwidthTodayBytes.used);
  expect(after.dataSizeBytes.used).toBeGreaterThan(0);
  expect(after.dataSizeBytes.limit).toBe(100 * 1024 * 1024);
  expect(Object.keys(after.replicationLagMs).sort()).toEqual(['ams', 'syd']);
});

describe('regional cache', () => {
  let cache: Json;

  test('every organization has a cache URL in every region of the platform', async () => {
    const r = await api(s, 'GET', '/v1/orgs/personal/cache');
    expect(r.status).toBe(200);
    cache = r.body;
    const regions = (await api(s, 'GET', '/v1/regions')).body.map((x: Json) => x.code ?? x);
    expect(cache.regions.map((x: Json) => x.region).sort()).toEqual([...regions].sort());
    const url = (region: string) => cache.regions.find((x: Json) => x.region === region).url;
    // the same gateway endpoints as the databases, with the organization's cache password
    for (const region of REGIONS) expect(portOfUrl(url(region))).toBe(portOfUrl(endpointOf(db, region)));
    expect(passwordOf({privateUrl: url('mad')})).not.toBe(passwordOf(db));
    expect(cache.regions[0].env[0]).toBe(`FLY_REDIS_CACHE_URL=${cache.regions[0].url}`);
    expect((await api(s, 'GET', '/v1/orgs/nobody/cache')).status).toBe(404);
  });

  test('database 0 is region-local; SELECT 1 + SET is replayed to database 0 of every region', async () => {
    const url = (region: string) => cache.regions.find((x: Json) => x.region === region).url;
    const mad = clients.open(url('mad'));
    const ams = clients.open(url('ams'));
    const syd = clients.open(url('syd'));
    expect(await mad.set('local-only', 'mad')).toBe('OK');
    expect(await ams.get('local-only')).toBeNull();

    const writer = clients.open(url('ams'));
    expect(await writer.select(1)).toBe('OK');
    expect(await writer.set('everywhere', 'yes')).toBe('OK');
    for (const [region, c] of [['mad', mad], ['ams', ams], ['syd', syd]] as const) {
      await eventually(`replayed in ${region}`, async () => ((await c.get('everywhere')) === 'yes' ? true : undefined));
    }
    expect(await ams.get('local-only')).toBeNull();
    // a database's password is not a cache password, and the other way round
    await expect(clients.open(url('mad').replace(passwordOf({privateUrl: url('mad')}), passwordOf(db))).get('everywhere')).resolves.toBeNull();
    await expect(clients.open(db.privateUrl.replace(passwordOf(db), passwordOf({privateUrl: url('mad')}))).get('counter')).resolves.toBeNull();
  });

  test('an organization created through the API has its own cache at once, invisible to the others', async () => {
    expect((await api(s, 'POST', '/v1/orgs', {slug: 'acme'})).status).toBe(201);
    const acme = (await api(s, 'GET', '/v1/orgs/acme/cache')).body;
    const acmeMad = clients.open(acme.regions.find((x: Json) => x.region === 'mad').url);
    expect(await acmeMad.get('local-only')).toBeNull();
    expect(await acmeMad.set('acme-key', '1')).toBe('OK');
    const personalMad = clients.open(cache.regions.find((x: Json) => x.region === 'mad').url);
    expect(await personalMad.get('acme-key')).toBeNull();
    expect(await personalMad.get('local-only')).toBe('mad');
  });
});

test('a server restart keeps every URL and the data, and the cache keeps serving', async () => {
  const cacheBefore = (await api(s, 'GET', '/v1/orgs/personal/cache')).body;
  const statsBefore = (await api(s, 'GET', `/v1/databases/${db.id}/stats`)).body;
  await clients.closeAll();
  await stopLocalServer(home);
  s = await startServer(home);
  const after = (await api(s, 'GET', `/v1/databases/${db.id}`)).body;
  expect(after.status).toBe('ready');
  expect(after.privateUrl).toBe(db.privateUrl);
  expect(after.endpoints).toEqual(db.endpoints);
  for (const region of REGIONS) {
    const c = clients.open(endpointOf(after, region));
    await eventually(`data in ${region} after restart`, async () => ((await c.get('ryw:0')) === 'v0' ? true : undefined));
  }
  // today's counters were kept across the restart
  const statsAfter = (await api(s, 'GET', `/v1/databases/${db.id}/stats`)).body;
  expect(statsAfter.commandsToday.used).toBeGreaterThanOrEqual(statsBefore.commandsToday.used);
  expect((await api(s, 'GET', '/v1/orgs/personal/cache')).body).toEqual(cacheBefore);
  const cacheMad = clients.open(cacheBefore.regions.find((x: Json) => x.region === 'mad').url);
  // the cache is volatile, but everything acknowledged in database 1 is replayed after a restart
  await eventually('cache db 1 replayed after restart', async () => ((await cacheMad.get('everywhere')) === 'yes' ? true : undefined));
});

test('reset password: open connections close, the old password is refused at the gateway, the new one works', async () => {
  const oldUrl = db.privateUrl;
  const open = clients.open(endpointOf(db, 'syd'));
  expect(await open.get('counter')).toBe('1');
  const r = await api(s, 'POST', `/v1/databases/${db.id}/reset-password`);
  expect(r.status).toBe(200);
  expect(r.body.privateUrl).not.toBe(oldUrl);
  await expect(open.get('counter')).rejects.toThrow();
  for (const region of REGIONS) {
    await expect(clients.open(db.endpoints[region]).get('counter')).rejects.toThrow(/WRONGPASS/);
    expect(await clients.open(endpointOf(r.body, region)).get('counter')).toBe('1');
  }
  db = r.body;
});

test('delete: the password stops working at the gateway', async () => {
  const open = clients.open(db.privateUrl);
  expect(await open.ping()).toBe('PONG');
  expect((await api(s, 'DELETE', `/v1/databases/${db.id}`)).status).toBe(202);
  await expect(clients.open(db.privateUrl).get('counter')).rejects.toThrow(/WRONGPASS/);
  await waitGone(s, db.id);
  await expect(open.ping()).rejects.toThrow();
  for (const region of REGIONS) {
    await expect(clients.open(db.endpoints[region]).ping()).rejects.toThrow(/WRONGPASS/);
  }
});

test('node-redis (RESP3, HELLO 3 AUTH) works through the gateway too', async () => {
  const c = await api(s, 'POST', '/v1/databases', {org: 'personal', name: 'resp3-db', primaryRegion: 'ams', plan: 'free'});
  const ready = await waitForStatus(s, c.body.id, 'ready');
  const {createClient} = await import('redis');
  const client = createClient({url: ready.privateUrl, RESP: 3});
  client.on('error', () => undefined);
  await client.connect();
  try {
    expect(await client.hSet('h', {a: '1', b: '2'})).toBe(2);
    expect(await client.hGet('h', 'b')).toBe('2');
    expect(await client.incrBy('n', 5)).toBe(5);
  } finally {
    client.destroy();
  }
});

test('after the server is killed, server stop also reaps the cache backends it left running', async () => {
  expect(redisPidsUnder(join(home, 'cache')).length).toBeGreaterThan(0);
  await clients.closeAll();
  process.kill(s.pid, 'SIGKILL');
  await eventually('server gone', async () => ((await localServerStatus(home)).running ? undefined : true));
  expect(redisPidsUnder(join(home, 'cache')).length).toBeGreaterThan(0);
  const r = await stopLocalServer(home);
  expect(r.orphansStopped).toBeGreaterThan(1);
  expect(redisPidsUnder(home)).toEqual([]);
});

describe('--simulate-latency', () => {
  const other = tempHome('latency');
  afterAll(() => cleanup(other));

  test('reaches the gateway of the server', async () => {
    await startLocalServer({home: other, port: 0, simulateLatency: true});
    const lines = readFileSync(join(other, 'server.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('gateway listening'))
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.simulateLatency)).toEqual([true]);
    expect(Object.keys(lines[0].endpoints)).toContain('syd');
  });
});
