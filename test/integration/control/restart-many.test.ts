// A host with many databases comes back after a restart (issue 11): the API answers while the
// databases come back (each shows it in its status), every database comes back ready with its
// data (AOF) and its password; after the control process alone dies, the redis-servers that
// outlived it are adopted (same pids) and one that died meanwhile is started anew.
import {api, cleanup, Clients, eventually, Json, pidOnPort, portOf, redisPidsUnder, startServer, tempHome, TestServer, waitForStatus} from './helpers';
import Redis from 'ioredis';
import {localServerStatus, stopLocalServer} from '../../../src/cli/local-server';
import {internalSecret} from '../../../src/control/bootstrap';
import {INTERNAL_USER} from '../../../src/provision/config';

const N = 20;
const home = tempHome('restart-many');
let s: TestServer;
const clients = new Clients();
let dbs: Json[] = [];

/** Every database through its URL (the gateway, its password): the key written before. */
async function everyDatabaseServes(): Promise<void> {
  const now = (await api(s, 'GET', '/v1/databases')).body.databases;
  expect(now.map((d: Json) => d.status)).toEqual(dbs.map(() => 'ready'));
  for (const d of dbs) {
    const again = now.find((x: Json) => x.id === d.id);
    expect(again.privateUrl).toBe(d.privateUrl); // same URL, same password
    expect(await clients.open(d.privateUrl).get('written')).toBe(d.name);
  }
  // the replica of the one database with a read region follows its primary again
  const withReplica = now.find((d: Json) => d.readRegions.length > 0);
  expect(await clients.open(withReplica.endpoints.syd).get('written')).toBe(withReplica.name);
}

beforeAll(async () => {
  s = await startServer(home);
  const created = await Promise.all(
    Array.from({length: N}, (_, i) =>
      api(s, 'POST', '/v1/databases', {org: 'personal', name: `many-${i}`, primaryRegion: 'ams', readRegions: i === 0 ? ['syd'] : [], plan: 'free'}),
    ),
  );
  for (const c of created) expect(c.status).toBe(201);
  dbs = await Promise.all(created.map((c) => waitForStatus(s, c.body.id, 'ready')));
  dbs.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  for (const d of dbs) expect(await clients.open(d.privateUrl).set('written', d.name)).toBe('OK');
  await clients.closeAll();
}, 120_000);
afterEach(() => clients.closeAll());
afterAll(async () => {
  await clients.closeAll();
  await cleanup(home);
});

test('after stop and start, the API answers while the databases come back, and every one is back ready with its data and password', async () => {
  await stopLocalServer(home);
  expect(redisPidsUnder(home)).toEqual([]);
  s = await startServer(home, {settled: false});
  // The API answers at once: whatever it shows of a database is its real state, never "ready"
  // for one whose processes are not running yet.
  for (const d of (await api(s, 'GET', '/v1/databases')).body.databases) {
    if (d.status === 'ready') expect(d.processes.every((p: Json) => p.state === 'running')).toBe(true);
    else expect(d.status).toBe('provisioning');
  }
  await eventually('every database ready', async () => {
    const now = (await api(s, 'GET', '/v1/databases')).body.databases;
    return now.every((d: Json) => d.status === 'ready') ? true : undefined;
  }, 60_000);
  await everyDatabaseServes();
}, 120_000);

test('after the control process alone dies, its redis-servers are adopted, and one that died meanwhile is started anew', async () => {
  await clients.closeAll();
  const before = redisPidsUnder(home);
  expect(before.length).toBe(N + 1);
  process.kill(s.pid, 'SIGKILL');
  await eventually('server gone', async () => ((await localServerStatus(home)).running ? undefined : true));
  const victimPort = portOf(dbs[3], 'ams');
  const victim = pidOnPort(home, victimPort)!;
  process.kill(victim, 'SIGKILL');
  await eventually('victim gone', async () => (redisPidsUnder(home).includes(victim) ? undefined : true));
  // A survivor whose limits were changed behind the platform's back gets its plan's back when
  // adopted (adoption checks them and sets only what differs).
  const drifted = new Redis({port: portOf(dbs[7], 'ams'), username: INTERNAL_USER, password: internalSecret(home), maxRetriesPerRequest: 0});
  const planMemory = (await drifted.config('GET', 'maxmemory'))[1];
  await drifted.config('SET', 'maxmemory', '12345');
  drifted.disconnect();

  s = await startServer(home);
  const after = redisPidsUnder(home);
  expect(after.length).toBe(N + 1);
  // every survivor serves on, under the same pid; the dead one runs again on its port
  expect(after.filter((p) => before.includes(p)).sort()).toEqual(before.filter((p) => p !== victim).sort());
  const reborn = pidOnPort(home, victimPort);
  expect(reborn).toBeDefined();
  expect(reborn).not.toBe(victim);
  await everyDatabaseServes();
  const checked = new Redis({port: portOf(dbs[7], 'ams'), username: INTERNAL_USER, password: internalSecret(home), maxRetriesPerRequest: 0});
  expect((await checked.config('GET', 'maxmemory'))[1]).toBe(planMemory);
  checked.disconnect();

  // An adopted process is supervised like a started one: killed, it is restarted.
  const adopted = pidOnPort(home, portOf(dbs[5], 'ams'))!;
  expect(before).toContain(adopted);
  process.kill(adopted, 'SIGKILL');
  const back = await eventually('adopted process restarted', async () => {
    const r = (await api(s, 'GET', `/v1/databases/${dbs[5].id}`)).body;
    const now = pidOnPort(home, portOf(dbs[5], 'ams'));
    return r.processes[0].state === 'running' && r.processes[0].restarts >= 1 && now && now !== adopted ? r : undefined;
  });
  expect(back.status).toBe('ready');
  await clients.closeAll();
  expect(await clients.open(dbs[5].privateUrl).get('written')).toBe(dbs[5].name);
}, 120_000);
