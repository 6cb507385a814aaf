// Supervision and restarts against a real server process: databases come back after a server
// stop/start and after the server itself is killed; a redis-server killed with SIGKILL comes
// back on its port with its data.
import {
  api,
  cleanup,
  Clients,
  endpointOf,
  eventually,
  Json,
  passwordOf,
  pidOnPort,
  portOf,
  redisPidsUnder,
  startServer,
  tempHome,
  TestServer,
  waitForStatus,
} from './helpers';
import {join} from 'node:path';
import {localServerStatus, stopLocalServer} from '../../../src/cli/local-server';
import {databaseRecord} from '../../fixtures/records';

const home = tempHome('restart');
let s: TestServer;
const clients = new Clients();
let withReplicas: Json;
let single: Json;

beforeAll(async () => {
  s = await startServer(home);
  const a = await api(s, 'POST', '/v1/databases', {org: 'personal', name: 'sessions', primaryRegion: 'ams', readRegions: ['mad', 'syd'], plan: '200mb'});
  const b = await api(s, 'POST', '/v1/databases', {org: 'personal', name: 'lonely', primaryRegion: 'ord', plan: 'free'});
  withReplicas = await waitForStatus(s, a.body.id, 'ready');
  single = await waitForStatus(s, b.body.id, 'ready');
  await clients.open(withReplicas.privateUrl).set('user:1', 'ana');
  await clients.open(single.privateUrl).set('solo', 'here');
  await clients.closeAll();
});
afterEach(() => clients.closeAll());
afterAll(async () => {
  await clients.closeAll();
  await cleanup(home);
});

async function readOn(db: Json, region: string, key: string): Promise<string | null> {
  return clients.open(endpointOf(db, region)).get(key);
}

test('a replica killed with SIGKILL comes back on its port with its data', async () => {
  const port = portOf(withReplicas, 'syd');
  const pid = pidOnPort(home, port)!;
  expect(pid).toBeDefined();
  process.kill(pid, 'SIGKILL');
  const back = await eventually('syd replica restarted', async () => {
    const r = await api(s, 'GET', `/v1/databases/${withReplicas.id}`);
    const p = r.body.processes.find((x: Json) => x.region === 'syd');
    const newPid = pidOnPort(home, port);
    return p.state === 'running' && p.restarts >= 1 && newPid && newPid !== pid ? r.body : undefined;
  });
  expect(back.processes.find((x: Json) => x.region === 'syd').lastExit).toMatch(/SIGKILL/);
  expect(back.statusMessage).toMatch(/syd/);
  await eventually('data on the restarted replica', async () => ((await readOn(back, 'syd', 'user:1')) === 'ana' ? true : undefined));
});

test('a primary killed with SIGKILL comes back with every acknowledged write', async () => {
  const primary = clients.open(withReplicas.privateUrl);
  for (let i = 0; i < 200; i++) await primary.set(`k${i}`, String(i));
  const port = portOf(withReplicas, 'ams');
  const pid = pidOnPort(home, port)!;
  process.kill(pid, 'SIGKILL');
  await eventually('primary restarted', async () => {
    const r = await api(s, 'GET', `/v1/databases/${withReplicas.id}`);
    const p = r.body.processes.find((x: Json) => x.region === 'ams');
    return p.state === 'running' && p.restarts >= 1 && pidOnPort(home, port) ? true : undefined;
  });
  await clients.closeAll();
  const again = clients.open(withReplicas.privateUrl);
  expect(await again.get('k199')).toBe('199');
  expect(await again.get('user:1')).toBe('ana');
  // replicas follow the restarted primary
  expect(await again.set('after-crash', 'yes')).toBe('OK');
  await eventually('replica sees writes after the crash', async () => ((await readOn(withReplicas, 'mad', 'after-crash')) === 'yes' ? true : undefined));
});

test('server stop leaves no process; start brings every database back on its ports', async () => {
  const before = (await api(s, 'GET', '/v1/databases')).body.databases;
  await clients.closeAll();
  const stopped = await stopLocalServer(home);
  expect(stopped.wasRunning).toBe(true);
  expect(redisPidsUnder(home)).toEqual([]);
  expect((await localServerStatus(home)).running).toBe(false);

  s = await startServer(home);
  const after = (await api(s, 'GET', '/v1/databases')).body.databases;
  expect(after.map((d: Json) => [d.name, d.status])).toEqual(before.map((d: Json) => [d.name, 'ready']));
  for (const d of after) {
    const old = before.find((b: Json) => b.id === d.id);
    // the gateway listens on the ports of the last run: every URL handed out still works
    expect(d.privateUrl).toBe(old.privateUrl);
    expect(d.endpoints).toEqual(old.endpoints);
    expect(d.processes.every((p: Json) => p.state === 'running')).toBe(true);
  }
  expect(await clients.open(withReplicas.privateUrl).get('user:1')).toBe('ana');
  expect(await readOn(withReplicas, 'syd', 'k10')).toBe('10');
  expect(await clients.open(single.privateUrl).get('solo')).toBe('here');
});

test('after the server itself is killed, stop reaps its orphans and start reconciles', async () => {
  await clients.closeAll();
  const orphans = redisPidsUnder(home);
  expect(orphans.length).toBe(4);
  process.kill(s.pid, 'SIGKILL');
  await eventually('server gone', async () => ((await localServerStatus(home)).running ? undefined : true));
  // its redis-server processes outlive it...
  expect(redisPidsUnder(home).sort()).toEqual(orphans.sort());
  // ...until stop finds them through their pidfiles
  const r = await stopLocalServer(home);
  expect(r).toMatchObject({wasRunning: false, orphansStopped: 4});
  expect(redisPidsUnder(home)).toEqual([]);

  s = await startServer(home);
  const dbs = (await api(s, 'GET', '/v1/databases')).body.databases;
  expect(dbs.map((d: Json) => d.status)).toEqual(['ready', 'ready']);
  expect(await clients.open(single.privateUrl).get('solo')).toBe('here');
});

test('a start after the server was killed adopts the redis-servers that outlived it', async () => {
  await clients.closeAll();
  process.kill(s.pid, 'SIGKILL');
  await eventually('server gone', async () => ((await localServerStatus(home)).running ? undefined : true));
  const leftovers = redisPidsUnder(home);
  expect(leftovers.length).toBe(4);
  s = await startServer(home);
  // the same processes serve, now supervised by the new server (issue 11: a host that restarts
  // its control process does not restart Redis)
  const now = redisPidsUnder(home);
  expect(now.sort()).toEqual(leftovers.sort());
  expect(await clients.open(withReplicas.privateUrl).get('user:1')).toBe('ana');
});

test('work cut short by a stop is finished by the next start: a half-made create, a half-done delete', async () => {
  await clients.closeAll();
  await stopLocalServer(home);
  // what the records look like when the server dies between accepting a request and finishing it
  const {openStore} = await import('../../../src/store');
  const store = await openStore(home);
  const now = new Date().toISOString();
  await store.insertDatabase(
    databaseRecord({id: 'halfmade0000001', name: 'half-made', primaryRegion: 'gru', readRegions: ['scl'], createdAt: now, updatedAt: now}),
  );
  await store.updateDatabase(single.id, {status: 'deleting'});
  await store.close();

  s = await startServer(home);
  const made = await waitForStatus(s, 'half-made', 'ready');
  expect(new URL(made.privateUrl).port).not.toBe('0');
  expect(await clients.open(made.privateUrl).ping()).toBe('PONG');
  await eventually('half-deleted database gone', async () =>
    (await api(s, 'GET', `/v1/databases/${single.id}`)).status === 404 ? true : undefined,
  );
  expect(redisPidsUnder(join(home, 'data', single.id))).toEqual([]);
  expect((await api(s, 'GET', '/v1/databases')).body.databases.map((d: Json) => d.name).sort()).toEqual(['half-made', 'sessions']);
});
