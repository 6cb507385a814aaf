// The regional cache: what the gateway, the control plane and the CLI import.
export {CacheService, errorReply} from './service';
export type {Db1Result} from './service';
export {CACHE_UNSUPPORTED} from './policy';
export {CACHE_INTERNAL_USER} from './backend';
export {cacheTenant, cacheTenantId, CacheTenants} from './gateway';
export type {BackendAddress} from './backend';
export type {AppliedEvent} from './applier';
export {cacheConfigFromEnv} from './config';
export * from './types';
