// The regional cache as a tenant of the region gateway (src/gateway): what the host's directory
// returns for an organization's cache password.
import type {CacheTenant, Endpoint} from '../gateway/types';
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
  };
}

/**
 * The cache half of the gateway's directory. The host combines it with its managed databases:
 *   byPassword: (pw) => managed.byPassword(pw) ?? cacheTenants.byPassword(pw)
 *   byId:       (id) => managed.byId(id) ?? cacheTenants.byId(id)
 * `orgOfPassword` maps a cache password to its organization (kept in memory by the host: it is
 * called on every AUTH); `orgExists` lets a deleted organization's clients be closed.
 */
export class CacheTenants {
  private readonly tenants = new Map<string, CacheTenant>();

  constructor(
    private readonly cache: CacheService,
    private readonly orgOfPassword: (password: string) => string | undefined,
    private readonly orgExists: (org: string) => boolean,
  ) {}

  byPassword(password: string): CacheTenant | undefined {
    const org = this.orgOfPassword(password);
    return org === undefined ? undefined : this.tenant(org);
  }

  byId(id: string): CacheTenant | undefined {
    if (!id.startsWith('cache:')) return undefined;
    const org = id.slice('cache:'.length);
    if (!this.orgExists(org)) {
      this.tenants.delete(org);
      return undefined;
    }
    return this.tenant(org);
  }

  private tenant(org: string): CacheTenant {
    let t = this.tenants.get(org);
    if (!t) {
      t = cacheTenant(this.cache, org);
      this.tenants.set(org, t);
    }
    return t;
  }
}
