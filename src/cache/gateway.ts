// The regional cache as a tenant of the region gateway (src/gateway): what the host's directory
// returns for an organization's cache password.
import type {CacheTenant, Endpoint} from '../gateway/types';
import {cacheRefusal} from './policy';
import {CacheService} from './service';

export const cacheTenantId = (org: string): string => `cache:${org}`;

export function cacheTenant(cache: CacheService, org: string): CacheTenant {
  return {
    kind: 'cache',
    id: cacheTenantId(org),
    org,
    // Started on first use in a region, after the retained database-1 backlog is applied.
    backend: async (region: string): Promise<Endpoint> => {
      const a = await cache.backend(org, region);
      return {host: a.host, port: a.port};
    },
    virtualDb: {accept: (args, ctx) => cache.accept(org, ctx.region, args)},
    refuse: (name) => cacheRefusal(name),
  };
}
