// The HTTP API: a fastify app whose routes (routes/*.ts) take their types from the typebox
// schemas (schemas.ts). createApp() makes the bare app, so that its logger exists before the
// services that log; mountApi() adds the OpenAPI document and the routes. buildApp() does both,
// for tests of the API alone; the server's composition root is main.ts.
import type {HostRecord} from '../hosts/types';
import {hostRoutes} from './routes/hosts';
import swagger from '@fastify/swagger';
import type {TypeBoxTypeProvider} from '@fastify/type-provider-typebox';
import Fastify, {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyServerOptions,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type {Provisioner} from '../provision/types';
import type {Store} from '../store';
import {authenticate} from './auth';
import type {Catalogue} from './catalogue';
import type {DataPlane} from './dataplane';
import {DatabaseService} from './databases';
import {ApiError} from './errors';
import {newRequestId} from './ids';
import {cacheRoutes} from './routes/cache';
import {catalogueRoutes} from './routes/catalogue';
import {databaseRoutes} from './routes/databases';
import {orgRoutes} from './routes/orgs';
import {tokenRoutes} from './routes/tokens';
import {metricsRoutes} from './routes/metrics';
import {dashboardLinkRoute, dashboardRoutes} from './dashboard/routes';
import {DashboardSessions} from './dashboard/sessions';
import {invalidName} from '../lib/names';
import {sharedSchemas} from './schemas';
import {httpServerFactory, type TlsMaterial} from '../net/listener';
import {RateLimited} from './quotas';
import {strictBodyValidator} from './validation';

/** The API's fastify instance: request types come from the route schemas (no casts). */
export type ApiApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface AppOptions {
  store: Store;
  provisioner: Provisioner;
  catalogue: Catalogue;
  logger?: FastifyServerOptions['logger'] | FastifyBaseLogger;
  /** /healthz answers 503 until this says the server serves (API and gateway listening; the
   *  databases may still be coming back, each record's status says). */
  isReady?: () => boolean;
  /** How many databases are still coming back after the start (named in /healthz while > 0). */
  databasesStarting?: () => number;
  /** The gateway and the cache: URLs, usage and the cache's routes (tests of the API alone
   *  build it with `cache: false`). */
  dataPlane: DataPlane;
  /** Serve https with this certificate (src/net/listener.ts); plain http when absent. */
  tls?: TlsMaterial | null;
  /** The hosts of a multi-host deployment (src/hosts), for GET /v1/hosts; absent = one process. */
  hosts?: () => HostRecord[];
  /** A multi-host deployment's regional cache addresses: every region host's gateway and REST
   *  API (HostNode), so that any node, control nodes too, answers GET /v1/orgs/:slug/cache with
   *  every region; absent = this process's own gateway. */
  cacheAddresses?: {endpoints: () => Record<string, {host: string; port: number; tls: boolean}>; restUrls: () => Record<string, string>};
}

export interface ControlApp {
  app: ApiApp;
  databases: DatabaseService;
}

/** Store, provisioner and gateway plus the app: everything an app (tests) needs to build. */
export async function buildApp(opts: AppOptions): Promise<ControlApp> {
  const app = createApp(opts);
  const databases = new DatabaseService({
    store: opts.store,
    provisioner: opts.provisioner,
    catalogue: opts.catalogue,
    log: app.log,
    url: (rec, region) => opts.dataPlane.url(rec, region),
    tls: () => opts.dataPlane.tlsInfo(),
    restUrl: (region) => opts.dataPlane.restUrl(region),
  });
  await mountApi(app, {...opts, databases});
  return {app, databases};
}

/** The app with its TypeBox type provider, body parser, error shape and /healthz, no routes yet. */
/** `store`, when given: a request to an unknown /v1 route has its token checked first. */
export function createApp(opts: Pick<AppOptions, 'logger' | 'isReady' | 'databasesStarting' | 'tls'> & {store?: Store}): ApiApp {
  const loggerOpt = opts.logger ?? false;
  const isInstance = typeof loggerOpt === 'object' && loggerOpt !== null && 'child' in loggerOpt;
  const app = Fastify({
    ...(isInstance ? {loggerInstance: loggerOpt as FastifyBaseLogger} : {logger: loggerOpt as FastifyServerOptions['logger']}),
    genReqId: () => newRequestId(),
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
    // Unknown fields are an error (a typo must not be silently dropped); query strings need coercion.
    ajv: {customOptions: {removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false}},
    // ...but never in bodies (src/control/validation.ts).
    schemaController: {compilersFactory: {buildValidator: strictBodyValidator}},
    // A long id or name is the route's error after the token check, not fastify's own 414.
    routerOptions: {maxParamLength: 2048},
    serverFactory: httpServerFactory(opts.tls ?? null),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON bodies, where an empty body counts as none: `curl -X POST -H 'content-type:
  // application/json'` on reset-password must not be a 400. Malformed JSON is the one bad_json.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', {parseAs: 'string'}, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new ApiError(400, 'bad_json', `malformed JSON in the request body: ${(err as Error).message}`), undefined);
    }
  });
  app.decorateRequest('token', null);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const {status, code, message, details} = describeError(err, req.body, req.routeOptions.url ?? '');
    if (status >= 500) req.log.error({err}, 'request failed');
    if (err instanceof RateLimited) void reply.header('retry-after', String(err.retryAfterSeconds));
    void reply.status(status).send({error: {code, message, requestId: req.id, ...(details ? {details} : {})}});
  });
  app.setNotFoundHandler(async (req, reply) => {
    // Under /v1 the token is checked first, as for every route: no route is told to a caller
    // without one.
    if (opts.store && req.url.startsWith('/v1/') && req.url !== '/v1/openapi.json') {
      try {
        await authenticate(opts.store, req);
      } catch (err) {
        const {status, code, message} = describeError(err as FastifyError, undefined, '');
        return reply.status(status).send({error: {code, message, requestId: req.id}});
      }
    }
    return reply
      .status(404)
      .send({error: {code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}`, requestId: req.id}});
  });

  app.get('/healthz', {schema: {hide: true}}, async (_req, reply) => {
    if (opts.isReady && !opts.isReady()) {
      reply.status(503);
      return {ok: false, reason: 'starting'};
    }
    const starting = opts.databasesStarting?.() ?? 0;
    return starting > 0 ? {ok: true, databasesStarting: starting} : {ok: true};
  });
  return app;
}

/** The OpenAPI document and every /v1 route; all but the catalogue's need a bearer token. */
export async function mountApi(app: ApiApp, opts: AppOptions & {databases: DatabaseService}): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'redfly provisioning API',
        version: '1.0.0',
        description: 'Create and manage managed Redis databases. Errors: {"error": {"code", "message", "requestId"}}.',
      },
      components: {securitySchemes: {bearerAuth: {type: 'http', scheme: 'bearer'}}},
      security: [{bearerAuth: []}],
    },
    refResolver: {buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`)},
  });
  for (const s of sharedSchemas) app.addSchema(s);
  app.get('/v1/openapi.json', {schema: {hide: true}}, async () => app.swagger());

  const sessions = new DashboardSessions();
  await app.register(async (scope) => dashboardRoutes(scope, {...opts, sessions}));
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (req) => {
      req.token = await authenticate(opts.store, req);
    });
    catalogueRoutes(scope, opts.catalogue);
    orgRoutes(scope, opts.store);
    tokenRoutes(scope, opts.store);
    metricsRoutes(scope, opts);
    dashboardLinkRoute(scope, opts, sessions);
    databaseRoutes(scope, opts.databases, opts);
    hostRoutes(scope, opts.hosts);
    const cache = opts.dataPlane.cacheService;
    const addresses = opts.cacheAddresses;
    if (cache || addresses) {
      await scope.register(cacheRoutes, {
        cache: cache ?? undefined,
        cachePassword: async (slug) => (await opts.store.getOrg(slug))?.cachePassword,
        endpoints: addresses ? addresses.endpoints : () => opts.dataPlane.liveEndpoints(),
        rest: (password: string) => opts.dataPlane.cacheRest(password, addresses?.restUrls()),
        tls: () => opts.dataPlane.tlsInfo(),
      });
    }
  });
}

function describeError(err: FastifyError, body: unknown, route: string): {status: number; code: string; message: string; details?: unknown} {
  if (err instanceof ApiError) return {status: err.statusCode, code: err.code, message: err.message, details: err.details};
  if (err.validation) {
    const first = err.validation[0];
    const where = err.validationContext ?? 'request';
    const field = `${where}${first?.instancePath ?? ''}`;
    // The database-name rule is for database names only (org and token names have their own).
    if (where === 'body' && first?.instancePath === '/name' && route === '/v1/databases') {
      return {status: 400, code: 'invalid_name', message: invalidName((body as {name?: unknown} | undefined)?.name)};
    }
    if (first?.keyword === 'additionalProperties') {
      const extra = (first.params as {additionalProperty?: string}).additionalProperty;
      return {status: 400, code: 'invalid_request', message: `unknown field "${extra}" in ${field}`};
    }
    return {status: 400, code: 'invalid_request', message: `${field} ${first?.message ?? 'is invalid'}`.trim()};
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return {status: 400, code: 'bad_json', message: `malformed JSON in the request body: ${err.message}`};
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {status: 400, code: 'bad_json', message: 'the request body is empty; send a JSON object'};
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {status: 415, code: 'unsupported_media_type', message: 'send the request body as application/json'};
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {status: 413, code: 'payload_too_large', message: 'the request body is too large'};
  }
  if (err instanceof SyntaxError) return {status: 400, code: 'bad_json', message: `malformed JSON: ${err.message}`};
  const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
  if (status < 500) return {status, code: 'invalid_request', message: err.message};
  return {status, code: 'internal', message: 'internal error; see the server log'};
}

