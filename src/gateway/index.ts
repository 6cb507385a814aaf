// startGateway: one RESP listener per region in the host's process.
import * as net from 'node:net';
import {createStreamServer, listen} from '../net/listener';
import {batchedIoUnavailable} from '../net/batched-io';
import {Admission, admissionFromEnv, type Ticket} from './admission';
import {CommandTable} from './commands';
import {latencyFromDistance} from './latency';
import {Session, SessionHost} from './session';
import {fetchCommandTable} from '../redis/command-table';
import {parseInfo} from '../redis/info';
import {execute, subscribe} from './execute';
import {adminConnect, TenantState} from './tenant';
import {ClientSettings, Endpoint, GatewayHandle, GatewayOptions, LatencyFn, Tenant, Usage} from './types';
import {ReplySink, Upstream} from './upstream';
import {UsageSync} from './usage-sync';

export * from './types';
export type {UsageExchange, UsageReport, UsageTotal} from './usage-sync';
export type {CommandInfo} from './commands';

/** Ready primary connections kept per client region, backend and protocol for commands that
 *  need a connection of their own (MULTI, WATCH, blocking reads, scripts, Pub/Sub): at least
 *  SPARES_MIN; twice as many (up to SPARES_MAX) each time a client found none ready, and one
 *  fewer for each second in which none was taken. */
const SPARES_MIN = 2;
const SPARES_MAX = 32;

interface Spares {
  ts: TenantState;
  ep: Endpoint;
  list: Upstream[];
  target: number;
  taken: boolean; // since the last tick
}

class Core implements SessionHost {
  table: CommandTable | null = null;
  serverVersion = '7.0.15';
  private tableLoading: Promise<void> | null = null;
  readonly tenants = new Map<string, TenantState>();
  private readonly sharedUps = new Map<string, Upstream>();
  private readonly pinnedUps = new Set<Upstream>();
  private readonly spares = new Map<string, Spares>();
  readonly sessions = new Set<Session>();
  private clientIds: number;
  private readonly clientIdStride: number;
  private readonly user: string;
  private readonly tenantUser: string;
  private readonly latency: LatencyFn | null;
  readonly log: (m: string) => void;
  readonly admission: Admission;

  constructor(readonly opts: GatewayOptions) {
    this.user = opts.internalUser ?? 'redfly';
    this.tenantUser = opts.tenantUser ?? this.user;
    this.log = opts.log ?? (() => {});
    this.clientIdStride = opts.clientIds?.stride ?? 1;
    this.clientIds = (opts.clientIds?.start ?? 1) - this.clientIdStride;
    this.admission = new Admission({...admissionFromEnv(), ...opts.admission}, this.log);
    this.latency =
      typeof opts.simulateLatency === 'function' ? opts.simulateLatency : opts.simulateLatency ? latencyFromDistance : null;
  }

  loadTable(ep: Endpoint): Promise<void> {
    if (this.table !== null) return Promise.resolve();
    if (this.tableLoading === null) {
      this.tableLoading = (async () => {
        const a = await adminConnect(ep, this.user, this.opts.internalSecret);
        try {
          const entries = await fetchCommandTable(a);
          const info = parseInfo(await a.text('INFO', 'server'));
          if (info.redis_version) this.serverVersion = info.redis_version;
          this.table = new CommandTable(entries.values());
        } finally {
          a.close();
        }
      })();
      this.tableLoading.catch((e: Error) => {
        this.log(`gateway: cannot read the command table from ${ep.host}:${ep.port}: ${e.message}`);
        this.tableLoading = null;
      });
    }
    return this.tableLoading;
  }

  lookupPassword(password: string): Tenant | undefined {
    return this.opts.directory.byPassword(password);
  }

  lookupUser(user: string, passwordSha256: string): Tenant | undefined {
    const d = this.opts.directory;
    return d.byUser === undefined ? undefined : d.byUser(user, passwordSha256);
  }

  get reservedUsers(): ReadonlySet<string> {
    return new Set([this.user, this.tenantUser]);
  }

  get saveClientSettings(): ((tenantId: string, changed: ClientSettings) => void | Promise<void>) | undefined {
    return this.opts.saveClientSettings;
  }

  tenantState(t: Tenant): TenantState {
    let ts = this.tenants.get(t.id);
    if (ts === undefined) {
      ts = new TenantState(t, this.user, this.opts.internalSecret, this.opts.monitorIntervalMs ?? 100);
      ts.seed(this.opts.usageSeed?.(t.id));
      this.tenants.set(t.id, ts);
    } else {
      ts.update(t);
    }
    return ts;
  }

  private delay(region: string, epRegion: string): number {
    return this.latency === null || region === epRegion ? 0 : this.latency(region, epRegion);
  }

  private makeUpstream(ep: Endpoint, proto: 2 | 3, ts: TenantState, delayMs: number, owner: ReplySink | null,
                       onClose: (u: Upstream) => void, spare = false, user = '', pass: string | null = null): Upstream {
    return new Upstream({
      endpoint: ep,
      // A database's own user runs as itself, so Redis enforces its rules (src/gateway/acl.ts).
      user: pass === null ? this.tenantUser : user,
      secret: pass ?? this.opts.internalSecret,
      proto,
      delayMs,
      pinnedTo: owner,
      spare,
      oomText: () => ts.quotaText(),
      onClose,
      log: this.log,
    });
  }

  /** Is `ep` where this tenant's pinned connections go (its primary, or a cache's backend)? */
  private pinsTo(ts: TenantState, ep: Endpoint): boolean {
    const t = ts.tenant;
    return t.kind === 'cache' || (t.primary.host === ep.host && t.primary.port === ep.port);
  }

  /** Keeps SPARE_CONNECTIONS ready (connected, authenticated) connections to a primary. */
  private fillSpares(key: string, region: string, ep: Endpoint, proto: 2 | 3, ts: TenantState, epRegion: string): void {
    if (this.closing) return;
    let entry = this.spares.get(key);
    if (entry === undefined) {
      entry = {ts, ep, list: [], target: SPARES_MIN, taken: false};
      this.spares.set(key, entry);
    }
    const list = entry.list;
    while (list.length < entry.target) {
      const up = this.makeUpstream(ep, proto, ts, this.delay(region, epRegion), null, (u) => {
        const i = list.indexOf(u);
        if (i >= 0) list.splice(i, 1);
        this.pinnedUps.delete(u);
      }, true);
      list.push(up);
      this.pinnedUps.add(up);
    }
  }

  private closeSpares(key: string): void {
    const entry = this.spares.get(key);
    if (entry === undefined) return;
    this.spares.delete(key);
    for (const u of [...entry.list]) u.close();
  }

  shared(region: string, ep: Endpoint, proto: 2 | 3, ts: TenantState, epRegion: string, user: string,
         pass: string | null): Upstream {
    // One per client region so that a simulated delay is that region's own, and one per
    // database user (with the password of the client that first needed it).
    const key = pass === null ? `${region}|${ep.host}:${ep.port}|${proto}` : `${region}|${ep.host}:${ep.port}|${proto}|${user}`;
    let up = this.sharedUps.get(key);
    if (up === undefined || up.closed) {
      up = this.makeUpstream(ep, proto, ts, this.delay(region, epRegion), null, (u) => {
        if (this.sharedUps.get(key) === u) this.sharedUps.delete(key);
        // A replica that drops us: its region reads from the primary until the monitor sees
        // it healthy again.
        const t = ts.tenant;
        if (t.kind === 'managed' && epRegion !== t.primaryRegion && !this.closing && pass === null) ts.replicaFailed(epRegion);
      }, false, user, pass);
      this.sharedUps.set(key, up);
    }
    // Called as a client starts using this primary (its routes are computed): it may need a
    // pinned connection, so have some ready before it does (the tenant user's: a database
    // user's pinned connections are its own, made when needed).
    if (pass === null && this.pinsTo(ts, ep)) this.fillSpares(key, region, ep, proto, ts, epRegion);
    return up;
  }

  /** A private primary connection for `owner`: a ready spare when there is one, so the command
   *  that needs it reaches Redis as soon as a shared one would (and before a command another
   *  client sends after it); a new connection otherwise. */
  pinned(region: string, ep: Endpoint, proto: 2 | 3, ts: TenantState, epRegion: string, owner: ReplySink,
         user: string, pass: string | null): Upstream {
    if (pass !== null) {
      // A database user's own connection (the spares are the tenant user's).
      const own = this.makeUpstream(ep, proto, ts, this.delay(region, epRegion), owner, (u) => this.pinnedUps.delete(u),
        false, user, pass);
      this.pinnedUps.add(own);
      return own;
    }
    const key = `${region}|${ep.host}:${ep.port}|${proto}`;
    const entry = this.spares.get(key);
    let up: Upstream | undefined;
    if (entry !== undefined) {
      const list = entry.list;
      entry.taken = true;
      let i = list.findIndex((u) => u.ready && !u.closed);
      if (i < 0) {
        entry.target = Math.min(SPARES_MAX, entry.target * 2);
        i = list.findIndex((u) => !u.closed);
      }
      if (i >= 0) up = list.splice(i, 1)[0];
    }
    if (up !== undefined) {
      up.adopt(owner);
    } else {
      up = this.makeUpstream(ep, proto, ts, this.delay(region, epRegion), owner, (u) => this.pinnedUps.delete(u));
      this.pinnedUps.add(up);
    }
    this.fillSpares(key, region, ep, proto, ts, epRegion);
    return up;
  }

  barrier(pinned: Upstream): void {
    const ep = pinned.endpoint;
    for (const up of this.sharedUps.values()) {
      if (up.endpoint.port === ep.port && up.endpoint.host === ep.host) up.barrier();
    }
  }

  sessionClosed(s: Session): void {
    this.sessions.delete(s);
  }

  nextClientId(): number {
    return (this.clientIds += this.clientIdStride);
  }

  /** Once a second: day rollover, tenant records, idle shared connections. */
  tick(): void {
    this.admission.sweep();
    for (const [key, e] of this.spares) {
      // Spares only for tenants with clients, and only for the primary they have now.
      if (e.ts.clients.size === 0 || !this.tenants.has(e.ts.tenant.id) || !this.pinsTo(e.ts, e.ep)) {
        this.closeSpares(key);
      } else if (!e.taken && e.target > SPARES_MIN) {
        e.target--;
        const idle = e.list.find((u) => u.ready);
        if (e.list.length > e.target && idle !== undefined) idle.close();
      }
      e.taken = false;
    }
    const byId = this.opts.directory.byId;
    for (const [id, ts] of this.tenants) {
      ts.tick();
      if (byId === undefined) continue;
      const t = byId.call(this.opts.directory, id);
      if (t === undefined) {
        // Deleted: its clients go, and so does its state once they have.
        for (const c of [...ts.clients]) c.kick('database deleted');
        if (ts.clients.size === 0) {
          ts.shutdown();
          this.tenants.delete(id);
        }
      } else if (ts.clients.size > 0) ts.update(t);
    }
  }

  disconnect(tenantId: string): void {
    const ts = this.tenants.get(tenantId);
    if (ts !== undefined) for (const c of [...ts.clients]) c.kick('disconnected by the platform');
  }

  private closing = false;

  closeAll(): void {
    this.closing = true;
    for (const s of [...this.sessions]) s.close();
    for (const u of [...this.sharedUps.values()]) u.close();
    for (const key of [...this.spares.keys()]) this.closeSpares(key);
    for (const u of [...this.pinnedUps]) u.close();
    for (const ts of this.tenants.values()) ts.shutdown();
  }
}

export async function startGateway(opts: GatewayOptions): Promise<GatewayHandle> {
  const host = opts.host ?? '127.0.0.1';
  const core = new Core(opts);
  const servers: net.Server[] = [];
  const endpoints: Record<string, Endpoint> = {};
  try {
    for (const region of opts.regions) {
      const tickets = new WeakMap<net.Socket, Ticket>();
      // Admission control sees every TCP connection before any TLS handshake (admission.ts).
      const server = createStreamServer(opts.tls ?? null, {
        accept(raw) {
          const t = core.admission.accept(raw, () => raw.destroy());
          if (typeof t === 'string') {
            // Redis's way: one error line, then the connection is closed; its descriptor is given
            // back at once, whether or not the client reads.
            raw.end(`-${t}\r\n`, () => raw.destroy());
            setTimeout(() => raw.destroy(), 100).unref();
            return false;
          }
          tickets.set(raw, t);
          raw.once('close', () => core.admission.closed(t));
          return true;
        },
        ready(sock, raw) {
          const session = new Session(core, region, sock);
          session.ticket = tickets.get(raw) ?? null;
          core.sessions.add(session);
        },
      }, {allowHalfOpen: true, borrowedReads: true});
      servers.push(server);
      const port = await listen(server, opts.port?.(region) ?? 0, host);
      endpoints[region] = {host, port};
    }
  } catch (e) {
    for (const s of servers) s.close();
    throw e;
  }
  // How the plain listeners read: an operator sees why a gateway runs without the native batch
  // (not built, a binary of other sources, REDFLY_BATCHED_IO=0), which costs it speed.
  const batchOff = batchedIoUnavailable();
  core.log(batchOff === ''
    ? 'gateway: plain connections are read by the native batch (dist/native/batched-io.node)'
    : `gateway: plain connections are read by Node (native batch off: ${batchOff})`);
  const timer = setInterval(() => core.tick(), 1000);
  timer.unref();
  const sync = opts.usageSync ? new UsageSync(core.tenants, opts.usageSync, core.log) : null;
  sync?.start();
  return {
    endpoints,
    usage(tenantId: string): Usage {
      const ts = core.tenants.get(tenantId);
      if (ts === undefined) {
        return {day: new Date().toISOString().slice(0, 10), connections: 0, commandsToday: 0, bandwidthTodayBytes: 0,
          dataSizeBytes: null, replicationLagMs: {}};
      }
      return ts.usage();
    },
    async probe(t: Tenant) {
      const ts = core.tenantState(t);
      await ts.sample();
      const u = ts.usage();
      if (ts.clients.size === 0) ts.stopMonitor();
      return {dataSizeBytes: u.dataSizeBytes, replicationLagMs: u.replicationLagMs};
    },
    execute(req) {
      return execute(core, req);
    },
    subscribe(req) {
      return subscribe(core, req);
    },
    disconnect(tenantId: string) {
      core.disconnect(tenantId);
    },
    ...(sync === null ? {} : {flushUsage: () => sync.flush()}),
    async close() {
      clearInterval(timer);
      sync?.stop();
      core.closeAll();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
