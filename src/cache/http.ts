// HTTP routes of the regional cache, as a fastify plugin the control plane registers inside its
// authenticated scope (where its onRequest hook has set req.token):
//   GET /v1/orgs/:slug/cache          per-region URLs and the environment lines an app would get
//   GET /v1/orgs/:slug/cache/status   per-region keys, memory, replay lag, dropped entries
// An organization the token cannot see is a 404, like every other resource of the API.
import {Static, Type} from '@sinclair/typebox';
import type {FastifyInstance, FastifyPluginAsync, FastifyRequest} from 'fastify';
import {ApiError, notFound} from '../control/errors';
import {errorResponses, SlugParams} from '../control/schemas';
import type {CacheInfo, CacheStatus} from '../api/cache';
import {CACHE_ENV_NAMES} from '../api/cache';
import type {CacheService} from './service';

export interface CacheRoutesOptions {
  cache: CacheService;
  /** The organization's cache password (orgs.cache_password), or undefined if there is none. */
  cachePassword: (org: string) => string | undefined;
  /** The gateway's endpoint in each region (GatewayHandle.endpoints); empty when it is not up. */
  endpoints: () => Record<string, {host: string; port: number}>;
}

const RegionUrl = Type.Object({region: Type.String(), url: Type.String(), env: Type.Array(Type.String())});
export const CacheInfoSchema = Type.Object(
  {org: Type.String(), regions: Type.Array(RegionUrl)},
  {description: 'Where the regional cache of an organization is reached in each region'},
);

const nullableInt = Type.Union([Type.Integer(), Type.Null()]);
const RegionStatus = Type.Object({
  region: Type.String(),
  state: Type.Union(['idle', 'connecting', 'catching-up', 'live', 'down', 'stopped'].map((s) => Type.Literal(s))),
  keys: nullableInt,
  memoryBytes: nullableInt,
  maxmemoryBytes: Type.Integer(),
  appliedSeq: Type.Integer(),
  lagEntries: Type.Integer(),
  lagMs: Type.Integer(),
  dropped: Type.Integer(),
  replayErrors: Type.Integer(),
  lastReplayError: Type.Union([Type.String(), Type.Null()]),
});
export const CacheStatusSchema = Type.Object(
  {
    org: Type.String(),
    lastSeq: Type.Integer(),
    backlog: Type.Object({
      entries: Type.Integer(),
      bytes: Type.Integer(),
      maxBytes: Type.Integer(),
      maxAgeMs: Type.Integer(),
      trimmed: Type.Integer(),
    }),
    regions: Type.Array(RegionStatus),
  },
  {description: 'Per region: keys, memory and replay lag of database 1'},
);

export function cacheUrl(password: string, ep: {host: string; port: number}): string {
  return `redis://default:${encodeURIComponent(password)}@${ep.host}:${ep.port}`;
}

export function cacheInfo(org: string, password: string, endpoints: Record<string, {host: string; port: number}>): CacheInfo {
  return {
    org,
    regions: Object.entries(endpoints).map(([region, ep]) => {
      const url = cacheUrl(password, ep);
      return {region, url, env: CACHE_ENV_NAMES.map((name) => `${name}=${url}`)};
    }),
  };
}

function visibleOrg(req: FastifyRequest, opts: CacheRoutesOptions): {slug: string; password: string} {
  const {slug} = req.params as Static<typeof SlugParams>;
  const token = (req as FastifyRequest & {token?: {orgs: string[]} | null}).token;
  if (!token) throw new ApiError(401, 'unauthorized', 'missing access token: send "Authorization: Bearer <token>"');
  const password = token.orgs.includes(slug) ? opts.cachePassword(slug) : undefined;
  if (password === undefined) throw notFound(`organization ${slug}`);
  return {slug, password};
}

export const cacheRoutes: FastifyPluginAsync<CacheRoutesOptions> = async (app: FastifyInstance, opts) => {
  app.get(
    '/v1/orgs/:slug/cache',
    {
      schema: {
        summary: "The organization's regional cache: its URL in every region (FLY_REDIS_CACHE_URL)",
        tags: ['cache'],
        params: SlugParams,
        response: {200: CacheInfoSchema, ...errorResponses(401, 404, 503)},
      },
    },
    async (req): Promise<CacheInfo> => {
      const {slug, password} = visibleOrg(req, opts);
      const endpoints = opts.endpoints();
      if (Object.keys(endpoints).length === 0) {
        throw new ApiError(503, 'gateway_unavailable', 'the region gateway is not running, so the cache has no address yet');
      }
      return cacheInfo(slug, password, endpoints);
    },
  );

  app.get(
    '/v1/orgs/:slug/cache/status',
    {
      schema: {
        summary: 'Per region: keys, memory and replay lag of database 1 of the regional cache',
        tags: ['cache'],
        params: SlugParams,
        response: {200: CacheStatusSchema, ...errorResponses(401, 404)},
      },
    },
    async (req): Promise<CacheStatus> => {
      const {slug} = visibleOrg(req, opts);
      return opts.cache.status(slug);
    },
  );
};
