// Gateway worker mode (`redfly server start --gateway-workers 2`): the real server with two
// gateway processes sharing each region's port. What a user notices: connections land on both
// workers (server status, CLIENT ID), a password reset closes the clients of both, usage and the
// plan's daily and connection limits are summed over both, the regional cache's database 1 is
// still replayed in every region, and a killed worker is replaced while the other keeps serving.
import {execFile} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {promisify} from 'node:util';
import type Redis from 'ioredis';
import {readLocalCredentials, startLocalServer} from '../../../src/cli/local-server';
import {api, cleanup, Clients, endpointOf, ensureBuilt, eventually, Json, passwordOf, sleep, tempHome, TestServer, waitForStatus} from '../control/helpers';

const ROOT = join(__dirname, '..', '..', '..');
const home = tempHome('workers');
const clients = new Clients();
let s: TestServer;
let db: Json;
let tiny: Json;

// An operator plan with small limits, so that limits summed over both workers can be reached.
function writePlans(): void {
  const shipped = JSON.parse(readFileSync(join(ROOT, 'data', 'plans.json'), 'utf8'));
  const tiny = {...shipped[0], id: 'tiny', displayName: 'Tiny (test)', maxConnections: 4, maxDailyCommands: 60, maxCommandsPerSecond: 0};
  writeFileSync(join(home, 'plans.json'), JSON.stringify([...shipped, tiny], null, 2));
}

interface WorkerLine {
  slot: number;
  pid: number | null;
  state: string;
  restarts: number;
  connections: number;
}

/** `redfly server status --json` of the built CLI. */
async function status(): Promise<{gatewayWorkers: WorkerLine[] | null}> {
  const {stdout} = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'run.js'), 'server', 'status', '--json'],
    {env: {...process.env, REDFLY_HOME: home}});
  return JSON.parse(stdout);
}

async function create(name: string, plan: string): Promise<Json> {
  const r = await api(s, 'POST', '/v1/databases', {org: 'personal', name, primaryRegion: 'mad', readRegions: ['ams'], plan});
  expect(r.status).toBe(201);
  return waitForStatus(s, r.body.id, 'ready');
}

/** n connections, each with its CLIENT ID (its residue mod 2 names its worker). */
async function connect(url: string, n: number): Promise<{c: Redis; id: number}[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const c = clients.open(url);
    out.push({c, id: Number(await c.client('ID'))});
  }
  return out;
}

const closed = (c: Redis) => new Promise<void>((r) => (c.status === 'end' ? r() : c.once('end', () => r())));

beforeAll(async () => {
  ensureBuilt();
  writePlans();
  const {apiUrl, pid} = await startLocalServer({home, port: 0, gatewayWorkers: 2});
  s = {home, apiUrl, pid, token: readLocalCredentials(home)!.token};
  [db, tiny] = await Promise.all([create('workers-db', 'free'), create('workers-tiny', 'tiny')]);
});
afterEach(() => clients.closeAll());
afterAll(async () => {
  await clients.closeAll();
  await cleanup(home);
});

test('server status lists two ready workers, and connections spread over both', async () => {
  const first = await status();
  expect(first.gatewayWorkers).toHaveLength(2);
  expect(first.gatewayWorkers!.every((w) => w.state === 'ready' && w.pid !== null && w.pid !== s.pid)).toBe(true);
  const conns = await connect(endpointOf(db, 'mad'), 6);
  // Ids stay unique across the workers, each worker with its own residue.
  expect(new Set(conns.map((x) => x.id)).size).toBe(6);
  expect(new Set(conns.map((x) => x.id % 2))).toEqual(new Set([0, 1]));
  await conns[0].c.set('k', 'v');
  expect(await conns[5].c.get('k')).toBe('v');
  const seen = await eventually('both workers to hold connections', async () => {
    const w = (await status()).gatewayWorkers!;
    return w.every((x) => x.connections >= 1) && w.reduce((a, x) => a + x.connections, 0) === 6 ? w : undefined;
  });
  expect(seen.map((w) => w.connections).sort()).toEqual([3, 3]); // round robin
});

test('usage is summed over both workers: commands today and connections in the stats', async () => {
  const conns = await connect(endpointOf(db, 'mad'), 4);
  const before = (await api(s, 'GET', `/v1/databases/${db.id}/stats`)).body;
  for (const {c} of conns) for (let i = 0; i < 10; i++) await c.incr('counter');
  // Read at once: the stats ask every worker for its counts first, so no reply is missing.
  const after = (await api(s, 'GET', `/v1/databases/${db.id}/stats`)).body;
  expect(after.commandsToday.used).toBe(before.commandsToday.used + 40);
  expect(after.connections.used).toBe(4);
  expect(Number(await conns[0].c.get('counter'))).toBe(40);
});

test('the daily command limit and the connection limit hold over both workers together', async () => {
  const conns = await connect(endpointOf(tiny, 'mad'), 2);
  const [a, b] = conns[0].id % 2 !== conns[1].id % 2 ? conns : (() => {
    throw new Error(`two connections on one worker: ${conns.map((x) => x.id)}`);
  })();
  // The connection cap (4): two more are let in, the fifth is refused, whichever worker gets it.
  await connect(endpointOf(tiny, 'mad'), 2);
  await sleep(300);
  const fifth = clients.open(endpointOf(tiny, 'mad'));
  await expect(fifth.ping()).rejects.toThrow('ERR max concurrent connections exceeded');
  // The daily cap (60): 40 on one worker, then the other worker stops at the sum.
  const used = (await api(s, 'GET', `/v1/databases/${tiny.id}/stats`)).body.commandsToday.used;
  for (let i = 0; i < 40; i++) await a.c.ping();
  await sleep(300);
  let ok = 0;
  let error = '';
  for (let i = 0; i < 40 && error === ''; i++) {
    try {
      await b.c.ping();
      ok++;
    } catch (e) {
      error = (e as Error).message;
    }
  }
  expect(ok).toBe(60 - used - 40);
  expect(error).toBe('ERR max daily request limit exceeded. Limit: 60, Usage: 60.');
});

test('a password reset closes the connections in both workers, and the new password works in both', async () => {
  const conns = await connect(endpointOf(db, 'mad'), 4);
  expect(new Set(conns.map((x) => x.id % 2)).size).toBe(2);
  const oldPassword = passwordOf(db);
  const r = await api(s, 'POST', `/v1/databases/${db.id}/reset-password`);
  expect(r.status).toBe(200);
  await Promise.all(conns.map((x) => closed(x.c)));
  const old = clients.open(endpointOf(db, 'mad'));
  await expect(old.ping()).rejects.toThrow(/WRONGPASS/);
  db = r.body;
  const fresh = await connect(endpointOf(db, 'mad'), 2);
  expect(new Set(fresh.map((x) => x.id % 2)).size).toBe(2);
  expect(await fresh[0].c.get('k')).toBe('v');
  expect(passwordOf(db)).not.toBe(oldPassword);
});

test("the cache's database 1 is replayed in every region from both workers", async () => {
  const cache = (await api(s, 'GET', '/v1/orgs/personal/cache')).body;
  const url = (region: string) => cache.regions.find((x: Json) => x.region === region).url;
  // CLIENT is refused on the cache: server status tells where the connections are.
  await eventually('no connection left from the tests before', async () =>
    ((await status()).gatewayWorkers!.every((w) => w.connections === 0) ? true : undefined));
  const writers = [clients.open(url('mad')), clients.open(url('mad'))];
  await Promise.all(writers.map((c) => c.ping()));
  await eventually('one writer on each worker', async () =>
    ((await status()).gatewayWorkers!.every((w) => w.connections === 1) ? true : undefined));
  for (const [i, c] of writers.entries()) {
    await c.select(1);
    expect(await c.set(`w${i}`, `from-${i}`)).toBe('OK');
    expect(await c.rpush('list', `${i}`)).toBe('OK'); // database 1 answers +OK, then replays
  }
  const reader = clients.open(url('ams'));
  await eventually('the writes replayed in ams', async () =>
    (await reader.get('w1')) === 'from-1' && (await reader.llen('list')) === 2 ? true : undefined);
  expect(await reader.get('w0')).toBe('from-0');
});

test('a killed worker is replaced; the other keeps its connections meanwhile', async () => {
  const conns = await connect(endpointOf(db, 'mad'), 2);
  const before = (await status()).gatewayWorkers!;
  const victim = before.find((w) => w.slot === 1)!;
  const onVictim = conns.find((x) => x.id % 2 === 1)!;
  const onOther = conns.find((x) => x.id % 2 === 0)!;
  process.kill(victim.pid!, 'SIGKILL');
  await closed(onVictim.c);
  expect(await onOther.c.ping()).toBe('PONG');
  const after = await eventually('worker 1 replaced', async () => {
    const w = (await status()).gatewayWorkers!.find((x) => x.slot === 1)!;
    return w.state === 'ready' && w.pid !== victim.pid ? w : undefined;
  });
  expect(after.restarts).toBe(1);
  const fresh = await connect(endpointOf(db, 'mad'), 2);
  expect(new Set(fresh.map((x) => x.id % 2)).size).toBe(2);
  expect(await fresh[0].c.get('k')).toBe('v');
});
