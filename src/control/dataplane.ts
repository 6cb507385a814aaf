// The data plane inside the server process: the region gateway (one endpoint per region of the
// catalogue), the regional cache behind it, and what of theirs survives a restart: the endpoint
// ports (in gateway.json, so every URL handed out stays valid) and today's usage counters (in
// usage.json, so daily limits are not reset by a restart).
import {TENANT_USER} from '../redis/tenant-user';
import {existsSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {CacheService, CacheTenants, cacheConfigFromEnv} from '../cache';
import {cacheTenantId} from '../cache/gateway';
import {type DirectoryFeed, startGatewayCluster} from '../gateway/cluster';
import type {AdmissionOptions} from '../gateway/admission';
import type {TlsMaterial} from '../net/listener';
import {cacheUrl} from './routes/cache';
import {ClientSettings, Endpoint, GatewayHandle, GatewayOptions, GatewayWorkerInfo, startGateway, UsageSeed} from '../gateway';
import {findFreePort} from '../provision/ports';
import {httpServerFactory} from '../net/listener';
import {RestHandle, startRest} from '../rest/server';
import {cacheRestTokens} from '../rest/tokens';
import type {DatabaseRecord, ProcessRecord, Store} from '../store';
import type {Catalogue} from './catalogue';
import {TenantDirectory} from './directory';
import {Lanes} from '../lib/lanes';
import {ApiError} from './errors';
import type {DatabaseStats} from './schemas';
import {statePaths} from '../lib/home';

export interface DataPlaneOptions {
  home: string;
  /** The records; the directory follows their changes through store.subscribe(). */
  store: Store;
  catalogue: Catalogue;
  internalSecret: string;
  redisServer?: string;
  host?: string;
  /** The host name clients use in URLs (default: `host`). */
  publicHost?: string;
  /** The gateway speaks TLS (rediss://) with this certificate; caFile/caPem tell clients how to
   *  verify it. */
  tls?: (TlsMaterial & {caFile?: string | null; caPem?: string | null}) | null;
  admission?: Partial<AdmissionOptions>;
  simulateLatency?: boolean;
  /** Region i of the catalogue listens on portBase + i; default: the ports of the last run. */
  portBase?: number;
  /** Open the regional cache (default true). */
  cache?: boolean;
  /** Gateway worker processes sharing each region's port (src/gateway/cluster.ts); default 1 =
   *  the gateway inside this process. */
  gatewayWorkers?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** The regions this data plane serves (a region host: its own); default every region of the
   *  catalogue. */
  regions?: string[];
  /** Where a database's copy is reached, when copies run on several hosts (src/hosts). */
  endpointOf?: (rec: DatabaseRecord, p: ProcessRecord) => Endpoint | undefined;
}

// Daily counters survive a crash (kill -9) with at most this much of counting lost: a free
// plan's daily quota must not come back after a crash. Written only when they changed.
const USAGE_SAVE_MS = 1_000;

export class DataPlane {
  readonly directory: TenantDirectory;
  private gw: GatewayHandle | null = null;
  private rest: RestHandle | null = null;
  private cache: CacheService | null = null;
  private usageTimer: NodeJS.Timeout | null = null;
  private readonly host: string;
  private readonly savedPorts: Record<string, number>;
  private readonly savedRestPorts: Record<string, number>;
  private readonly seeds: Record<string, UsageSeed>;
  private readonly paths: ReturnType<typeof statePaths>;
  private loading: Promise<void> | null = null;
  /** Client settings are merged into the record one save at a time per database. */
  private readonly settingsSaves = new Lanes();

  constructor(private readonly opts: DataPlaneOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.paths = statePaths(opts.home);
    // the processes behind the gateway always listen on loopback, whatever --host the API has
    this.directory = new TenantDirectory(opts.store, opts.catalogue, undefined, opts.endpointOf);
    this.directory.onRevoked = (id) => this.gw?.disconnect(id);
    this.directory.cacheRestTokens = (pw) => cacheRestTokens(opts.internalSecret, pw);
    const saved = readJson<{ports?: Record<string, number>; restPorts?: Record<string, number>}>(this.paths.gatewayJson);
    this.savedPorts = saved?.ports ?? {};
    this.savedRestPorts = saved?.restPorts ?? {};
    this.seeds = readJson<{tenants?: Record<string, UsageSeed>}>(this.paths.usageJson)?.tenants ?? {};
  }

  /** Reads the records into the gateway's directory, once (the cache and the gateway wait for
   *  it; the provisioner's clientSettings read it): call before reconciling. */
  load(): Promise<void> {
    return (this.loading ??= this.directory.load());
  }

  get regions(): string[] {
    return this.opts.regions ?? this.opts.catalogue.regions.map((r) => r.code);
  }

  /** The gateway's address in each region; before it is up, the one it will listen on again. */
  endpoints(): Record<string, Endpoint> {
    if (this.gw) return this.gw.endpoints;
    const out: Record<string, Endpoint> = {};
    for (const [region, port] of Object.entries(this.savedPorts)) out[region] = {host: this.host, port};
    return out;
  }

  /** Where clients reach the gateway: the public host, and whether it is rediss://. */
  publicEndpoints(live = false): Record<string, {host: string; port: number; tls: boolean}> {
    const host = this.opts.publicHost ?? this.host;
    const tls = Boolean(this.opts.tls);
    const eps = live ? (this.gw?.endpoints ?? {}) : this.endpoints();
    return Object.fromEntries(Object.entries(eps).map(([r, ep]) => [r, {host, port: ep.port, tls}]));
  }

  /** How clients verify the gateway's certificate; null without TLS. */
  tlsInfo(): {caFile: string | null; caPem: string | null} | null {
    const t = this.opts.tls;
    return t ? {caFile: t.caFile ?? null, caPem: t.caPem ?? null} : null;
  }

  /** The REST API's address in each region; before it is up, the one it will listen on again. */
  restEndpoints(): Record<string, Endpoint> {
    if (this.rest) return this.rest.endpoints;
    const out: Record<string, Endpoint> = {};
    for (const [region, port] of Object.entries(this.savedRestPorts)) out[region] = {host: this.host, port};
    return out;
  }

  /** The REST API's URL in one region, the same for every database: the token names the
   *  database ("" when the data plane never ran yet). */
  restUrl(region: string): string {
    const ep = this.restEndpoints()[region];
    // Named by the public host, like the gateway's URLs.
    return ep ? `${this.opts.tls ? 'https' : 'http'}://${this.opts.publicHost ?? ep.host}:${ep.port}` : '';
  }

  /** The URL of a database in one region ("" when the gateway never ran yet). */
  url(rec: DatabaseRecord, region: string): string {
    const ep = this.publicEndpoints()[region];
    return ep ? cacheUrl(rec.password, ep) : '';
  }

  /** Before the API is built: the cache's routes need it, and it resumes its replay at once. */
  async openCache(): Promise<void> {
    await this.load();
    if (this.opts.cache === false || this.cache) return;
    this.cache = await CacheService.open({
      stateDir: this.paths.cache,
      // Every region's log (it may be shared by several hosts: REDFLY_DATABASE_URL); this data
      // plane's regions are the ones whose backends and appliers run here.
      regions: this.opts.catalogue.regions.map((r) => r.code),
      applyRegions: this.regions,
      internalSecret: this.opts.internalSecret,
      redisServer: this.opts.redisServer ?? 'redis-server',
      ...cacheConfigFromEnv(),
    });
  }

  /** After the databases are back: the gateway reads Redis's command table from them. */
  async startGateway(): Promise<void> {
    const {opts} = this;
    await this.load();
    const regions = this.regions;
    const cacheTenants = this.cache
      ? new CacheTenants(
          this.cache,
          (pw) => this.directory.orgOfCachePassword(pw),
          (slug) => this.directory.hasOrg(slug),
        )
      : null;
    const gatewayOpts: Omit<GatewayOptions, 'port'> = {
      host: this.host,
      tls: opts.tls ?? null,
      admission: opts.admission,
      regions,
      internalSecret: opts.internalSecret,
      tenantUser: TENANT_USER,
      directory: {
        byPassword: (pw: string) => this.directory.byPassword(pw) ?? cacheTenants?.byPassword(pw),
        byId: (id: string) => this.directory.byId(id) ?? cacheTenants?.byId(id),
        byUser: (user: string, sha: string) => this.directory.byUser(user, sha),
      },
      // A database's own users and keyspace notifications, kept with its record; every copy's
      // config renders them at its next start.
      saveClientSettings: (id: string, changed: ClientSettings) =>
        this.settingsSaves
          .run(id, async () => {
            const rec = await opts.store.getDatabase(id);
            if (rec) await opts.store.updateDatabase(id, {redisSettings: {...rec.redisSettings, ...changed}});
          })
          .catch((err) => opts.log?.('saving client settings failed', {databaseId: id, err: (err as Error).message})),
      simulateLatency: opts.simulateLatency ?? false,
      usageSeed: (id: string) => this.seeds[id],
      log: (m: string) => opts.log?.(m),
    };
    let ports: Record<string, number>;
    if (opts.portBase !== undefined) {
      ports = Object.fromEntries(regions.map((r, i) => [r, opts.portBase! + i]));
    } else {
      ports = await this.choosePorts(this.savedPorts);
    }
    const workers = opts.gatewayWorkers ?? 1;
    const start = (ports: Record<string, number>) => workers > 1
      ? startGatewayCluster({...gatewayOpts, port: (r) => ports[r], workers, feed: this.feed(cacheTenants !== null)})
      : startGateway({...gatewayOpts, port: (r) => ports[r]});
    try {
      this.gw = await start(ports);
    } catch (err) {
      // A remembered port taken by another program meanwhile: serve on new ports rather than
      // not at all (URLs change; `redfly redis status` shows the new ones).
      if (opts.portBase !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      opts.log?.('a gateway port of the last run is taken; the gateway moves to new ports', {err: (err as Error).message});
      ports = await this.choosePorts({});
      this.gw = await start(ports);
    }
    const bound = Object.fromEntries(Object.entries(this.gw.endpoints).map(([r, ep]) => [r, ep.port]));
    await this.startRest(this.gw, new Set(Object.values(bound)));
    const restBound = Object.fromEntries(Object.entries(this.rest!.endpoints).map(([r, ep]) => [r, ep.port]));
    writeJson(this.paths.gatewayJson, {ports: bound, restPorts: restBound});
    this.saveWorkers();
    this.usageTimer = setInterval(() => {
      this.saveUsage();
      this.saveWorkers();
    }, USAGE_SAVE_MS);
    this.usageTimer.unref();
  }

  /** Worker mode: the directory as the gateway's workers get it (a snapshot, then each change). */
  private feed(withCache: boolean): DirectoryFeed {
    const d = this.directory;
    const cache = (org: string, password: string) => ({id: cacheTenantId(org), org, password});
    return {
      snapshot: () => ({
        managed: d.ids().flatMap((id) => d.entry(id) ?? []),
        caches: withCache ? d.cachePasswords().map((c) => cache(c.org, c.password)) : [],
      }),
      subscribe: (listener) => d.watch((c) => {
        if ('database' in c) listener({managed: c.database, entry: d.entry(c.database) ?? null});
        else if (withCache) {
          const pw = d.cachePasswords().find((e) => e.org === c.org)?.password;
          listener({cache: cacheTenantId(c.org), entry: pw === undefined ? null : cache(c.org, pw)});
        }
      }),
    };
  }

  /** The gateway's worker processes; null when the gateway runs inside this process. */
  gatewayWorkers(): GatewayWorkerInfo[] | null {
    return this.gw?.workers?.() ?? null;
  }

  /** gateway-workers.json, which `redfly server status` shows (worker mode only). */
  private saveWorkers(): void {
    const workers = this.gatewayWorkers();
    if (workers !== null) this.saveJson(this.paths.gatewayWorkersJson, {workers}, 'the gateway workers');
  }

  private readonly lastSaved = new Map<string, string>();

  /** Writes `value` to `file` unless it is what was written there last. */
  private saveJson(file: string, value: unknown, what: string): void {
    const text = JSON.stringify(value);
    if (this.lastSaved.get(file) === text) return;
    try {
      writeJson(file, value);
      this.lastSaved.set(file, text);
    } catch (err) {
      this.opts.log?.(`could not save ${what}`, {err: (err as Error).message});
    }
  }

  /** The REST API (src/rest) beside the gateway, one listener per region, on the ports of the
   *  last run when they are free. */
  private async startRest(gw: GatewayHandle, gatewayPorts: Set<number>): Promise<void> {
    const regions = this.regions;
    const restOpts = {
      host: this.host,
      regions,
      gateway: gw,
      directory: {byToken: (t: string) => this.directory.byRestToken(t)},
      log: (m: string) => this.opts.log?.(m),
      // HTTPS with the gateway's certificate when the platform serves TLS (server start --tls).
      listener: httpServerFactory(this.opts.tls ?? null),
      scheme: this.opts.tls ? ('https' as const) : ('http' as const),
    };
    const base = this.opts.portBase;
    let ports = base !== undefined
      ? Object.fromEntries(regions.map((r, i) => [r, base + regions.length + i]))
      : await this.choosePorts(this.savedRestPorts, gatewayPorts);
    try {
      this.rest = await startRest({...restOpts, port: (r) => ports[r]});
    } catch (err) {
      if (base !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      this.opts.log?.('a REST API port of the last run is taken; the REST API moves to new ports', {err: (err as Error).message});
      ports = await this.choosePorts({}, gatewayPorts);
      this.rest = await startRest({...restOpts, port: (r) => ports[r]});
    }
  }

  /** The ports of the last run, and new ones for regions without: drawn like the provisioner's,
   *  below the kernel's ephemeral range, so no outgoing connection's source port takes one of
   *  them while the server is down. */
  private async choosePorts(saved: Record<string, number>, inUse: Set<number> = new Set()): Promise<Record<string, number>> {
    const ports: Record<string, number> = {};
    const taken = new Set([...inUse, ...Object.values(saved)]);
    for (const region of this.regions) {
      ports[region] = saved[region] ?? (await findFreePort(taken));
      taken.add(ports[region]);
    }
    return ports;
  }

  /** Ports the gateway holds or will hold again: a database process must never take one. */
  gatewayPorts(): number[] {
    return [...Object.values(this.endpoints()), ...Object.values(this.restEndpoints())].map((ep) => ep.port);
  }

  /** The regional cache, null when it is not open (routes/cache.ts serves it). */
  get cacheService(): CacheService | null {
    return this.cache;
  }

  /** The gateway's endpoints while it listens; empty before and after. */
  liveEndpoints(): Record<string, {host: string; port: number; tls: boolean}> {
    return this.publicEndpoints(true);
  }

  /** The REST API of an organization's cache (database 0): URL per region and the two tokens
   *  derived from its password; undefined while the REST API is not running. `at`: the URLs of
   *  a multi-host deployment's region hosts instead (undefined when there are none). */
  cacheRest(cachePassword: string, at?: Record<string, string>): {urls: Record<string, string>; token: string; readOnlyToken: string} | undefined {
    if (at === undefined && !this.rest) return undefined;
    if (at !== undefined && Object.keys(at).length === 0) return undefined;
    const urls = at ?? Object.fromEntries(this.regions.map((r) => [r, this.restUrl(r)]));
    return {urls, ...cacheRestTokens(this.opts.internalSecret, cachePassword)};
  }

  async stats(rec: DatabaseRecord): Promise<DatabaseStats> {
    const tenant = this.directory.byId(rec.id);
    if (!this.gw || !tenant) throw new ApiError(503, 'redis_unavailable', `database ${rec.name} is not serving yet`);
    // Worker mode: the counts of every reply a client has had are in the sum before it is read.
    await this.gw.flushUsage?.();
    let usage = this.gw.usage(rec.id);
    if (usage.connections === 0 || usage.dataSizeBytes === null) {
      // Without clients the gateway does not sample the database: sample it now (this also
      // seeds the day's counters of a database not seen since a restart).
      try {
        await this.gw.probe(tenant);
      } catch (err) {
        throw new ApiError(503, 'redis_unavailable', `could not read the database's statistics: ${(err as Error).message}`);
      }
      usage = this.gw.usage(rec.id);
    }
    const plan = this.opts.catalogue.plan(rec.plan);
    const replicationLagMs: Record<string, number | null> = {};
    for (const region of rec.readRegions) replicationLagMs[region] = usage.replicationLagMs[region] ?? null;
    return {
      id: rec.id,
      connections: {used: usage.connections, limit: plan?.maxConnections ?? null},
      commandsToday: {used: usage.commandsToday, limit: plan?.maxDailyCommands ?? null},
      bandwidthTodayBytes: {used: usage.bandwidthTodayBytes, limit: plan?.maxDailyBandwidthBytes ?? null},
      dataSizeBytes: {used: usage.dataSizeBytes ?? 0, limit: plan?.maxDataSizeBytes ?? null},
      replicationLagMs,
    };
  }

  /** Stops taking clients, then the cache; the managed databases' processes are the caller's. */
  async close(): Promise<void> {
    if (this.usageTimer) clearInterval(this.usageTimer);
    this.usageTimer = null;
    this.saveUsage();
    const rest = this.rest;
    this.rest = null;
    await rest?.close();
    const gw = this.gw;
    this.gw = null;
    await gw?.close();
    rmSync(this.paths.gatewayWorkersJson, {force: true});
    const cache = this.cache;
    this.cache = null;
    await cache?.close();
  }

  private saveUsage(): void {
    const gw = this.gw;
    if (!gw) return;
    const tenants: Record<string, UsageSeed> = {};
    for (const id of this.directory.ids()) {
      const u = gw.usage(id);
      const earlier = this.seeds[id];
      // a tenant the gateway has not seen since the restart keeps its saved counters
      if (u.commandsToday === 0 && u.bandwidthTodayBytes === 0 && earlier) tenants[id] = earlier;
      else tenants[id] = {day: u.day, commandsToday: u.commandsToday, bandwidthTodayBytes: u.bandwidthTodayBytes};
    }
    this.saveJson(this.paths.usageJson, {tenants}, 'the usage counters');
  }

}

function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined; // unreadable: start as on a first run
  }
}

// Written to a temp file then renamed, so a crash mid-write never leaves half a file.
function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}
