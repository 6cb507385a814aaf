// Wire types of the regional-cache routes (src/cache/http.ts is the server side; the calls are
// RedflyClient.getCacheInfo / getCacheStatus):
//   GET /v1/orgs/{slug}/cache          -> CacheInfo   (per-region URLs and environment lines)
//   GET /v1/orgs/{slug}/cache/status   -> CacheStatus (per-region keys, memory, replay lag)

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
