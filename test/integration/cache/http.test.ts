// The cache's HTTP routes against a real CacheService, in a fastify app shaped like the control
// plane's authenticated scope (req.token set by an onRequest hook, shared error schema).
import Fastify, {FastifyInstance} from 'fastify';
import {CacheService} from '../../../src/cache';
import {cacheRoutes} from '../../../src/control/routes/cache';
import {sharedSchemas} from '../../../src/control/schemas';
import {openCache, REGIONS, rmrf, send, tempDir} from './helpers';

let dir: string;
let cache: CacheService;
let app: FastifyInstance;
let base: string;
const TOKENS: Record<string, {orgs: string[]}> = {'acme-token': {orgs: ['acme']}, 'other-token': {orgs: ['other']}};
const ENDPOINTS = {mad: {host: '127.0.0.1', port: 41001}, ams: {host: '127.0.0.1', port: 41002}, syd: {host: '127.0.0.1', port: 41003}};

beforeAll(async () => {
  dir = tempDir();
  cache = await openCache(dir);
  app = Fastify();
  for (const s of sharedSchemas) app.addSchema(s);
  app.decorateRequest('token', null);
  app.setErrorHandler((err: Error & {statusCode?: number; code?: string}, req, reply) => {
    void reply.status(err.statusCode ?? 500).send({error: {code: err.code, message: err.message, requestId: req.id}});
  });
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (req) => {
      const t = TOKENS[String(req.headers.authorization ?? '').replace('Bearer ', '')];
      (req as unknown as {token: unknown}).token = t ?? null;
    });
    await scope.register(cacheRoutes, {
      cache,
      cachePassword: async (org) => ({acme: 'p@ss/word', other: 'x'})[org],
      endpoints: () => ENDPOINTS,
    });
  });
  base = await app.listen({port: 0, host: '127.0.0.1'});
});

afterAll(async () => {
  await app?.close();
  await cache?.close();
  rmrf(dir);
});

// light-my-request (app.inject) loads an ES module jest cannot require: use a real socket.
async function get(url: string, token: string | null = 'acme-token'): Promise<{statusCode: number; json: () => any}> {
  const res = await fetch(`${base}${url}`, {headers: token ? {authorization: `Bearer ${token}`} : {}});
  const body = await res.json();
  return {statusCode: res.status, json: () => body};
}

test('GET /v1/orgs/:slug/cache gives the URL and the env lines of every region', async () => {
  const res = await get('/v1/orgs/acme/cache');
  expect(res.statusCode).toBe(200);
  const body = res.json();
  expect(body.org).toBe('acme');
  expect(body.regions.map((r: {region: string}) => r.region)).toEqual(REGIONS);
  const mad = body.regions[0];
  expect(mad.url).toBe('redis://default:p%40ss%2Fword@127.0.0.1:41001');
  expect(mad.env).toEqual([`FLY_REDIS_CACHE_URL=${mad.url}`, `REDFLY_CACHE_URL=${mad.url}`]);
});

test('another organization, or none, is a 404; no token is a 401', async () => {
  expect((await get('/v1/orgs/acme/cache', 'other-token')).statusCode).toBe(404);
  expect((await get('/v1/orgs/nobody/cache/status')).statusCode).toBe(404);
  expect((await get('/v1/orgs/acme/cache', null)).statusCode).toBe(401);
});

test('GET /v1/orgs/:slug/cache/status reports every region, started or not', async () => {
  await cache.backend('acme', 'mad');
  expect(await send(cache, 'acme', 'mad', 'SET', 'a', '1')).toBe('+OK');
  await cache.waitApplied('acme');
  const res = await get('/v1/orgs/acme/cache/status');
  expect(res.statusCode).toBe(200);
  const body = res.json();
  expect(body.lastSeq).toBe(1);
  const byRegion = Object.fromEntries(body.regions.map((r: {region: string}) => [r.region, r]));
  expect(byRegion.mad).toMatchObject({state: 'live', keys: 1, lagEntries: 0, dropped: 0});
  expect(byRegion.ams).toMatchObject({state: 'idle', keys: null});
});
