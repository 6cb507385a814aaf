// A database's life against a real server process and real redis-server processes: create with
// two read regions, use it with a standard driver, change regions, plan and eviction, reset the
// password, read stats, delete. What is asserted is what a user of the URL would see.
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {
  api,
  cleanup,
  Clients,
  endpointOf,
  eventually,
  internalSecret,
  Json,
  passwordOf,
  pidOnPort,
  portOf,
  redisPidsUnder,
  startServer,
  tempHome,
  TestServer,
  waitForStatus,
  waitGone,
} from './helpers';

const home = tempHome('lifecycle');
let s: TestServer;
const clients = new Clients();
let db: Json;
const secretsSeen = new Set<string>();

beforeAll(async () => {
  s = await startServer(home);
});
afterEach(() => clients.closeAll());
afterAll(async () => {
  await clients.closeAll();
  await cleanup(home);
});

test('create with two read regions: the URL works, writes reach every replica', async () => {
  const created = await api(s, 'POST', '/v1/databases', {
    org: 'personal',
    name: 'orders-cache',
    primaryRegion: 'mad',
    readRegions: ['ams', 'cdg'],
    plan: 'free',
  });
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('provisioning');
  db = await waitForStatus(s, created.body.id, 'ready');
  secretsSeen.add(passwordOf(db));
  expect(db.processes.map((p: Json) => [p.role, p.region, p.state])).toEqual([
    ['primary', 'mad', 'running'],
    ['replica', 'ams', 'running'],
    ['replica', 'cdg', 'running'],
  ]);

  expect(db.endpoints.mad).toBe(db.privateUrl);
  const primary = clients.open(db.privateUrl);
  expect(await primary.set('greeting', 'hola')).toBe('OK');
  for (const region of ['ams', 'cdg']) {
    const replica = clients.open(endpointOf(db, region));
    await eventually(`greeting on ${region}`, async () => ((await replica.get('greeting')) === 'hola' ? true : undefined));
    // a write in a read region is forwarded to the primary
    expect(await replica.set(`from-${region}`, '1')).toBe('OK');
  }
  expect(await primary.get('from-ams')).toBe('1');
  // a wrong password is refused by the gateway; the right one by the processes themselves
  const wrong = clients.open(db.privateUrl.replace(passwordOf(db), 'not-the-password'));
  await expect(wrong.get('greeting')).rejects.toThrow(/WRONGPASS/);
  await expect(clients.port(portOf(db, 'mad'), passwordOf(db)).get('greeting')).rejects.toThrow(/WRONGPASS|NOAUTH/);
});

test('update read regions: a replica is added with the data, a removed one stops; the primary keeps serving', async () => {
  const cdgPort = portOf(db, 'cdg');
  const primary = clients.open(db.privateUrl);
  const r = await api(s, 'PATCH', `/v1/databases/${db.id}`, {readRegions: ['ams', 'fra']});
  expect(r.status).toBe(200);
  expect(r.body.status).toBe('updating');
  // the primary answers while the change is under way
  expect(await primary.set('during-update', 'yes')).toBe('OK');
  db = await waitForStatus(s, db.id, 'ready');
  expect(db.readRegions).toEqual(['ams', 'fra']);
  expect(db.processes.map((p: Json) => p.region)).toEqual(['mad', 'ams', 'fra']);
  expect(Object.keys(db.endpoints)).toEqual(['mad', 'ams', 'fra']);
  const fra = clients.open(endpointOf(db, 'fra'));
  await eventually('data on fra', async () => ((await fra.get('during-update')) === 'yes' ? true : undefined));
  expect(await fra.get('greeting')).toBe('hola');
  expect(pidOnPort(home, cdgPort)).toBeUndefined();
  expect(existsSync(join(home, 'data', db.id, 'cdg'))).toBe(false);
});

test('plan and eviction changes apply live to every process', async () => {
  const admin = (region: string) => clients.port(portOf(db, region), internalSecret(home), 'redfly');
  expect((await admin('mad').config('GET', 'maxmemory'))[1]).toBe(String(100 * 1024 * 1024));
  const r = await api(s, 'PATCH', `/v1/databases/${db.id}`, {plan: '500mb', eviction: true});
  expect(r.status).toBe(200);
  db = await waitForStatus(s, db.id, 'ready');
  expect(db).toMatchObject({plan: '500mb', eviction: true});
  for (const region of ['mad', 'ams', 'fra']) {
    expect((await admin(region).config('GET', 'maxmemory'))[1]).toBe(String(500 * 1024 * 1024));
    expect((await admin(region).config('GET', 'maxmemory-policy'))[1]).not.toBe('noeviction');
  }
  await api(s, 'PATCH', `/v1/databases/${db.id}`, {eviction: false});
  db = await waitForStatus(s, db.id, 'ready');
  expect((await admin('mad').config('GET', 'maxmemory-policy'))[1]).toBe('noeviction');
});

test('stats report usage against the plan and replication lag per read region', async () => {
  // Right after the previous test's plan change, a replica's lag is unknown (null) until the
  // gateway's monitor samples it again (every 100 ms): read until it has, for at most 5 s.
  let r = await api(s, 'GET', `/v1/databases/${db.name}/stats`);
  for (let i = 0; i < 50 && Object.values(r.body.replicationLagMs ?? {}).some((lag) => lag === null); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    r = await api(s, 'GET', `/v1/databases/${db.name}/stats`);
  }
  expect(r.status).toBe(200);
  expect(r.body.dataSizeBytes.used).toBeGreaterThan(0);
  expect(r.body.dataSizeBytes.limit).toBe(500 * 1024 * 1024);
  expect(r.body.commandsToday.used).toBeGreaterThan(0);
  expect(Object.keys(r.body.replicationLagMs).sort()).toEqual(['ams', 'fra']);
  for (const lag of Object.values(r.body.replicationLagMs)) expect(typeof lag).toBe('number');
});

test('reset password: the old one stops working at once, the new one works everywhere', async () => {
  const oldPassword = passwordOf(db);
  const old = clients.open(db.privateUrl);
  expect(await old.ping()).toBe('PONG');
  const r = await api(s, 'POST', `/v1/databases/${db.id}/reset-password`);
  expect(r.status).toBe(200);
  expect(passwordOf(r.body)).not.toBe(oldPassword);
  // the open connection was closed, and a new one with the old password is refused
  await expect(old.ping()).rejects.toThrow();
  await expect(clients.open(endpointOf(db, 'mad')).ping()).rejects.toThrow(/WRONGPASS/);
  await expect(clients.open(endpointOf(db, 'ams')).ping()).rejects.toThrow(/WRONGPASS/);
  db = r.body;
  secretsSeen.add(passwordOf(db));
  expect(await clients.open(db.privateUrl).get('greeting')).toBe('hola');
  expect(await clients.open(endpointOf(db, 'fra')).get('greeting')).toBe('hola');
});

test('delete: the record, the processes and the data are gone; a second delete is 404', async () => {
  const ports = db.processes.map((p: Json) => p.port);
  const r = await api(s, 'DELETE', `/v1/databases/${db.id}`);
  expect(r.status).toBe(202);
  expect(r.body.status).toBe('deleting');
  await waitGone(s, db.id);
  for (const port of ports) expect(pidOnPort(home, port)).toBeUndefined();
  expect(redisPidsUnder(home)).toEqual([]);
  expect(existsSync(join(home, 'data', db.id))).toBe(false);
  const again = await api(s, 'DELETE', `/v1/databases/${db.id}`);
  expect(again.status).toBe(404);
  expect(again.body.error.code).toBe('not_found');
  expect((await api(s, 'GET', '/v1/databases')).body.databases).toEqual([]);
});

test('the server log has the requests but no password, token or internal secret', () => {
  const log = readFileSync(join(home, 'server.log'), 'utf8');
  expect(log).toMatch(/reset-password/);
  expect(secretsSeen.size).toBe(2);
  for (const secret of [...secretsSeen, s.token, internalSecret(home)]) expect(log).not.toContain(secret);
});
