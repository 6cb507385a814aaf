// Client side of the regional-cache routes (src/cache/http.ts is the server side):
//   GET /v1/orgs/{slug}/cache          -> CacheInfo   (per-region URLs and environment lines)
//   GET /v1/orgs/{slug}/cache/status   -> CacheStatus (per-region keys, memory, replay lag)
// Like the rest of src/api it never prints; failures are the typed errors of ./errors.
import type {RedflyClient} from './client';

export interface CacheRegionUrl {
  region: string;
  url: string; // redis://default:<cache password>@<gateway host>:<port of the region's endpoint>
  env: string[]; // ["FLY_REDIS_CACHE_URL=<url>", "REDFLY_CACHE_URL=<url>"]
}

export interface CacheInfo {
  org: string;
  regions: CacheRegionUrl[];
}

export type CacheRegionState = 'idle' | 'connecting' | 'catching-up' | 'live' | 'down' | 'stopped';

export interface CacheRegionStatus {
  region: string;
  state: CacheRegionState; // 'idle': not used in this region yet; it starts on first connection
  keys: number | null;
  memoryBytes: number | null;
  maxmemoryBytes: number;
  appliedSeq: number;
  lagEntries: number;
  lagMs: number;
  dropped: number;
  replayErrors: number;
  lastReplayError: string | null;
}

export interface CacheStatus {
  org: string;
  lastSeq: number;
  backlog: {entries: number; bytes: number; maxBytes: number; maxAgeMs: number; trimmed: number};
  regions: CacheRegionStatus[];
}

/** The env var names an app reads: Fly's, and redfly's twin. */
export const CACHE_ENV_NAMES = ['FLY_REDIS_CACHE_URL', 'REDFLY_CACHE_URL'] as const;

type Requester = <T>(spec: {method: 'GET'; path: string; retryable: boolean}) => Promise<T>;

// RedflyClient keeps its transport private; these routes reuse it (same auth, retries and
// error mapping) through TypeScript's element-access escape hatch rather than a second client.
function requester(client: RedflyClient): Requester {
  return (client as unknown as {request: Requester}).request.bind(client);
}

const seg = (s: string) => encodeURIComponent(s);

export function getCacheInfo(client: RedflyClient, org: string): Promise<CacheInfo> {
  return requester(client)({method: 'GET', path: `/v1/orgs/${seg(org)}/cache`, retryable: true});
}

export function getCacheStatus(client: RedflyClient, org: string): Promise<CacheStatus> {
  return requester(client)({method: 'GET', path: `/v1/orgs/${seg(org)}/cache/status`, retryable: true});
}
