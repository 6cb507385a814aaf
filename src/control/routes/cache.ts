// HTTP routes of the regional cache, as a fastify plugin the control plane registers inside its
// authenticated scope (where its onRequest hook has set req.token):
//   GET /v1/orgs/:slug/cache          per-region URLs and the environment lines an app would get
//   GET /v1/orgs/:slug/cache/status   per-region keys, memory, replay lag, dropped entries
// An organization the token cannot see is a 404, like every other resource of the API.
import type {FastifyPluginAsyncTypebox} from '@fastify/type-provider-typebox';
import type {FastifyRequest} from 'fastify';
import type {CacheService} from '../../cache/service';
import {requireToken} from '../auth';
import {ApiError, notFound} from '../errors';
import {CACHE_ENV_NAMES, CacheInfo, CacheStatus, errorResponses, SlugParams} from '../schemas';

export interface CacheRoutesOptions {
  /** This node's regional cache; absent on a control node of several hosts, which runs none
   *  (it still gives the URLs; the status is a region host's to tell). */
  cache?: CacheService;
  /** The organization's cache password (orgs.cache_password), or undefined if there is none. */
  cachePassword: (org: string) => Promise<string | undefined>;
  /** The gateway's endpoint in each region (GatewayHandle.endpoints); empty when it is not up. */
  endpoints: () => Record<string, {host: string; port: number; tls?: boolean}>;
  /** The REST API of database 0 (src/rest): its URL per region and the cache's two tokens, for
   *  a cache password; undefined when the REST API is not running. */
  rest?: (cachePassword: string) => {urls: Record<string, string>; token: string; readOnlyToken: string} | undefined;
  /** How clients verify the rediss:// URLs (null without TLS); absent: not said. */
  tls?: () => CacheInfo['tls'];
}

/** redis://default:<password>@<host>:<port> of the cache at one endpoint (rediss:// with TLS). */
export function cacheUrl(password: string, ep: {host: string; port: number; tls?: boolean}): string {
  return `${ep.tls ? 'rediss' : 'redis'}://default:${encodeURIComponent(password)}@${urlHost(ep.host)}:${ep.port}`;
}

/** An IPv6 address goes in brackets in a URL. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The cache's URL and env lines in every region of `endpoints`, and its REST API's when given. */
export function cacheInfo(org: string, password: string, endpoints: Record<string, {host: string; port: number; tls?: boolean}>,
                          rest?: {urls: Record<string, string>; token: string; readOnlyToken: string}): CacheInfo {
  return {
    org,
    regions: Object.entries(endpoints).map(([region, ep]) => {
      const url = cacheUrl(password, ep);
      const restUrl = rest?.urls[region];
      return {region, url, env: CACHE_ENV_NAMES.map((name) => `${name}=${url}`), ...(restUrl ? {restUrl} : {})};
    }),
    ...(rest ? {restToken: rest.token, readOnlyRestToken: rest.readOnlyToken} : {}),
  };
}

async function visibleOrg(req: FastifyRequest, slug: string, opts: CacheRoutesOptions): Promise<{slug: string; password: string}> {
  const token = requireToken(req);
  const password = token.orgs.includes(slug) ? await opts.cachePassword(slug) : undefined;
  if (password === undefined) throw notFound(`organization ${slug}`);
  return {slug, password};
}

export const cacheRoutes: FastifyPluginAsyncTypebox<CacheRoutesOptions> = async (app, opts) => {
  app.get(
    '/v1/orgs/:slug/cache',
    {
      schema: {
        summary: "The organization's regional cache: its URL in every region (FLY_REDIS_CACHE_URL)",
        tags: ['cache'],
        params: SlugParams,
        response: {200: CacheInfo, ...errorResponses(401, 404, 503)},
      },
    },
    async (req): Promise<CacheInfo> => {
      const {slug, password} = await visibleOrg(req, req.params.slug, opts);
      const endpoints = opts.endpoints();
      if (Object.keys(endpoints).length === 0) {
        throw new ApiError(503, 'gateway_unavailable', 'the region gateway is not running, so the cache has no address yet');
      }
      const info = cacheInfo(slug, password, endpoints, opts.rest?.(password));
      return opts.tls ? {...info, tls: opts.tls()} : info;
    },
  );

  app.get(
    '/v1/orgs/:slug/cache/status',
    {
      schema: {
        summary: 'Per region: keys, memory and replay lag of database 1 of the regional cache',
        tags: ['cache'],
        params: SlugParams,
        response: {200: CacheStatus, ...errorResponses(401, 404, 503)},
      },
    },
    async (req): Promise<CacheStatus> => {
      const {slug} = await visibleOrg(req, req.params.slug, opts);
      if (!opts.cache) {
        throw new ApiError(503, 'cache_not_here', 'this node runs no regional cache: ask a region host (redfly server status lists them)');
      }
      return opts.cache.status(slug);
    },
  );
};
