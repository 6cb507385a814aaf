// What a database's clients set in its Redis through the gateway survives restarts of its
// redis-servers and of the server (issue 9): users made with ACL SETUSER (on every copy) and
// CONFIG SET notify-keyspace-events. Real server, real supervised redis-servers.
import {api, cleanup, Clients, endpointOf, eventually, Json, pidOnPort, portOf, startServer, tempHome, TestServer, waitForStatus} from './helpers';
import {stopLocalServer} from '../../../src/cli/local-server';

const home = tempHome('settings');
let s: TestServer;
const clients = new Clients();
let db: Json;

beforeAll(async () => {
  s = await startServer(home);
  const a = await api(s, 'POST', '/v1/databases', {org: 'personal', name: 'settings', primaryRegion: 'ams', readRegions: ['mad'], plan: '200mb'});
  db = await waitForStatus(s, a.body.id, 'ready');
});
afterEach(() => clients.closeAll());
afterAll(async () => {
  await clients.closeAll();
  await cleanup(home);
});

async function killAndWait(region: string): Promise<void> {
  const port = portOf(db, region);
  const pid = pidOnPort(home, port)!;
  process.kill(pid, 'SIGKILL');
  await eventually(`${region} restarted`, async () => {
    const r = await api(s, 'GET', `/v1/databases/${db.id}`);
    const p = r.body.processes.find((x: Json) => x.region === region);
    const now = pidOnPort(home, port);
    return p.state === 'running' && now && now !== pid ? true : undefined;
  });
}

async function checkReader(): Promise<void> {
  for (const region of ['ams', 'mad']) {
    const reader = clients.port(Number(new URL(endpointOf(db, region)).port), 'reader-pw', 'reader');
    await eventually(`reader reads in ${region}`, async () => ((await reader.get('k').catch(() => null)) === 'v' ? true : undefined));
    await expect(reader.set('k', 'w')).rejects.toThrow("NOPERM this user has no permissions to run the 'set' command");
  }
  const owner = clients.open(db.privateUrl);
  expect(await owner.config('GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', 'xE']);
}

test('a user and keyspace notifications set by a client survive SIGKILL of each copy', async () => {
  const owner = clients.open(db.privateUrl);
  expect(await owner.call('ACL', 'SETUSER', 'reader', 'on', '>reader-pw', '+@read', '~*')).toBe('OK');
  expect(await owner.config('SET', 'notify-keyspace-events', 'Ex')).toBe('OK');
  expect(await owner.set('k', 'v')).toBe('OK');
  await clients.closeAll();
  await killAndWait('ams');
  await killAndWait('mad');
  await checkReader();
});

test('and a stop and start of the server', async () => {
  await clients.closeAll();
  expect((await stopLocalServer(home)).wasRunning).toBe(true);
  s = await startServer(home);
  db = await waitForStatus(s, db.id, 'ready');
  await checkReader();
});
