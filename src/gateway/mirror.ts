// Worker mode: a gateway worker's copy of the directory, kept in memory from the control
// process's snapshot and changes (cluster.ts sends them), so AUTH never leaves the worker.
import type {CacheEntry, CacheTenant, Directory, DirectoryChange, DirectorySnapshot, ManagedEntry, ManagedTenant, Tenant} from './types';

export class MirrorDirectory implements Directory {
  private readonly managed = new Map<string, ManagedEntry>();
  private readonly byPw = new Map<string, ManagedTenant>();
  private readonly byUserKey = new Map<string, ManagedTenant>();
  private readonly caches = new Map<string, {entry: CacheEntry; tenant: CacheTenant}>();
  private readonly cacheByPw = new Map<string, CacheTenant>();

  /** `cacheTenant` makes the tenant of a cache entry (its backend and database 1 live in the
   *  control process). */
  constructor(snapshot: DirectorySnapshot, private readonly cacheTenant: (e: CacheEntry) => CacheTenant) {
    for (const e of snapshot.managed) this.apply({managed: e.tenant.id, entry: e});
    for (const e of snapshot.caches) this.apply({cache: e.id, entry: e});
  }

  apply(change: DirectoryChange): void {
    if ('managed' in change) {
      const old = this.managed.get(change.managed);
      if (old !== undefined) {
        if (this.byPw.get(old.password) === old.tenant) this.byPw.delete(old.password);
        for (const k of old.userKeys) if (this.byUserKey.get(k) === old.tenant) this.byUserKey.delete(k);
        this.managed.delete(change.managed);
      }
      const e = change.entry;
      if (e === null) return;
      this.managed.set(change.managed, e);
      this.byPw.set(e.password, e.tenant);
      for (const k of e.userKeys) this.byUserKey.set(k, e.tenant);
    } else {
      const old = this.caches.get(change.cache);
      if (old !== undefined) {
        if (this.cacheByPw.get(old.entry.password) === old.tenant) this.cacheByPw.delete(old.entry.password);
        this.caches.delete(change.cache);
      }
      const e = change.entry;
      if (e === null || e.password === '') return; // an empty password must never match an AUTH
      // The same tenant object while the organization stays: sessions compare tenants by id.
      const tenant = old?.tenant ?? this.cacheTenant(e);
      this.caches.set(change.cache, {entry: e, tenant});
      this.cacheByPw.set(e.password, tenant);
    }
  }

  byPassword(password: string): Tenant | undefined {
    return this.byPw.get(password) ?? this.cacheByPw.get(password);
  }

  byId(id: string): Tenant | undefined {
    return this.managed.get(id)?.tenant ?? this.caches.get(id)?.tenant;
  }

  byUser(user: string, passwordSha256: string): ManagedTenant | undefined {
    return this.byUserKey.get(`${user}\0${passwordSha256}`);
  }
}
