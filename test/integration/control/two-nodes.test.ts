// Two control-plane nodes on one PostgreSQL (REDFLY_DATABASE_URL): two real servers
// (`node dist/control/main.js`, two homes) started at once serve the same records. The same
// create with the same Idempotency-Key sent to both at once makes exactly one database, made
// (and provisioned) by one node only; a change made through one node reaches the other's
// gateway at once (LISTEN/NOTIFY).
import {randomBytes} from 'node:crypto';
import {existsSync, readdirSync, realpathSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {stopLocalServer} from '../../../src/cli/local-server';
import {startPostgres, TestPostgres} from '../../helpers/postgres';
import {api, cleanup, Clients, eventually, Json, passwordOf, redisPidsUnder, startServer, tempHome, TestServer} from './helpers';

let pg: TestPostgres;
let a: TestServer;
let b: TestServer;
const homes = [tempHome('node-a'), tempHome('node-b')];
const clients = new Clients();

beforeAll(async () => {
  pg = await startPostgres();
  // Nodes of one deployment share the secret their gateways reach the redis-servers with.
  const secret = randomBytes(24).toString('hex');
  for (const h of homes) writeFileSync(join(h, 'internal-secret'), `${secret}\n`, {mode: 0o600});
  // at once: migrations and the personal organization must not race
  [a, b] = await Promise.all(homes.map((h) => startServer(h, {env: {REDFLY_DATABASE_URL: pg.url}})));
}, 120_000);

afterAll(async () => {
  await clients.closeAll();
  for (const h of homes) await cleanup(h);
  await pg?.stop();
});

/** The node's view with node A's token (tokens are shared records too). */
const asA = (s: TestServer): TestServer => ({...s, token: a.token});

/** The live redis-server processes of a database under a node's home. */
function processesOf(home: string, id: string): number[] {
  const dir = join(realpathSync(home), 'data', id);
  return redisPidsUnder(home).filter((pid) => {
    try {
      return realpathSync(`/proc/${pid}/cwd`).startsWith(`${dir}/`);
    } catch {
      return false;
    }
  });
}

test("each node has its own local token, and each node accepts the other's", async () => {
  expect(a.token).not.toBe(b.token);
  expect((await api(asA(b), 'GET', '/v1/whoami')).body.orgs).toEqual(['personal']);
  expect((await api({...a, token: b.token}, 'GET', '/v1/whoami')).body.orgs).toEqual(['personal']);
});

test('the same create with one Idempotency-Key sent to both nodes at once makes one database, made by one node', async () => {
  const body = {org: 'personal', name: 'two-nodes', primaryRegion: 'mad', plan: 'free'};
  const headers = {'idempotency-key': 'two-nodes-1'};
  const answers = await Promise.all([a, b].map((s) => api(asA(s), 'POST', '/v1/databases', body, headers)));
  expect(answers.map((r) => r.status).sort()).toEqual([200, 201]);
  const id = answers[0].body.id as string;
  expect(answers[1].body.id).toBe(id);
  for (const s of [a, b]) {
    const list = (await api(asA(s), 'GET', '/v1/databases')).body.databases as Json[];
    expect(list.filter((d) => d.name === 'two-nodes').map((d) => d.id)).toEqual([id]);
  }
  const ready = await eventually('two-nodes ready', async () => {
    const r = await api(asA(b), 'GET', `/v1/databases/${id}`);
    return r.body?.status === 'ready' ? r.body : undefined;
  });
  // only the node whose insert won provisions it
  const maker = answers.findIndex((r) => r.status === 201);
  expect(processesOf(homes[maker], id).length).toBe(1);
  expect(existsSync(join(homes[1 - maker], 'data', id)) ? readdirSync(join(homes[1 - maker], 'data', id)) : []).toEqual([]);

  // Both gateways know it from the record (the other node heard the change through NOTIFY).
  for (const s of [a, b]) {
    const viaNode = (await api(asA(s), 'GET', `/v1/databases/${id}`)).body;
    expect(await clients.open(viaNode.privateUrl).ping()).toBe('PONG');
  }

  // A reset through one node: the other's gateway refuses the old password from then on.
  const old = passwordOf(ready);
  const viaB = (await api(asA(b), 'GET', `/v1/databases/${id}`)).body;
  const reset = await api(asA(a), 'POST', `/v1/databases/${id}/reset-password`);
  expect(reset.status).toBe(200);
  const bUrl = new URL(viaB.privateUrl);
  await eventually('the old password refused by the other node', async () => {
    const c = clients.open(`redis://127.0.0.1:${bUrl.port}`, {password: old});
    const r = await c.ping().then(
      () => 'accepted',
      (err: Error) => err.message,
    );
    c.disconnect();
    return /WRONGPASS|invalid|NOAUTH/i.test(r) ? r : undefined;
  }, 5_000);
  const fresh = (await api(asA(b), 'GET', `/v1/databases/${id}`)).body;
  expect(await clients.open(fresh.privateUrl).ping()).toBe('PONG');

  // The other node restarts: it brings back only its own databases, not a copy of this one.
  const other = 1 - maker;
  await stopLocalServer(homes[other]);
  const again = await startServer(homes[other], {env: {REDFLY_DATABASE_URL: pg.url}});
  if (other === 0) a = again;
  else b = again;
  expect((await api(asA(again), 'GET', `/v1/databases/${id}`)).body.status).toBe('ready');
  expect(existsSync(join(homes[other], 'data', id))).toBe(false);
  expect(processesOf(homes[maker], id).length).toBe(1);
});
