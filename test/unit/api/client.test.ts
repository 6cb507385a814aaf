import nock from 'nock';
import * as http from 'node:http';
import type {AddressInfo} from 'node:net';
import {RedflyClient} from '../../../src/api/client';
import {ApiError, NetworkError, ProvisioningError, TimeoutError} from '../../../src/api/errors';
import type {Database} from '../../../src/api/types';

const API = 'http://api.redfly.test';

function db(overrides: Partial<Database> = {}): Database {
  return {
    id: 'abcdefghijklmno',
    name: 'late-waterfall-1133',
    org: 'personal',
    plan: 'free',
    primaryRegion: 'mad',
    readRegions: [],
    eviction: false,
    status: 'ready',
    privateUrl: 'redis://default:pw@127.0.0.1:7000',
    createdAt: '2026-11-24T03:00:00Z',
    updatedAt: '2026-11-24T03:00:00Z',
    ...overrides,
  };
}

const client = (extra: Partial<ConstructorParameters<typeof RedflyClient>[0]> = {}) =>
  new RedflyClient({apiUrl: API, token: 'tok', retryDelayMs: 1, ...extra});

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('requests', () => {
  it('sends the bearer token and returns the wire body', async () => {
    const scope = nock(API, {reqheaders: {authorization: 'Bearer tok'}})
      .get('/v1/databases')
      .query({org: 'personal', limit: 1000})
      .reply(200, {databases: [db()], nextCursor: null});
    await expect(client().listAllDatabases({org: 'personal'})).resolves.toEqual([db()]);
    scope.done();
  });

  it('follows the cursor through every page', async () => {
    const scope = nock(API)
      .get('/v1/databases')
      .query({limit: 1000})
      .reply(200, {databases: [db({name: 'a'})], nextCursor: 'c1'})
      .get('/v1/databases')
      .query({limit: 1000, cursor: 'c1'})
      .reply(200, {databases: [db({name: 'b'})], nextCursor: null});
    const names = (await client().listAllDatabases()).map((d) => d.name);
    expect(names).toEqual(['a', 'b']);
    scope.done();
  });

  it('encodes names in paths', async () => {
    const scope = nock(API).get('/v1/databases/a%2Fb').reply(200, db());
    await client().getDatabase('a/b');
    scope.done();
  });

  it('narrows a name to an organization with ?org= on every database route', async () => {
    const scope = nock(API)
      .get('/v1/databases/x').query({org: 'acme'}).reply(200, db())
      .patch('/v1/databases/x', {plan: '200mb'}).query({org: 'acme'}).reply(200, db())
      .delete('/v1/databases/x').query({org: 'acme'}).reply(202, db({status: 'deleting'}))
      .post('/v1/databases/x/reset-password', {}).query({org: 'acme'}).reply(200, db())
      .get('/v1/databases/x/stats').query({org: 'acme'}).reply(200, {id: 'x'});
    const c = client();
    await c.getDatabase('x', 'acme');
    await c.updateDatabase('x', {plan: '200mb'}, 'acme');
    await c.deleteDatabase('x', 'acme');
    await c.resetPassword('x', 'acme');
    await c.getStats('x', 'acme');
    scope.done();
  });

  it('covers every route of the contract', async () => {
    const scope = nock(API)
      .get('/healthz').reply(200, {ok: true})
      .get('/v1/regions').reply(200, [])
      .get('/v1/plans').reply(200, [])
      .get('/v1/whoami').reply(200, {tokenId: 't', tokenName: 'n', orgs: []})
      .get('/v1/orgs').reply(200, [])
      .post('/v1/orgs', {slug: 'acme', name: 'Acme'}).reply(201, {slug: 'acme'})
      .post('/v1/orgs/acme/tokens', {name: 'ci'}).reply(201, {id: 't2', token: 'secret'})
      .patch('/v1/databases/x', {plan: '200mb'}).reply(200, db())
      .delete('/v1/databases/x').reply(202, db({status: 'deleting'}))
      .post('/v1/databases/x/reset-password', {}).reply(200, db())
      .get('/v1/databases/x/stats').reply(200, {id: 'x'});
    const c = client();
    await c.health();
    await c.listRegions();
    await c.listPlans();
    await c.whoami();
    await c.listOrgs();
    await c.createOrg({slug: 'acme', name: 'Acme'});
    await expect(c.createOrgToken('acme', {name: 'ci'})).resolves.toMatchObject({token: 'secret'});
    await c.updateDatabase('x', {plan: '200mb'});
    await expect(c.deleteDatabase('x')).resolves.toMatchObject({status: 'deleting'});
    await c.resetPassword('x');
    await c.getStats('x');
    scope.done();
  });
});

describe('errors', () => {
  it.each([
    [400, 'unknown_region'],
    [401, 'unauthorized'],
    [404, 'not_found'],
    [409, 'name_taken'],
    [422, 'immutable_field'],
    [429, 'rate_limited'],
  ])('maps %i to an ApiError with the server code, message and request id', async (status, code) => {
    const scope = nock(API)
      .patch('/v1/databases/x')
      .reply(status, {error: {code, message: `server says ${code}`, requestId: 'req-1'}});
    const error = await client().updateDatabase('x', {plan: 'free'}).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({status, code, message: `server says ${code}`, requestId: 'req-1'});
    scope.done();
  });

  it.each([500, 503])('maps %i without retrying a non-idempotent request', async (status) => {
    const scope = nock(API)
      .delete('/v1/databases/x')
      .once()
      .reply(status, {error: {code: 'internal', message: 'boom'}}, {'x-request-id': 'req-h'});
    const error = await client().deleteDatabase('x').catch((e) => e);
    expect(error).toMatchObject({status, code: 'internal', message: 'boom', requestId: 'req-h'});
    scope.done();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('takes the request id from the header and survives a body that is not the error shape', async () => {
    const scope = nock(API).post('/v1/databases/x/reset-password').reply(502, 'Bad gateway', {'x-request-id': 'r9'});
    const error = await client().resetPassword('x').catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({status: 502, code: 'http_502', requestId: 'r9'});
    expect(error.message).toContain('502');
    scope.done();
  });

  it('turns a refused connection into a NetworkError naming the URL', async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    nock.enableNetConnect('127.0.0.1');
    const url = `http://127.0.0.1:${port}`;
    const error = await new RedflyClient({apiUrl: url, retries: 0}).listPlans().catch((e) => e);
    nock.disableNetConnect();
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({causeCode: 'ECONNREFUSED', url});
    expect(error.message).toContain(url);
  });

  it('gives up after the timeout with a TimeoutError', async () => {
    const scope = nock(API).get('/v1/plans').delay(500).reply(200, []);
    const error = await client({timeoutMs: 50}).listPlans().catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toContain('50 ms');
    scope.done();
  });
});

/**
 * A real loopback server that answers from a script, so that dropped connections are real
 * socket resets rather than a mock's emulation.
 */
async function scriptedServer(script: Array<'reset' | [number, unknown]>) {
  const seen: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req);
    req.resume();
    const step = script.shift();
    if (!step || step === 'reset') {
      req.socket.destroy();
      return;
    }
    res.writeHead(step[0], {'content-type': 'application/json'});
    res.end(JSON.stringify(step[1]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  nock.enableNetConnect('127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: async () => {
      nock.disableNetConnect();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('retries', () => {
  it('retries a GET after a dropped connection and a 5xx, then succeeds', async () => {
    const server = await scriptedServer(['reset', [503, {error: {code: 'redis_unavailable', message: 'later'}}], [200, [{code: 'mad'}]]]);
    try {
      await expect(client({apiUrl: server.url}).listRegions()).resolves.toEqual([{code: 'mad'}]);
      expect(server.seen).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  it('stops after the configured attempts and reports the last failure', async () => {
    const scope = nock(API).get('/v1/plans').times(3).reply(500, {error: {code: 'internal', message: 'down'}});
    await expect(client({retries: 2}).listPlans()).rejects.toMatchObject({status: 500, code: 'internal'});
    scope.done();
  });

  it('does not retry 4xx', async () => {
    const scope = nock(API).get('/v1/databases/x').once().reply(404, {error: {code: 'not_found', message: 'no'}});
    await expect(client().getDatabase('x')).rejects.toMatchObject({status: 404});
    scope.done();
  });

  it('does not retry PATCH on a dropped connection', async () => {
    const server = await scriptedServer(['reset', [200, {}]]);
    try {
      await expect(client({apiUrl: server.url}).updateDatabase('x', {})).rejects.toBeInstanceOf(NetworkError);
      expect(server.seen).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('sends an Idempotency-Key on create and reuses the same key on retry', async () => {
    const body = {org: 'personal', primaryRegion: 'mad', plan: 'free'};
    const server = await scriptedServer([
      [502, {error: {code: 'internal', message: 'x'}}],
      'reset',
      [201, db({status: 'provisioning'})],
    ]);
    try {
      await expect(client({apiUrl: server.url}).createDatabase(body)).resolves.toMatchObject({status: 'provisioning'});
      const keys = server.seen.map((req) => req.headers['idempotency-key']);
      expect(keys).toHaveLength(3);
      expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Set(keys).size).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('close() abandons a request waiting for its retry', async () => {
    const server = await scriptedServer(['reset', 'reset', 'reset']);
    try {
      const c = client({apiUrl: server.url, retryDelayMs: 200});
      const pending = c.listRegions().catch((e) => e);
      await new Promise((r) => setTimeout(r, 50));
      c.close();
      const error = await pending;
      expect(error).toBeInstanceOf(NetworkError);
      expect(error.causeCode).toBe('ECANCELED');
      expect(server.seen).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('uses the caller-provided idempotency key', async () => {
    const scope = nock(API, {reqheaders: {'idempotency-key': 'my-key'}}).post('/v1/databases').reply(201, db());
    await client().createDatabase({org: 'o', primaryRegion: 'mad', plan: 'free'}, {idempotencyKey: 'my-key'});
    scope.done();
  });
});

describe('waitUntilReady', () => {
  it('polls until the database is ready', async () => {
    const seen: string[] = [];
    const scope = nock(API)
      .get('/v1/databases/x').reply(200, db({status: 'provisioning'}))
      .get('/v1/databases/x').reply(200, db({status: 'provisioning'}))
      .get('/v1/databases/x').reply(200, db({status: 'ready'}));
    const ready = await client().waitUntilReady('x', {intervalMs: 1, onPoll: (d) => seen.push(d.status)});
    expect(ready.status).toBe('ready');
    expect(seen).toEqual(['provisioning', 'provisioning', 'ready']);
    scope.done();
  });

  it('throws the server status message when provisioning failed', async () => {
    const scope = nock(API)
      .get('/v1/databases/x')
      .reply(200, db({status: 'failed', statusMessage: 'redis-server not found'}));
    const error = await client().waitUntilReady('x').catch((e) => e);
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(error.message).toContain('redis-server not found');
    scope.done();
  });

  it('gives up after its own timeout', async () => {
    nock(API).get('/v1/databases/x').times(100).reply(200, db({status: 'provisioning'}));
    const error = await client().waitUntilReady('x', {timeoutMs: 30, intervalMs: 5}).catch((e) => e);
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(error.message).toContain('still provisioning');
  });

  it('waitUntilGone returns once the record is a 404', async () => {
    const scope = nock(API)
      .get('/v1/databases/x').reply(200, db({status: 'deleting'}))
      .get('/v1/databases/x').reply(404, {error: {code: 'not_found', message: 'gone'}});
    await client().waitUntilGone('x');
    scope.done();
  });

  it('waitUntilGone stops at a failed delete with the server status message', async () => {
    const scope = nock(API)
      .get('/v1/databases/x').reply(200, db({status: 'failed', statusMessage: 'delete failed: disk is read-only'}));
    const error = await client().waitUntilGone('x').catch((e) => e);
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(error.message).toContain('delete failed: disk is read-only');
    scope.done();
  });
});
