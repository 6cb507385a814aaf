// The regional cache of every organization: per-region volatile backends (started on first use
// in a region), database 1's durable log, and one applier per (organization, region). This is
// the object the gateway and the control plane hold; everything else in src/cache is its parts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {EventEmitter} from 'node:events';
import {AppliedEvent, RegionApplier} from './applier';
import {Backend, BackendAddress, BackendPool} from './backend';
import {CommandTable} from './commands';
import type {CacheLog} from './log-api';
import {ReplayLog} from './log';
import {PostgresLog} from './log-postgres';
import {prepareDb1} from './policy';
import {encodeCommand, RedisConnection} from '../redis/client';
import {fetchCommandTable} from '../redis/command-table';
import {parseInfo} from '../redis/info';
import {CacheConfig, CacheRegionStatus, CacheStatus} from './types';

export type Db1Result =
  // RESP bytes for the client (same in RESP2 and RESP3); `seq` is the log position of a command
  // that will be replayed.
  | {reply: Buffer; select?: 0 | 1; seq?: number}
  | {connection: true}; // AUTH/HELLO/QUIT/RESET: answer as in database 0

const OK = Buffer.from('+OK\r\n');
const PONG = Buffer.from('+PONG\r\n');
const bulk = (b: Buffer) => Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]);
export const errorReply = (message: string): Buffer => Buffer.from(`-${message.replace(/[\r\n]+/g, ' ')}\r\n`);

const CATCH_UP_WAIT_MS = 5000;

export class CacheService {
  readonly config: Required<CacheConfig>;
  private readonly events = new EventEmitter();
  private readonly appliers = new Map<string, RegionApplier>();
  private table: CommandTable | null = null;
  private tableLoading: Promise<CommandTable> | null = null;
  private trimTimer: NodeJS.Timeout | null = null;
  private housekeeping: Promise<void> | null = null;
  private closed = false;

  /** `log` holds database 1's entries; `local` is this host's own state (its backends, the key
   *  that signs their cursors), the same object when the log is SQLite. */
  private constructor(
    config: CacheConfig,
    private readonly log: CacheLog,
    private readonly local: ReplayLog,
    private readonly pool: BackendPool,
  ) {
    this.config = {
      redisServer: 'redis-server',
      maxmemoryBytes: 64 * 1024 * 1024,
      backlogMaxAgeMs: 60 * 60 * 1000,
      backlogMaxBytes: 256 * 1024 * 1024,
      maxCommandBytes: 10 * 1024 * 1024,
      durability: 'process',
      applyBatchEntries: 10_000,
      applyBatchBytes: 8 * 1024 * 1024,
      databaseUrl: '',
      clock: Date.now,
      ...config,
      applyRegions: config.applyRegions ?? config.regions,
    } as Required<CacheConfig>;
    this.events.setMaxListeners(0);
  }

  /** Opens the log (PostgreSQL when `databaseUrl` is set, else SQLite in `stateDir`), adopts
   *  the backends left running by an earlier run and resumes their appliers from the cursors
   *  recorded in the backends. Only the regions of `applyRegions` (default: all) run here. */
  static async open(config: CacheConfig): Promise<CacheService> {
    const unknown = (config.applyRegions ?? []).filter((r) => !config.regions.includes(r));
    if (unknown.length > 0) throw new Error(`applyRegions: unknown region(s) ${unknown.join(', ')}`);
    fs.mkdirSync(config.stateDir, {recursive: true});
    const local = new ReplayLog(path.join(config.stateDir, 'replay.sqlite'), config.durability);
    let log: CacheLog = local;
    if (config.databaseUrl) {
      try {
        log = await PostgresLog.open(config.databaseUrl);
      } catch (err) {
        await local.close();
        throw err;
      }
    }
    const pool = new BackendPool(
      {
        stateDir: config.stateDir,
        redisServer: config.redisServer ?? 'redis-server',
        maxmemoryBytes: config.maxmemoryBytes ?? 64 * 1024 * 1024,
        internalSecret: config.internalSecret,
      },
      local,
    );
    const service = new CacheService(config, log, local, pool);
    log.onAppend((org) => {
      for (const a of service.appliersOf(org)) a.notify();
    });
    for (const b of await pool.adopt()) {
      // A region the platform (or this host) no longer serves: its cache goes with it.
      if (service.config.applyRegions.includes(b.region)) service.startApplier(b);
      else await pool.stop(b);
    }
    service.trimTimer = setInterval(() => {
      service.housekeeping ??= service.upkeep().finally(() => (service.housekeeping = null));
    }, 1000);
    service.trimTimer.unref();
    return service;
  }

  private key = (org: string, region: string) => `${org}\u0000${region}`;

  private checkRegion(region: string): void {
    if (!this.config.regions.includes(region)) throw new Error(`unknown region '${region}'`);
    if (!this.config.applyRegions.includes(region)) throw new Error(`region '${region}' is served by another host`);
  }

  private startApplier(b: Backend): RegionApplier {
    const k = this.key(b.org, b.region);
    let a = this.appliers.get(k);
    if (!a) {
      a = new RegionApplier(
        b.org,
        b.region,
        b,
        this.log,
        this.local.secret('cursor-hmac'),
        {batchEntries: this.config.applyBatchEntries, batchBytes: this.config.applyBatchBytes},
        (e) => this.events.emit('applied', e),
      );
      this.appliers.set(k, a);
      a.start();
    }
    return a;
  }

  /** The cache of `org` in `region`, materialised on first use: its backend runs and has applied
   *  the retained database-1 backlog (or 5 s have passed). Returns how to reach database 0. */
  async backend(org: string, region: string): Promise<BackendAddress> {
    if (this.closed) throw new Error('the regional cache is stopped');
    this.checkRegion(region);
    const b = await this.pool.ensure(org, region);
    const a = this.startApplier(b);
    const target = this.log.state(org).lastSeq;
    if (a.cursor < target) {
      await Promise.race([a.waitFor(target), new Promise((r) => setTimeout(r, CATCH_UP_WAIT_MS).unref())]);
    }
    return b.address;
  }

  /** Starts the cache of `org` in every region (or the given ones) at once, e.g. when the
   *  organization is created, and returns database 0's address per region. */
  async ensureOrg(org: string, regions: string[] = this.config.applyRegions): Promise<Record<string, BackendAddress>> {
    const out: Record<string, BackendAddress> = {};
    await Promise.all(regions.map(async (r) => (out[r] = await this.backend(org, r))));
    return out;
  }

  /** Database 0's address in every region where the cache of `org` runs now. */
  endpoints(org: string): Record<string, BackendAddress> {
    const out: Record<string, BackendAddress> = {};
    for (const b of this.pool.all()) if (b.org === org && b.pid !== null) out[b.region] = b.address;
    return out;
  }

  /** The process behind a region (operators, tests that stop it). */
  processOf(org: string, region: string): {pid: number | null; port: number} | null {
    const b = this.pool.get(org, region);
    return b ? {pid: b.pid, port: b.port} : null;
  }

  private async commandTable(org: string, region: string): Promise<CommandTable> {
    if (this.table) return this.table;
    this.tableLoading ??= (async () => {
      const b = this.pool.all().find((x) => x.running) ?? (await this.pool.ensure(org, region));
      const conn = await b.connect();
      try {
        return new CommandTable(await fetchCommandTable(conn));
      } finally {
        conn.close();
      }
    })().then(
      (t) => (this.table = t),
      (err) => {
        this.tableLoading = null;
        throw err;
      },
    );
    return this.tableLoading;
  }

  /**
   * One command sent to database 1 by a client of `org` connected in `region`. Validates it,
   * makes it deterministic, logs it durably, and only then answers +OK; the appliers replay it
   * in every region of the organization. The answer is RESP bytes for the client.
   */
  async accept(org: string, region: string, args: Buffer[]): Promise<Db1Result> {
    if (this.closed) return {reply: errorReply('ERR the regional cache is stopped')};
    const table = await this.commandTable(org, region);
    const now = this.config.clock();
    const p = prepareDb1(args, {
      table,
      now,
      maxCommandBytes: Math.min(this.config.maxCommandBytes, this.config.backlogMaxBytes),
    });
    switch (p.kind) {
      case 'error':
        return {reply: errorReply(p.message)};
      case 'connection':
        return {connection: true};
      case 'select':
        return {reply: OK, select: p.db};
      case 'pong':
        return {reply: p.message ? bulk(p.message) : PONG};
      case 'echo':
        return {reply: bulk(p.message)};
      case 'ack':
        return {reply: OK};
      case 'replay': {
        let seq: number;
        try {
          // An XADD's '*' becomes an ID in the log's append transaction (stream-ids.ts). Database 1
          // answers +OK to every write, XADD included (as Fly's did), so no ID is promised here.
          const payload = p.xaddIdIndex === undefined ? encodeCommand(p.args) : {args: p.args, idIndex: p.xaddIdIndex};
          seq = await this.log.append(org, now, region, p.name, payload);
        } catch (err) {
          return {reply: errorReply(`ERR the database-1 log is unavailable: ${(err as Error).message}`)};
        }
        this.events.emit('appended', org, seq);
        if (this.log.state(org).bytes > this.config.backlogMaxBytes) void this.trim(org);
        return {reply: OK, seq};
      }
    }
  }

  private appliersOf(org: string): RegionApplier[] {
    return [...this.appliers.values()].filter((a) => a.org === org);
  }

  /** Called for every batch applied in a region (benchmarks, tests, metrics). */
  onApplied(listener: (e: AppliedEvent) => void): () => void {
    this.events.on('applied', listener);
    return () => this.events.off('applied', listener);
  }

  /** The last sequence number accepted for `org`. */
  lastSeq(org: string): number {
    return this.log.state(org).lastSeq;
  }

  /** Resolves when every started region of `org` has applied everything up to `seq`. */
  async waitApplied(org: string, seq = this.lastSeq(org)): Promise<void> {
    await Promise.all(this.appliersOf(org).map((a) => a.waitFor(seq)));
  }

  /** Regions whose cache has been started for `org`. */
  startedRegions(org: string): string[] {
    return this.appliersOf(org).map((a) => a.region);
  }

  private async trim(org: string): Promise<void> {
    await this.log.trim(org, Date.now(), this.config.backlogMaxAgeMs, this.config.backlogMaxBytes).catch(() => 0);
  }

  private async upkeep(): Promise<void> {
    for (const org of this.log.knownOrgs()) await this.trim(org);
    await this.log.housekeeping(Date.now()).catch(() => undefined);
    for (const a of this.appliers.values()) await a.flushCounters();
  }

  async status(org: string): Promise<CacheStatus> {
    const s = this.log.state(org);
    const regions = await Promise.all(this.config.regions.map((r) => this.regionStatus(org, r)));
    return {
      org,
      lastSeq: s.lastSeq,
      backlog: {
        entries: s.entries,
        bytes: s.bytes,
        maxBytes: this.config.backlogMaxBytes,
        maxAgeMs: this.config.backlogMaxAgeMs,
        trimmed: s.trimmed,
      },
      regions,
    };
  }

  private async regionStatus(org: string, region: string): Promise<CacheRegionStatus> {
    const a = this.appliers.get(this.key(org, region));
    const b = this.pool.get(org, region);
    const lastSeq = this.log.state(org).lastSeq;
    const base: CacheRegionStatus = {
      region,
      state: 'idle',
      keys: null,
      memoryBytes: null,
      maxmemoryBytes: this.config.maxmemoryBytes,
      appliedSeq: 0,
      lagEntries: 0,
      lagMs: 0,
      dropped: 0,
      replayErrors: 0,
      lastReplayError: null,
    };
    if (!a || !b) return base;
    const oldestPending = a.cursor < lastSeq ? await this.log.acceptedAfter(org, a.cursor).catch(() => null) : null;
    const figures = await Promise.race([
      backendFigures(b).catch(() => null),
      new Promise<null>((r) => setTimeout(() => r(null), 500).unref()),
    ]);
    return {
      ...base,
      state: a.state,
      keys: figures?.keys ?? null,
      memoryBytes: figures?.memory ?? null,
      appliedSeq: a.cursor,
      lagEntries: lastSeq - a.cursor,
      lagMs: oldestPending === null ? 0 : Math.max(0, Date.now() - oldestPending),
      dropped: a.counters.dropped,
      replayErrors: a.counters.replayErrors,
      lastReplayError: a.counters.lastError,
    };
  }

  /** The organization was deleted: stop its backends and forget its log. */
  async dropOrg(org: string): Promise<void> {
    for (const a of this.appliersOf(org)) {
      await a.stop();
      this.appliers.delete(this.key(a.org, a.region));
    }
    for (const b of this.pool.all().filter((x) => x.org === org)) await this.pool.stop(b);
    await this.log.dropOrg(org);
  }

  /**
   * Stops the appliers and closes the log. `stopBackends` (default true, what `server stop`
   * wants) also stops every backend; false leaves them running for the next open() to adopt,
   * with their data and cursors.
   */
  async close(opts: {stopBackends?: boolean} = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.trimTimer) clearInterval(this.trimTimer);
    await Promise.all([...this.appliers.values()].map((a) => a.stop()));
    this.appliers.clear();
    await this.housekeeping;
    await this.pool.close(opts.stopBackends ?? true);
    await this.log.close();
    if (this.log !== this.local) await this.local.close();
  }
}

async function backendFigures(b: Backend): Promise<{keys: number; memory: number}> {
  // A stopped (SIGSTOP) backend never answers: the caller gives up after a while, and this
  // timer makes sure the connection does not outlive that.
  let conn: RedisConnection | null = null;
  const timer = setTimeout(() => conn?.close(), 2000);
  timer.unref();
  try {
    const c = await b.connect((opened) => (conn = opened));
    const info = parseInfo(await c.text('INFO', 'memory', 'keyspace'));
    const db0 = /keys=(\d+)/.exec(info.db0 ?? '');
    return {keys: db0 ? Number(db0[1]) : 0, memory: Number(info.used_memory ?? 0)};
  } finally {
    clearTimeout(timer);
    (conn as RedisConnection | null)?.close();
  }
}
