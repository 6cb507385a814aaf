// Per-tenant state shared by all its client connections in every region: usage counters, the
// commands-per-second bucket, and what the monitor last learnt from its redis-servers
// (replication progress for read routing, memory for the data-size quota).
import {RedisConnection, Reply} from '../redis/client';
import {parseInfo} from '../redis/info';
import {Endpoint, Limits, Tenant, Usage, UsageSeed} from './types';

const DAY_MS = 86_400_000;
const DEFAULT_REQUEST_LIMIT = 10 * 1024 * 1024;

const dayString = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

export interface ClosableClient {
  kick(reason: string): void;
}

interface Sample {
  epoch: number;
  offset: number;
  at: number;
}

/** The gateway's own connection to a redis-server (monitor samples, the command table). It fails
 *  fast: a sample that cannot be taken counts as a failed sample, and the next one reconnects. */
export function adminConnect(ep: Endpoint, user: string, secret: string): Promise<RedisConnection> {
  return RedisConnection.connect(ep.port, {
    host: ep.host,
    tls: ep.tls,
    connectTimeoutMs: 1000,
    callTimeoutMs: 1000,
    auth: {user, password: secret},
    name: 'redfly-monitor',
  });
}

export class TenantState {
  tenant: Tenant;
  /** Bumped when the tenant record changes, so sessions recompute cached routes. */
  version = 0;
  readonly clients = new Set<ClosableClient>();

  private day = Math.floor(Date.now() / DAY_MS);
  commandsToday = 0;
  bandwidthToday = 0;

  private tokens: number;
  private refilledAt = Date.now();

  /** Worker mode (usage-sync.ts): this tenant's connections in the other gateway processes, as
   *  of the last exchange with the control process (0 in a single gateway). */
  otherConnections = 0;
  /** Worker mode: the part of the plan's commands/s this process may use (its share of the
   *  tenant's connections; 1 in a single gateway). Set with setRateShare. */
  rateShare = 1;

  // Monitor output.
  epoch = 0;
  private readonly safeEpoch = new Map<string, number>();
  private readonly replicaUp = new Map<string, boolean>();
  private readonly lag = new Map<string, number | null>();
  usedMemory: number | null = null;
  overCapacity = false;
  private samples: Sample[] = [];
  private monitorTimer: NodeJS.Timeout | null = null;
  private monitorRunning = false;
  private admins = new Map<string, Promise<RedisConnection>>();
  // Bumped when stopMonitor() closes the connections: a sample still in flight on them (a probe
  // can stop the monitor while its loop samples) fails because of us, not because of the replica.
  private closedAdmins = 0;
  private appliedPolicy: string | null = null;
  private appliedMaxmemory: number | null = null;

  constructor(
    tenant: Tenant,
    private readonly user: string,
    private readonly secret: string,
    private readonly intervalMs: number,
  ) {
    this.tenant = tenant;
    this.tokens = this.limits?.maxCommandsPerSecond ?? 0;
  }

  seed(s: UsageSeed | undefined): void {
    if (s === undefined || s.day !== dayString(this.day)) return;
    this.commandsToday = Math.max(this.commandsToday, s.commandsToday);
    this.bandwidthToday = Math.max(this.bandwidthToday, s.bandwidthTodayBytes);
  }

  get limits(): Limits | undefined {
    return this.tenant.plan;
  }

  get maxRequestBytes(): number {
    return this.limits?.maxRequestSizeBytes ?? DEFAULT_REQUEST_LIMIT;
  }

  update(t: Tenant): void {
    if (JSON.stringify(t, (k, v) => (k === 'virtualDb' ? undefined : v)) !==
        JSON.stringify(this.tenant, (k, v) => (k === 'virtualDb' ? undefined : v))) {
      this.version++;
    }
    this.tenant = t;
  }

  /** Worker mode: this process may use `share` (0..1] of the plan's commands/s from now on; a
   *  burst it has saved up is cut to the new size of its bucket. */
  setRateShare(share: number): void {
    this.rateShare = share;
    const l = this.limits;
    if (l !== undefined && l.maxCommandsPerSecond > 0) this.tokens = Math.min(this.tokens, l.maxCommandsPerSecond * share);
  }

  /** The tenant's connections through every gateway process (for the plan's connection limit). */
  get connectionCount(): number {
    return this.clients.size + this.otherConnections;
  }

  /** The UTC day the daily counters belong to, "YYYY-MM-DD". */
  get dayText(): string {
    this.rollDay();
    return dayString(this.day);
  }

  private rollDay(): void {
    const d = Math.floor(Date.now() / DAY_MS);
    if (d !== this.day) {
      this.day = d;
      this.commandsToday = 0;
      this.bandwidthToday = 0;
    }
  }

  /** Called once a second by the gateway (cheap enough to keep the hot path free of clocks). */
  tick(): void {
    this.rollDay();
  }

  /** The error a command gets from the daily limits, or null. */
  dailyLimitError(): string | null {
    const l = this.limits;
    if (l === undefined) return null;
    if (l.maxDailyCommands !== null && this.commandsToday >= l.maxDailyCommands) {
      return `ERR max daily request limit exceeded. Limit: ${l.maxDailyCommands}, Usage: ${this.commandsToday}.`;
    }
    if (this.bandwidthToday >= l.maxDailyBandwidthBytes) {
      return `ERR max daily bandwidth limit exceeded. Limit: ${l.maxDailyBandwidthBytes} bytes, Usage: ${this.bandwidthToday} bytes.`;
    }
    return null;
  }

  quotaText(): string {
    const l = this.limits;
    const threshold = l?.maxDataSizeBytes ?? 0;
    const usage = Math.max(this.usedMemory ?? threshold, threshold);
    return `ERR DB capacity quota exceeded. Threshold: ${threshold} bytes, Usage: ${usage} bytes.`;
  }

  /**
   * 0 when a command may run now, else the ms after which it may (commands over the rate are
   * delayed). A delayed command has its token reserved: the bucket goes below zero, so callers
   * are served in the order they asked (FIFO) and the caller must not ask again after the wait.
   * Without reservations every waiter woke at the same moment and raced for one token, and some
   * waited many times the fair share (p99 5 s at 500 connections on the 500 MB plan).
   */
  takeToken(): number {
    const l = this.limits;
    if (l === undefined || l.maxCommandsPerSecond <= 0) return 0;
    if (this.tokens >= 1) {
      this.tokens--;
      return 0;
    }
    const now = Date.now();
    // Worker mode: the rate is split between the processes by their share of the connections.
    const rate = l.maxCommandsPerSecond * this.rateShare;
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
    this.tokens--;
    if (this.tokens >= 0) return 0;
    return Math.max(1, Math.ceil((-this.tokens * 1000) / rate));
  }

  /** Near the data-size limit with eviction on: writes are checked one by one (see Session). */
  get evictionGuard(): boolean {
    const t = this.tenant;
    return t.kind === 'managed' && t.eviction && this.usedMemory !== null && this.usedMemory >= t.plan.maxDataSizeBytes * 0.8;
  }

  /** Redis found no key with a TTL left to evict: fall back to any key at once. */
  async evictAnyKey(): Promise<void> {
    const t = this.tenant;
    if (t.kind !== 'managed') return;
    await this.adminCall(t.primary, 'CONFIG', 'SET', 'maxmemory-policy', 'allkeys-random');
    this.appliedPolicy = 'allkeys-random';
  }

  /** May a read on a connection whose last write is `needEpoch` go to the region's replica? */
  replicaUsable(region: string, needEpoch: number): boolean {
    if (this.replicaUp.get(region) !== true) return false;
    return (this.safeEpoch.get(region) ?? 0) >= needEpoch;
  }

  replicaFailed(region: string): void {
    this.replicaUp.set(region, false);
    this.lag.set(region, null);
  }

  usage(): Usage {
    this.rollDay();
    const lag: Record<string, number | null> = {};
    if (this.tenant.kind === 'managed') {
      for (const r of Object.keys(this.tenant.replicas)) {
        if (r !== this.tenant.primaryRegion) lag[r] = this.lag.get(r) ?? null;
      }
    }
    return {
      day: dayString(this.day),
      connections: this.clients.size,
      commandsToday: this.commandsToday,
      bandwidthTodayBytes: this.bandwidthToday,
      dataSizeBytes: this.usedMemory,
      replicationLagMs: lag,
    };
  }

  private keepUntil = 0;

  /** Clients that last one request (the REST API, src/gateway/execute.ts) keep the monitor
   *  sampling for `ms` after their last request, as a connected client does while it stays:
   *  replicas become readable, and the quota and eviction policy are watched. */
  keepMonitoring(ms: number): void {
    this.keepUntil = Math.max(this.keepUntil, Date.now() + ms);
    this.startMonitor();
  }

  private get watched(): boolean {
    return this.clients.size > 0 || Date.now() < this.keepUntil;
  }

  /** Samples the database every `intervalMs` (100) while it has clients. Besides what it learns,
   *  this wakes each redis-server's event loop as often as Redis's default hz would: Redis times
   *  blocked clients out when its loop wakes, so at REDFLY_REDIS_HZ=1 `BLPOP k 0.1` still answers
   *  after about 0.1 s, not 1 s (test/integration/gateway/block-timeout.test.ts). */
  startMonitor(): void {
    if (this.monitorTimer !== null || this.monitorRunning || this.tenant.kind !== 'managed') return;
    const loop = async () => {
      this.monitorTimer = null;
      if (!this.watched) {
        this.stopMonitor();
        return;
      }
      this.monitorRunning = true;
      try {
        await this.sample();
      } finally {
        this.monitorRunning = false;
      }
      if (this.watched && !this.stopped) this.monitorTimer = setTimeout(loop, this.intervalMs);
      else this.stopMonitor();
    };
    this.stopped = false;
    this.monitorTimer = setTimeout(loop, 0);
  }

  private stopped = false;

  stopMonitor(): void {
    this.stopped = true;
    if (this.monitorTimer !== null) clearTimeout(this.monitorTimer);
    this.monitorTimer = null;
    this.closedAdmins++;
    for (const a of this.admins.values()) a.then((c) => c.close(), () => undefined);
    this.admins.clear();
  }

  private dead = false;

  /** Gateway shutdown: stop and never reconnect. */
  shutdown(): void {
    this.dead = true;
    this.stopMonitor();
  }

  /** A command on the kept connection to `ep` as the internal user, decoded (a Redis error
   *  rejects with ReplyError). For what the gateway does on a tenant's behalf (ACL users). */
  async adminReply(ep: Endpoint, ...args: string[]): Promise<Reply> {
    return (await this.admin(ep)).call(...args);
  }

  /** A command on the kept connection to `ep`, (re)connecting when there is none. */
  private async adminCall(ep: Endpoint, ...args: string[]): Promise<string> {
    return (await this.admin(ep)).text(...args);
  }

  private admin(ep: Endpoint): Promise<RedisConnection> {
    if (this.dead) throw new Error('gateway closed');
    const key = `${ep.host}:${ep.port}`;
    let a = this.admins.get(key);
    if (a === undefined) {
      const conn = adminConnect(ep, this.user, this.secret);
      const forget = () => {
        if (this.admins.get(key) === conn) this.admins.delete(key);
      };
      conn.then((c) => c.onClose(forget), forget);
      this.admins.set(key, conn);
      a = conn;
    }
    return a;
  }

  /** One round of INFO on the primary then on every replica. */
  async sample(): Promise<void> {
    const t = this.tenant;
    if (t.kind !== 'managed') return;
    const epoch = ++this.epoch;
    const at = Date.now();
    let primary: Record<string, string>;
    try {
      primary = parseInfo(await this.adminCall(t.primary, 'INFO', 'replication', 'memory', 'keyspace'));
    } catch {
      return;
    }
    const offset = Number(primary.master_repl_offset ?? 0);
    this.usedMemory = Number(primary.used_memory ?? 0);
    const threshold = t.plan.maxDataSizeBytes;
    this.overCapacity = !t.eviction && this.usedMemory >= threshold;
    this.samples.push({epoch, offset, at});
    if (this.samples.length > 600) this.samples.splice(0, this.samples.length - 600);
    await Promise.all([this.applyPolicy(t.primary, t.eviction, threshold, primary), ...Object.entries(t.replicas)
      .filter(([r]) => r !== t.primaryRegion)
      .map(([r, ep]) => this.sampleReplica(r, ep))]);
  }

  private async sampleReplica(region: string, ep: Endpoint): Promise<void> {
    let info: Record<string, string>;
    const closedAdmins = this.closedAdmins;
    try {
      info = parseInfo(await this.adminCall(ep, 'INFO', 'replication'));
    } catch {
      if (closedAdmins === this.closedAdmins) this.replicaFailed(region);
      return;
    }
    if (info.master_link_status !== 'up') {
      this.replicaFailed(region);
      return;
    }
    const off = Number(info.slave_repl_offset ?? -1);
    let best = this.safeEpoch.get(region) ?? 0;
    let bestAt = -1;
    for (const s of this.samples) {
      if (s.offset <= off && s.epoch >= best) {
        best = s.epoch;
        bestAt = s.at;
      }
    }
    this.safeEpoch.set(region, best);
    this.replicaUp.set(region, true);
    const latest = this.samples[this.samples.length - 1];
    if (latest !== undefined && off >= latest.offset) this.lag.set(region, 0);
    else if (bestAt >= 0) this.lag.set(region, Date.now() - bestAt);
    else this.lag.set(region, latest ? Date.now() - (this.samples[0]?.at ?? latest.at) : null);
  }

  // Eviction on: Redis evicts keys with a TTL at random (volatile-random) and, when none is
  // left, any key at random (allkeys-random). Redis has no single policy for "TTL keys first",
  // so the monitor switches between the two as the keyspace changes.
  private async applyPolicy(ep: Endpoint, eviction: boolean, threshold: number, info: Record<string, string>): Promise<void> {
    const ks = /expires=(\d+)/.exec(info.db0 ?? '');
    const expires = ks ? Number(ks[1]) : 0;
    const policy = !eviction ? 'noeviction' : expires > 0 ? 'volatile-random' : 'allkeys-random';
    const maxmemory = Number(info.maxmemory ?? NaN);
    if (policy === this.appliedPolicy && maxmemory === threshold && info.maxmemory_policy === policy) return;
    if (info.maxmemory_policy === policy && maxmemory === threshold) {
      this.appliedPolicy = policy;
      this.appliedMaxmemory = threshold;
      return;
    }
    try {
      await this.adminCall(ep, 'CONFIG', 'SET', 'maxmemory', String(threshold), 'maxmemory-policy', policy);
      this.appliedPolicy = policy;
      this.appliedMaxmemory = threshold;
    } catch {
      // retried on the next sample
    }
  }
}
