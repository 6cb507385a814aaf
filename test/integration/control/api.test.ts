// The API contract with the app in-process over real sockets, the real store (SQLite in a temp
// folder) and the real provisioner (redis-server processes): validation, auth, visibility,
// paging, idempotency, OpenAPI. lifecycle/restart tests run the server as a separate process.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {FastifyInstance} from 'fastify';
import {buildApp} from '../../../src/control/app';
import {ensureLocalCredentials} from '../../../src/control/bootstrap';
import {newTokenId, newTokenSecret, sha256} from '../../../src/control/ids';
import {loadCatalogue} from '../../../src/control/catalogue';
import type {DatabaseService} from '../../../src/control/databases';
import {DataPlane} from '../../../src/control/dataplane';
import {LocalProvisioner} from '../../../src/provision';
import {openStore, Store} from '../../../src/store';
import {internalCall} from '../../../src/provision/live';
import {pidOnPort, redisPidsUnder} from './helpers';

let home: string;
let store: Store;
let app: FastifyInstance;
let databases: DatabaseService;
let token: string;
let base: string;
let provisioner: LocalProvisioner;
let dataPlane: DataPlane;
const secret = 'test-internal-secret-0123456789';

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'redfly-api-'));
  // The gateway in front, as in the server; the cache is not what these tests are about.
  store = await openStore(home);
  dataPlane = new DataPlane({home, store, catalogue: loadCatalogue(home), internalSecret: secret, cache: false});
  await dataPlane.startGateway();
  provisioner = new LocalProvisioner({
    home,
    internalSecret: secret,
    events: {onProcessEvent: (id, h, m) => databases?.onProcessEvent(id, h, m)},
  });
  ({app, databases} = await buildApp({
    store,
    provisioner,
    catalogue: loadCatalogue(home),
    dataPlane,
  }));
  // Real sockets (fastify's inject needs an ESM-only module that jest cannot load).
  base = await app.listen({port: 0, host: '127.0.0.1'});
  await ensureLocalCredentials(store, home, base);
  token = require(join(home, 'local-credentials.json')).token;
});

afterAll(async () => {
  await app?.close();
  await databases?.lanes.idle();
  await dataPlane?.close();
  await provisioner?.stopAll();
  await store?.close();
  rmSync(home, {recursive: true, force: true});
});

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  as = token,
): Promise<{status: number; body: Json; headers: Record<string, unknown>}> {
  const res = await fetch(base + url, {
    method,
    headers: {...(as ? {authorization: `Bearer ${as}`} : {}), ...(body !== undefined ? {'content-type': 'application/json'} : {}), ...headers},
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {status: res.status, body: text ? JSON.parse(text) : null, headers: Object.fromEntries(res.headers)};
}

async function waitForStatus(id: string, status: string): Promise<Json> {
  for (let i = 0; i < 1000; i++) {
    const r = await call('GET', `/v1/databases/${id}`);
    if (r.body.status === status) return r.body;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`database ${id} never became ${status}`);
}

/** A database of its own for one test: mad with replicas in ams and cdg, free plan (or `over`), ready. */
async function readyDb(name: string, over: Record<string, unknown> = {}): Promise<string> {
  const r = await call('POST', '/v1/databases', {org: 'personal', name, primaryRegion: 'mad', readRegions: ['ams', 'cdg'], plan: 'free', ...over});
  expect(r.status).toBe(201);
  await waitForStatus(r.body.id, 'ready');
  return name;
}

function expectError(r: {status: number; body: Json; headers: Record<string, unknown>}, status: number, code: string) {
  expect({status: r.status, code: r.body?.error?.code}).toEqual({status, code});
  expect(typeof r.body.error.message).toBe('string');
  expect(r.body.error.requestId).toBe(r.headers['x-request-id']);
}

describe('catalogue and identity', () => {
  test('regions and plans come from the data files', async () => {
    const regions = await call('GET', '/v1/regions');
    expect(regions.status).toBe(200);
    expect(regions.body).toEqual(expect.arrayContaining([expect.objectContaining({code: 'mad', name: 'Madrid, Spain'})]));
    expect(regions.body.length).toBeGreaterThanOrEqual(30);
    const plans = await call('GET', '/v1/plans');
    expect(plans.body.map((p: Json) => p.id)).toEqual(['free', '200mb', '500mb']);
    expect(plans.body[0]).toMatchObject({maxDailyCommands: 10000, maxConnections: 100});
  });

  test('whoami and orgs show the personal organization', async () => {
    expect((await call('GET', '/v1/whoami')).body).toMatchObject({orgs: ['personal']});
    const orgs = await call('GET', '/v1/orgs');
    expect(orgs.body).toEqual([expect.objectContaining({slug: 'personal', type: 'personal'})]);
  });

  test('missing, malformed and wrong tokens are 401 with the error shape', async () => {
    expectError(await call('GET', '/v1/databases', undefined, {}, ''), 401, 'unauthorized');
    expectError(await call('GET', '/v1/databases', undefined, {}, 'nope'), 401, 'unauthorized');
    const basic = await fetch(`${base}/v1/plans`, {headers: {authorization: 'Basic abc'}});
    expect(basic.status).toBe(401);
  });

  test('healthz and the OpenAPI document need no token', async () => {
    expect((await call('GET', '/healthz', undefined, {}, '')).body).toEqual({ok: true});
    const doc = await call('GET', '/v1/openapi.json', undefined, {}, '');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/databases', '/v1/databases/{idOrName}', '/v1/databases/{idOrName}/stats', '/v1/plans']),
    );
    const create = doc.body.paths['/v1/databases'].post;
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['org', 'primaryRegion', 'plan']));
    expect(create.parameters).toEqual(expect.arrayContaining([expect.objectContaining({name: 'idempotency-key', in: 'header'})]));
    expect(doc.body.components.schemas.Database.properties.privateUrl).toBeDefined();
  });

  test('unknown routes get the error shape', async () => {
    expectError(await call('GET', '/v1/nothing'), 404, 'not_found');
  });
});

describe('creating databases', () => {
  test('a create is recorded as provisioning, then becomes ready with its URL', async () => {
    const r = await call('POST', '/v1/databases', {org: 'personal', name: 'first-db', primaryRegion: 'mad', readRegions: ['ams', 'cdg'], plan: 'free'});
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({name: 'first-db', org: 'personal', status: 'provisioning', readRegions: ['ams', 'cdg'], eviction: false});
    expect(r.body.id).toMatch(/^[A-Za-z0-9]{15}$/);
    const ready = await waitForStatus(r.body.id, 'ready');
    // the private URL names the gateway endpoint of the primary region, never a process
    const gatewayPort = dataPlane.endpoints().mad.port;
    expect(ready.privateUrl).toMatch(new RegExp(`^redis://default:[A-Za-z0-9]{32}@127\\.0\\.0\\.1:${gatewayPort}$`));
    expect(ready.processes.map((p: Json) => p.port)).not.toContain(gatewayPort);
    expect(Object.keys(ready.endpoints)).toEqual(['mad', 'ams', 'cdg']);
    expect(ready.endpoints.mad).toBe(ready.privateUrl);
    expect(ready.endpoints.ams).toBe(ready.privateUrl.replace(`:${gatewayPort}`, `:${dataPlane.endpoints().ams.port}`));
    expect(ready.processes.map((p: Json) => `${p.role}:${p.region}`).sort()).toEqual(['primary:mad', 'replica:ams', 'replica:cdg']);
    expect((await call('GET', '/v1/databases/first-db')).body.id).toBe(r.body.id);
    expect(redisPidsUnder(join(home, 'data', r.body.id)).length).toBe(3);
  });

  test('a name is generated when absent', async () => {
    const r = await call('POST', '/v1/databases', {org: 'personal', primaryRegion: 'ams', plan: 'free'});
    expect(r.status).toBe(201);
    expect(r.body.name).toMatch(/^[a-z]+-[a-z]+-\d{4}$/);
    await waitForStatus(r.body.id, 'ready');
  });

  test.each([
    [{org: 'personal', primaryRegion: 'xxx', plan: 'free'}, 400, 'unknown_region', /valid region codes: .*ams.*mad/],
    [{org: 'personal', primaryRegion: 'mad', readRegions: ['ams', 'zzz'], plan: 'free'}, 400, 'unknown_region', /"zzz".*valid region codes:/],
    [{org: 'personal', primaryRegion: 'mad', plan: 'huge'}, 400, 'unknown_plan', /valid plans: free, 200mb, 500mb/],
    [{org: 'personal', primaryRegion: 'mad', readRegions: ['mad'], plan: 'free'}, 400, 'invalid_request', /primary region/],
    [{org: 'personal', primaryRegion: 'mad', readRegions: ['ams', 'ams'], plan: 'free'}, 400, 'invalid_request', /twice/],
    // the same rule the CLI applies to --replica-regions ",,," (src/lib/read-regions.ts, issue 13)
    [{org: 'personal', primaryRegion: 'mad', readRegions: ['', '', ''], plan: 'free'}, 400, 'invalid_request', /empty entry/],
    [{org: 'personal', name: 'Bad_Name', primaryRegion: 'mad', plan: 'free'}, 400, 'invalid_name', /lowercase/],
    [{org: 'personal', name: 'ab', primaryRegion: 'mad', plan: 'free'}, 400, 'invalid_name', /3-63/],
    [{org: 'personal', name: '1abc', primaryRegion: 'mad', plan: 'free'}, 400, 'invalid_name', /starting with a letter/],
    [{org: 'personal', name: 'a'.repeat(64), primaryRegion: 'mad', plan: 'free'}, 400, 'invalid_name', /3-63/],
    [{org: 'personal', primaryRegion: 'mad'}, 400, 'invalid_request', /plan/],
    [{org: 'personal', primaryRegion: 'mad', plan: 'free', colour: 'red'}, 400, 'invalid_request', /colour/],
    [{org: 'other', primaryRegion: 'mad', plan: 'free'}, 404, 'not_found', /organization other/],
  ])('bad input %j -> %i %s, nothing created', async (body, status, code, message) => {
    const before = await store.countDatabases(['personal']);
    const r = await call('POST', '/v1/databases', body);
    expectError(r, status, code);
    expect(r.body.error.message).toMatch(message);
    expect(await store.countDatabases(['personal'])).toBe(before);
  });

  test('malformed JSON is 400 bad_json; a missing body where one is needed is 400', async () => {
    const r = await call('POST', '/v1/databases', '{"org": "personal",');
    expectError(r, 400, 'bad_json');
    expect(r.body.error.message).toMatch(/JSON/);
    expectError(await call('POST', '/v1/databases', ''), 400, 'invalid_request');
    expectError(await call('POST', '/v1/databases', '[1,2]'), 400, 'invalid_request');
  });

  test('a taken name is 409', async () => {
    await call('POST', '/v1/databases', {org: 'personal', name: 'taken-db', primaryRegion: 'ams', plan: 'free'});
    const r = await call('POST', '/v1/databases', {org: 'personal', name: 'taken-db', primaryRegion: 'ams', plan: 'free'});
    expectError(r, 409, 'name_taken');
  });

  test('Idempotency-Key: a retry returns the same database; another body with the key is 422', async () => {
    const body = {org: 'personal', name: 'idem-db', primaryRegion: 'mad', plan: 'free'};
    const first = await call('POST', '/v1/databases', body, {'idempotency-key': 'k-1'});
    const again = await call('POST', '/v1/databases', body, {'idempotency-key': 'k-1'});
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const other = await call('POST', '/v1/databases', {...body, plan: '200mb'}, {'idempotency-key': 'k-1'});
    expectError(other, 422, 'idempotency_mismatch');
    // concurrent retries of one request still make one database
    const key = {'idempotency-key': 'k-2'};
    const b2 = {org: 'personal', primaryRegion: 'ams', plan: 'free'};
    const [a, b] = await Promise.all([call('POST', '/v1/databases', b2, key), call('POST', '/v1/databases', b2, key)]);
    expect(a.body.id).toBe(b.body.id);
    await waitForStatus(first.body.id, 'ready');
    await waitForStatus(a.body.id, 'ready');
  });

  test('a provisioning failure shows as failed with a message, and an update retries it', async () => {
    // a second app on the same records whose provisioner cannot find redis-server
    const broken = new LocalProvisioner({home, internalSecret: secret, redisServerPath: join(home, 'no-redis-server')});
    const other = await buildApp({store, provisioner: broken, catalogue: loadCatalogue(home), dataPlane});
    const otherBase = await other.app.listen({port: 0, host: '127.0.0.1'});
    try {
      const res = await fetch(`${otherBase}/v1/databases`, {
        method: 'POST',
        headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'},
        body: JSON.stringify({org: 'personal', name: 'doomed', primaryRegion: 'mad', plan: 'free'}),
      });
      expect(res.status).toBe(201);
      await other.databases.lanes.idle();
    } finally {
      await other.app.close();
    }
    const failed = await waitForStatus('doomed', 'failed');
    expect(failed.statusMessage).toMatch(/redis-server was not found/);
    // the working server retries on any update
    await call('PATCH', '/v1/databases/doomed', {});
    await waitForStatus('doomed', 'ready');
    await call('DELETE', '/v1/databases/doomed');
  });
});

describe('updating, resetting, deleting', () => {
  test('name and primary region are immutable (422); other bad input 400', async () => {
    const name = await readyDb('upd-db-1');
    expectError(await call('PATCH', `/v1/databases/${name}`, {name: 'renamed'}), 422, 'immutable_field');
    const r = await call('PATCH', `/v1/databases/${name}`, {primaryRegion: 'ams'});
    expectError(r, 422, 'immutable_field');
    expect(r.body.error.message).toMatch(/primary region/);
    expectError(await call('PATCH', `/v1/databases/${name}`, {readRegions: ['mad']}), 400, 'invalid_request');
    expectError(await call('PATCH', `/v1/databases/${name}`, {plan: 'x'}), 400, 'unknown_plan');
    expectError(await call('PATCH', `/v1/databases/${name}`, {readRegions: ['qqq']}), 400, 'unknown_region');
    // the CLI's rule for --replica-regions, applied by the API too (issue 13)
    expectError(await call('PATCH', `/v1/databases/${name}`, {readRegions: ['ams', 'ams']}), 400, 'invalid_request');
    expectError(await call('PATCH', `/v1/databases/${name}`, {readRegions: ['']}), 400, 'invalid_request');
    expectError(await call('PATCH', '/v1/databases/no-such-db', {plan: 'free'}), 404, 'not_found');
  });

  test('changing read regions goes through updating to ready', async () => {
    const name = await readyDb('upd-db-2');
    const r = await call('PATCH', `/v1/databases/${name}`, {readRegions: ['ams']});
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('updating');
    const ready = await waitForStatus(r.body.id, 'ready');
    expect(ready.readRegions).toEqual(['ams']);
    expect(ready.processes.map((p: Json) => p.region).sort()).toEqual(['ams', 'mad']);
  });

  test('an update accepted while the create is still provisioning is not lost', async () => {
    const c = await call('POST', '/v1/databases', {org: 'personal', name: 'hasty', primaryRegion: 'mad', plan: 'free'});
    const u = await call('PATCH', '/v1/databases/hasty', {readRegions: ['ams', 'syd'], plan: '200mb'});
    expect(u.body).toMatchObject({status: 'updating', readRegions: ['ams', 'syd'], plan: '200mb'});
    const ready = await waitForStatus(c.body.id, 'ready');
    expect(ready.processes.map((p: Json) => `${p.role}:${p.region}:${p.state}`)).toEqual([
      'primary:mad:running',
      'replica:ams:running',
      'replica:syd:running',
    ]);
    await call('DELETE', '/v1/databases/hasty');
  });

  test('a password reset while the create is provisioning: ready, with the new password', async () => {
    const c = await call('POST', '/v1/databases', {org: 'personal', name: 'reset-early', primaryRegion: 'mad', readRegions: ['ams'], plan: 'free'});
    const r = await call('POST', '/v1/databases/reset-early/reset-password');
    expect(r.status).toBe(200);
    const ready = await waitForStatus(c.body.id, 'ready');
    expect(ready.privateUrl.split('@')[0]).toBe(r.body.privateUrl.split('@')[0]);
    const {default: Redis} = await import('ioredis');
    const client = new Redis(ready.privateUrl, {maxRetriesPerRequest: 1});
    try {
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
    await call('DELETE', '/v1/databases/reset-early');
  });

  test('a delete accepted while the create is provisioning: never shown ready again, then gone', async () => {
    const c = await call('POST', '/v1/databases', {org: 'personal', name: 'short-lived', primaryRegion: 'mad', readRegions: ['ams'], plan: 'free'});
    expect((await call('DELETE', '/v1/databases/short-lived')).status).toBe(202);
    const seen = new Set<string>();
    for (;;) {
      const r = await call('GET', `/v1/databases/${c.body.id}`);
      if (r.status === 404) break;
      seen.add(r.body.status);
      await new Promise((res) => setTimeout(res, 2));
    }
    expect([...seen]).toEqual(['deleting']);
    expect(redisPidsUnder(join(home, 'data', c.body.id))).toEqual([]);
  });

  test('a plan change on a ready database answers when the new limit is applied', async () => {
    const name = await readyDb('upd-db-3');
    const r = await call('PATCH', `/v1/databases/${name}`, {plan: '200mb', eviction: true});
    expect(r.body).toMatchObject({status: 'ready', plan: '200mb', eviction: true});
  });

  test('a plan change that cannot be applied is a 503 and changes nothing', async () => {
    // as a plan change before left it: 200mb with eviction
    const name = await readyDb('upd-db-4', {plan: '200mb', eviction: true});
    const db = (await call('GET', `/v1/databases/${name}`)).body;
    const primaryPort = db.processes.find((p: Json) => p.role === 'primary').port;
    // a frozen replica never answers CONFIG SET: the change cannot be put in force everywhere
    const replica = pidOnPort(home, db.processes.find((p: Json) => p.region === 'ams').port)!;
    expect(replica).toBeDefined();
    process.kill(replica, 'SIGSTOP');
    let r;
    try {
      r = await call('PATCH', `/v1/databases/${name}`, {plan: '500mb', eviction: false});
    } finally {
      process.kill(replica, 'SIGCONT');
    }
    expectError(r, 503, 'redis_unavailable');
    const after = (await call('GET', `/v1/databases/${name}`)).body;
    expect(after).toMatchObject({plan: '200mb', eviction: true, status: 'ready'});
    // the primary, which did answer, is back on the old limit
    const maxmemory = (await internalCall(primaryPort, secret, 'CONFIG', 'GET', 'maxmemory')) as Buffer[];
    expect(String(maxmemory[1])).toBe('209715200');
  });

  test('reset password changes the URL', async () => {
    const name = await readyDb('upd-db-5');
    const before = (await call('GET', `/v1/databases/${name}`)).body;
    // an empty JSON body (curl -H 'content-type: application/json' -X POST) counts as none
    const r = await call('POST', `/v1/databases/${name}/reset-password`, '');
    expect(r.status).toBe(200);
    expect(r.body.privateUrl).not.toBe(before.privateUrl);
  });

  test('delete: 202 deleting, then gone; a second delete is 404', async () => {
    const name = await readyDb('upd-db-6');
    const r = await call('DELETE', `/v1/databases/${name}`);
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('deleting');
    await databases.lanes.idle();
    expectError(await call('GET', `/v1/databases/${r.body.id}`), 404, 'not_found');
    expectError(await call('DELETE', `/v1/databases/${name}`), 404, 'not_found');
    expect(redisPidsUnder(join(home, 'data', r.body.id))).toEqual([]);
  });
});

describe('organizations, tokens and visibility', () => {
  let otherDbId: string;
  // acme is created by a user token of its own (an organization-scoped token may not create
  // organizations, issue 10), so the suite's token keeps seeing only "personal" whatever order
  // the tests run in.
  let acme: Promise<{creator: string; org: Awaited<ReturnType<typeof call>>; otherToken: string; t: Awaited<ReturnType<typeof call>>}> | undefined;
  const acmeOrg = () =>
    (acme ??= (async () => {
      const creator = newTokenSecret();
      await store.createToken({id: newTokenId(), name: 'acme-creator', secretSha256: sha256(creator), orgs: ['personal'], scope: 'user', createdAt: new Date().toISOString()});
      const org = await call('POST', '/v1/orgs', {slug: 'acme', name: 'Acme'}, {}, creator);
      const t = await call('POST', '/v1/orgs/acme/tokens', {name: 'ci'}, {}, creator);
      return {creator, org, otherToken: t.body.token, t};
    })());

  test('a new org and a token scoped to it', async () => {
    const {creator, org, t, otherToken} = await acmeOrg();
    expect(org.status).toBe(201);
    expectError(await call('POST', '/v1/orgs', {slug: 'acme'}, {}, creator), 409, 'slug_taken');
    expectError(await call('POST', '/v1/orgs', {slug: 'Bad Slug'}, {}, creator), 400, 'invalid_request');
    expect(t.status).toBe(201);
    expect(t.body).toMatchObject({orgs: ['acme'], name: 'ci'});
    expect((await call('GET', '/v1/whoami', undefined, {}, otherToken)).body.orgs).toEqual(['acme']);
    expectError(await call('POST', '/v1/orgs/personal/tokens', {}, {}, otherToken), 404, 'not_found');
  });

  test('a token made for an organization before the rfo_ prefix cannot create organizations either', async () => {
    const old = newTokenSecret(); // rf_, as POST /v1/orgs/{slug}/tokens made them; the record says 'org'
    await store.createToken({id: newTokenId(), name: 'old-ci', secretSha256: sha256(old), orgs: ['personal'], scope: 'org', createdAt: new Date().toISOString()});
    expectError(await call('POST', '/v1/orgs', {slug: 'widened-old'}, {}, old), 403, 'forbidden');
    expect((await call('GET', '/v1/orgs', undefined, {}, old)).body.map((o: Json) => o.slug)).toEqual(['personal']);
  });

  test("another org's database is a 404, never a 403", async () => {
    const {creator, otherToken} = await acmeOrg();
    const mine = await call('POST', '/v1/databases', {org: 'personal', name: 'mine-only', primaryRegion: 'mad', plan: 'free'});
    const theirs = await call('POST', '/v1/databases', {org: 'acme', name: 'acme-db', primaryRegion: 'mad', plan: 'free'}, {}, otherToken);
    expect(theirs.status).toBe(201);
    otherDbId = theirs.body.id;
    for (const path of [`/v1/databases/${mine.body.id}`, '/v1/databases/mine-only', `/v1/databases/${mine.body.id}/stats`]) {
      expectError(await call('GET', path, undefined, {}, otherToken), 404, 'not_found');
    }
    expectError(await call('DELETE', '/v1/databases/mine-only', undefined, {}, otherToken), 404, 'not_found');
    expectError(await call('PATCH', '/v1/databases/mine-only', {plan: 'free'}, {}, otherToken), 404, 'not_found');
    expectError(await call('POST', '/v1/databases/mine-only/reset-password', undefined, {}, otherToken), 404, 'not_found');
    const list = await call('GET', '/v1/databases', undefined, {}, otherToken);
    expect(list.body.databases.map((d: Json) => d.name)).toEqual(['acme-db']);
    expectError(await call('GET', '/v1/databases?org=personal', undefined, {}, otherToken), 404, 'not_found');
    // the creator of acme sees both orgs' databases, and can filter
    const all = await call('GET', '/v1/databases?limit=1000', undefined, {}, creator);
    expect(all.body.databases.map((d: Json) => d.id)).toEqual(expect.arrayContaining([mine.body.id, otherDbId]));
    const acmeList = await call('GET', '/v1/databases?org=acme', undefined, {}, creator);
    expect(acmeList.body.databases.map((d: Json) => d.id)).toEqual([otherDbId]);
  });
});

describe('listing', () => {
  test('keyset pages cover every record once, in creation order', async () => {
    const now = Date.now();
    {
      for (let i = 0; i < 250; i++) {
        const at = new Date(now + 1000 + Math.floor(i / 3)).toISOString(); // ties on createdAt
        await store.insertDatabase({
          id: `bulk${String(i).padStart(11, '0')}`,
          name: `bulk-${i}`,
          org: 'personal',
          plan: 'free',
          primaryRegion: 'mad',
          readRegions: [],
          eviction: false,
          status: 'ready',
          statusMessage: null,
          password: 'x'.repeat(32),
          processes: [],
          createdAt: at,
          updatedAt: at,
        });
      }
    }
    const total = await store.countDatabases(['personal']);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: {body: Json} = await call('GET', `/v1/databases?org=personal&limit=40${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...r.body.databases.map((d: Json) => d.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor);
    expect(seen.length).toBe(total);
    expect(new Set(seen).size).toBe(total);
    expect(pages).toBe(Math.ceil(total / 40));
    expectError(await call('GET', '/v1/databases?cursor=garbage'), 400, 'invalid_request');
    expectError(await call('GET', '/v1/databases?limit=0'), 400, 'invalid_request');
    expectError(await call('GET', '/v1/databases?limit=1001'), 400, 'invalid_request');
  });
});
