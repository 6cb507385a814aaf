// What the gateway authenticates against: database password -> tenant, and organization cache
// password -> organization, both in memory (the gateway asks on every AUTH, which never waits
// for the store) and kept current by every write to the records (it subscribes to the store's
// announcements, and a write on this node resolves only once the directory has reread the
// record), so a reset password or a deleted database stops working for new connections the
// moment the record changes.
import type {ManagedEntry, ManagedTenant} from '../gateway';
import type {RestGrant} from '../rest/server';
import {lineHashes, parseAclLine} from '../redis/acl-users';
import type {DatabaseRecord, OrgRecord, ProcessRecord, RedisSettings, Store, StoreChange} from '../store';
import type {Endpoint} from '../gateway/types';
import type {Catalogue} from './catalogue';

export class TenantDirectory {
  private readonly byPw = new Map<string, ManagedTenant>();
  private readonly entries = new Map<string, {tenant: ManagedTenant; password: string; restTokens: string[]; userKeys: string[]}>();
  /** REST API token -> database id and whether it is the read-only one. */
  private readonly byRest = new Map<string, {id: string; readOnly: boolean}>();
  // "<user>\0<sha256 of a password>" -> the database of a user made with ACL SETUSER
  private readonly byUserKey = new Map<string, ManagedTenant>();
  private readonly orgByCachePw = new Map<string, string>();
  private readonly cachePwByOrg = new Map<string, string>();
  /** REST API token of an organization's cache -> organization and whether it is read-only. */
  private readonly cacheByRest = new Map<string, {slug: string; readOnly: boolean}>();
  /** Every organization's slug, and every database's client settings (running or not). */
  private readonly orgs = new Set<string>();
  private readonly settings = new Map<string, RedisSettings | undefined>();
  /** Reads may finish out of order: each key ('db:<id>', 'org:<slug>') keeps the number of the
   *  latest read started for it, and only that read's result is applied. */
  private readonly latestRead = new Map<string, number>();
  private reads = 0;
  /** The cache's REST tokens, derived from its password (set by the data plane). */
  cacheRestTokens: ((cachePassword: string) => {token: string; readOnlyToken: string}) | null = null;
  /** A tenant whose password changed or that is gone: its open connections must close. */
  onRevoked: (id: string) => void = () => undefined;
  private readonly watchers = new Set<(change: {database: string} | {org: string}) => void>();

  constructor(
    private readonly store: Store,
    private readonly catalogue: Catalogue,
    private readonly host = '127.0.0.1',
    /** Where a copy is reached when it may run on another host (server start --role region);
     *  undefined = not reachable yet. Default: this machine's loopback. */
    private readonly endpointOf?: (rec: DatabaseRecord, p: ProcessRecord) => Endpoint | undefined,
  ) {}

  /** The records as last applied, for refreshAll(). */
  private readonly records = new Map<string, DatabaseRecord>();

  /** The hosts that run copies changed (another host came back, on other ports): every
   *  database whose endpoints moved is applied again, from the records already read. */
  refreshAll(): void {
    const where = (t: ManagedTenant | undefined) => JSON.stringify(t ? [t.primary, t.replicas] : null);
    for (const [id, rec] of this.records) {
      if (where(this.entries.get(id)?.tenant) !== where(this.tenantOf(rec))) this.apply(id, rec);
    }
  }

  private unsubscribe: (() => void) | null = null;

  /** Follows the store's changes until close(), and reads every record. */
  async load(): Promise<void> {
    this.unsubscribe ??= this.store.subscribe((change) => this.follow(change));
    await this.reloadAll();
  }

  private follow(change: StoreChange): Promise<void> | undefined {
    if (change.kind === 'database') return this.refresh(change.id);
    if (change.kind === 'org') return this.refreshOrg(change.slug);
    if (change.kind === 'all') return this.reloadAll();
    return undefined; // hosts: not the directory's
  }

  /** Rereads every record (at load, and when changes may have been missed). */
  private async reloadAll(): Promise<void> {
    const n = ++this.reads;
    const [orgs, dbs] = await Promise.all([this.store.allOrgs(), this.store.allDatabases()]);
    // a record read later than this bulk read keeps what that read found
    const fresh = (key: string): boolean => {
      if ((this.latestRead.get(key) ?? 0) > n) return false;
      this.latestRead.set(key, n);
      return true;
    };
    const slugs = new Set(orgs.map((o) => o.slug));
    for (const org of orgs) if (fresh(`org:${org.slug}`)) this.applyOrg(org.slug, org);
    for (const slug of [...this.orgs]) if (!slugs.has(slug) && fresh(`org:${slug}`)) this.applyOrg(slug, undefined);
    const ids = new Set(dbs.map((d) => d.id));
    for (const rec of dbs) if (fresh(`db:${rec.id}`)) this.apply(rec.id, rec);
    for (const id of [...this.settings.keys()]) if (!ids.has(id) && fresh(`db:${id}`)) this.apply(id, undefined);
  }

  /** Starts a read for key; returns a check that it is still the latest one when it ends. */
  private startRead(key: string): () => boolean {
    const n = ++this.reads;
    this.latestRead.set(key, n);
    return () => this.latestRead.get(key) === n;
  }

  /** Stops following the store. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Calls `listener` after each change of a database's or an organization's entry (before
   *  onRevoked, so that a gateway worker learns the new password before it closes the
   *  connections of the old one). Returns the unsubscribe. */
  watch(listener: (change: {database: string} | {org: string}) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** A database's entry as the gateway's workers need it (worker mode), undefined when it is not
   *  reachable. */
  entry(id: string): ManagedEntry | undefined {
    const e = this.entries.get(id);
    return e && {tenant: e.tenant, password: e.password, userKeys: e.userKeys};
  }

  /** Every organization with a cache password, and that password. */
  cachePasswords(): {org: string; password: string}[] {
    return [...this.cachePwByOrg].map(([org, password]) => ({org, password}));
  }

  byPassword(password: string): ManagedTenant | undefined {
    return this.byPw.get(password);
  }

  /** The database whose own user `user` has a password with this SHA-256 (hex). */
  byUser(user: string, passwordSha256: string): ManagedTenant | undefined {
    return this.byUserKey.get(`${user}\0${passwordSha256}`);
  }

  byId(id: string): ManagedTenant | undefined {
    return this.entries.get(id)?.tenant;
  }

  /** What a REST API token grants (src/rest): the database's password for the gateway, and
   *  whether the token is the read-only one. */
  byRestToken(token: string): RestGrant | undefined {
    const t = this.byRest.get(token);
    const e = t && this.entries.get(t.id);
    if (t && e) return {password: e.password, readOnly: t.readOnly, maxRequestBytes: e.tenant.plan.maxRequestSizeBytes};
    const c = this.cacheByRest.get(token);
    const pw = c && this.cachePwByOrg.get(c.slug);
    // The cache has no plan: the gateway's default request limit (10 MB).
    return c && pw ? {password: pw, readOnly: c.readOnly, maxRequestBytes: 10 * 1024 * 1024} : undefined;
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  orgOfCachePassword(password: string): string | undefined {
    return this.orgByCachePw.get(password);
  }

  /** Whether an organization of that slug exists. */
  hasOrg(slug: string): boolean {
    return this.orgs.has(slug);
  }

  /** What a database's clients set in Redis (its record's redisSettings), for its config. */
  clientSettings(id: string): RedisSettings | undefined {
    return this.settings.get(id);
  }

  /** Rereads one database's record. */
  async refresh(id: string): Promise<void> {
    const latest = this.startRead(`db:${id}`);
    const rec = await this.store.getDatabase(id);
    if (latest()) this.apply(id, rec);
  }

  private apply(id: string, rec: DatabaseRecord | undefined): void {
    if (rec) {
      this.settings.set(id, rec.redisSettings);
      this.records.set(id, rec);
    } else {
      this.settings.delete(id);
      this.records.delete(id);
      this.latestRead.delete(`db:${id}`); // a read still under way finds it stale
    }
    const old = this.entries.get(id);
    const tenant = rec ? this.tenantOf(rec) : undefined;
    if (old) {
      this.byPw.delete(old.password);
      for (const t of old.restTokens) this.byRest.delete(t);
      for (const k of old.userKeys) if (this.byUserKey.get(k) === old.tenant) this.byUserKey.delete(k);
    }
    if (rec && tenant) {
      const restTokens = [rec.restToken, rec.readOnlyRestToken].filter((t) => t !== ''); // '' never matches
      const userKeys = (rec.redisSettings?.aclUsers ?? []).flatMap((line) => {
        const u = parseAclLine(line);
        return u === null ? [] : lineHashes(line).map((h) => `${u.name}\0${h}`);
      });
      this.entries.set(id, {tenant, password: rec.password, restTokens, userKeys});
      this.byPw.set(rec.password, tenant);
      if (rec.restToken) this.byRest.set(rec.restToken, {id, readOnly: false});
      if (rec.readOnlyRestToken) this.byRest.set(rec.readOnlyRestToken, {id, readOnly: true});
      for (const k of userKeys) this.byUserKey.set(k, tenant);
    } else {
      this.entries.delete(id);
    }
    for (const w of this.watchers) w({database: id});
    if (old && (!tenant || old.password !== rec?.password)) this.onRevoked(id);
  }

  /** Rereads one organization's record. */
  async refreshOrg(slug: string): Promise<void> {
    const latest = this.startRead(`org:${slug}`);
    const org = await this.store.getOrg(slug);
    if (latest()) this.applyOrg(slug, org);
  }

  private applyOrg(slug: string, org: OrgRecord | undefined): void {
    if (org) this.orgs.add(slug);
    else {
      this.orgs.delete(slug);
      this.latestRead.delete(`org:${slug}`);
    }
    const old = this.cachePwByOrg.get(slug);
    if (old !== undefined) this.orgByCachePw.delete(old);
    for (const [t, c] of this.cacheByRest) if (c.slug === slug) this.cacheByRest.delete(t);
    this.cachePwByOrg.delete(slug);
    if (org) this.setOrg(org);
    for (const w of this.watchers) w({org: slug});
  }

  private setOrg(org: OrgRecord): void {
    if (!org.cachePassword) return; // an empty password must never match an AUTH
    this.cachePwByOrg.set(org.slug, org.cachePassword);
    this.orgByCachePw.set(org.cachePassword, org.slug);
    const rest = this.cacheRestTokens?.(org.cachePassword);
    if (rest) {
      this.cacheByRest.set(rest.token, {slug: org.slug, readOnly: false});
      this.cacheByRest.set(rest.readOnlyToken, {slug: org.slug, readOnly: true});
    }
  }

  /** A database is reachable once its primary has a port, until its delete is accepted. */
  private tenantOf(rec: DatabaseRecord): ManagedTenant | undefined {
    if (rec.status === 'deleting') return undefined;
    const primary = rec.processes.find((p) => p.role === 'primary');
    if (!primary || primary.port === 0) return undefined;
    const at = this.endpointOf ?? ((_r: DatabaseRecord, p: ProcessRecord): Endpoint => ({host: this.host, port: p.port}));
    const primaryEp = at(rec, primary);
    if (!primaryEp) return undefined;
    // a plan removed from the operator's catalogue keeps the database at the largest plan's limits
    const plan =
      this.catalogue.plan(rec.plan) ??
      [...this.catalogue.plans].sort((a, b) => b.maxDataSizeBytes - a.maxDataSizeBytes)[0];
    if (!plan) return undefined;
    const replicas: ManagedTenant['replicas'] = {};
    for (const p of rec.processes) {
      const ep = p.role === 'replica' && p.port > 0 && rec.readRegions.includes(p.region) ? at(rec, p) : undefined;
      if (ep) replicas[p.region] = ep;
    }
    return {
      kind: 'managed',
      id: rec.id,
      plan,
      eviction: rec.eviction,
      primaryRegion: rec.primaryRegion,
      primary: primaryEp,
      replicas,
    };
  }
}
