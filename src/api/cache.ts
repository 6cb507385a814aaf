// Wire types of the regional-cache routes (src/control/routes/cache.ts is the server side; the
// calls are RedflyClient.getCacheInfo / getCacheStatus), derived from the server's schemas:
//   GET /v1/orgs/{slug}/cache          -> CacheInfo   (per-region URLs and environment lines)
//   GET /v1/orgs/{slug}/cache/status   -> CacheStatus (per-region keys, memory, replay lag)
import type * as S from '../control/schemas';

export type CacheRegionUrl = S.CacheRegionUrl;
export type CacheInfo = S.CacheInfo;
export type CacheRegionStatus = S.CacheRegionStatus;
export type CacheRegionState = CacheRegionStatus['state'];
export type CacheStatus = S.CacheStatus;

export {CACHE_ENV_NAMES} from '../lib/names';
