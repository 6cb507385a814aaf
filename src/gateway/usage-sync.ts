// Worker mode (docs/gateway-scaling.md): several gateway processes serve one tenant, each with its
// own TenantState. Every 100 ms each process sends the control process what it counted since the
// last exchange (commands, bytes) and what it has now (connections, the monitor's last sample);
// the control process sums them in a UsageLedger (what /metrics, `redis status` and usage.json
// read) and answers each process with the tenant's totals, which become that process's view of
// the daily counters. So a daily limit is overrun by at most one interval of traffic, and the
// connection limit by at most the connections other processes accepted within one interval.
import type {TenantState} from './tenant';
import type {Usage, UsageSeed} from './types';

/** One tenant, from one gateway process: counted since its last report, and its state now. */
export interface UsageReport {
  id: string;
  day: string; // "YYYY-MM-DD", UTC, the day the counts belong to
  commands: number; // since the last report
  bandwidthBytes: number; // since the last report
  connections: number; // now
  /** The monitor's last sample in this process (null when it has none). */
  dataSizeBytes: number | null;
  replicationLagMs: Record<string, number | null>;
}

/** The answer to one report: the tenant's totals over every process. */
export interface UsageTotal {
  id: string;
  day: string;
  commandsToday: number;
  bandwidthTodayBytes: number;
  /** The tenant's connections in the other processes (not the reporter's). */
  otherConnections: number;
}

/** How a gateway process exchanges its reports for totals (IPC in a worker, a call in the
 *  control process itself). */
export type UsageExchange = (reports: UsageReport[]) => UsageTotal[] | Promise<UsageTotal[]>;

export const USAGE_SYNC_MS = 100;

interface Synced {
  day: string;
  commands: number; // ts.commandsToday right after the last totals were applied
  bandwidth: number;
  sentCommands: number; // in the report in flight
  sentBandwidth: number;
}

/** The gateway process's side: reports every tenant it holds state for, applies the totals. */
export class UsageSync {
  private readonly synced = new Map<string, Synced>();
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly tenants: Map<string, TenantState>,
    private readonly exchange: UsageExchange,
    private readonly log: (m: string) => void,
  ) {}

  start(intervalMs = USAGE_SYNC_MS): void {
    this.timer = setInterval(() => void this.round(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** An exchange now, after the one in flight: every command counted before the call is in the
   *  control process's totals when it resolves. */
  async flush(): Promise<void> {
    await this.inFlight;
    await this.round();
  }

  /** One exchange (skipped while the previous one is unanswered, so deltas are never counted twice). */
  round(): Promise<void> {
    if (this.inFlight !== null) return this.inFlight;
    const p = this.exchangeNow();
    this.inFlight = p;
    void p.finally(() => {
      if (this.inFlight === p) this.inFlight = null;
    });
    return p;
  }

  private async exchangeNow(): Promise<void> {
    const reports: UsageReport[] = [];
    for (const [id, ts] of this.tenants) {
      const day = ts.dayText; // rolls the local counters at midnight
      let s = this.synced.get(id);
      if (s === undefined || s.day !== day) {
        s = {day, commands: 0, bandwidth: 0, sentCommands: 0, sentBandwidth: 0};
        this.synced.set(id, s);
      }
      s.sentCommands = Math.max(0, ts.commandsToday - s.commands);
      s.sentBandwidth = Math.max(0, ts.bandwidthToday - s.bandwidth);
      const u = ts.usage();
      reports.push({id, day, commands: s.sentCommands, bandwidthBytes: s.sentBandwidth, connections: ts.clients.size,
        dataSizeBytes: u.dataSizeBytes, replicationLagMs: u.replicationLagMs});
    }
    for (const id of this.synced.keys()) if (!this.tenants.has(id)) this.synced.delete(id);
    if (reports.length === 0) return;
    let totals: UsageTotal[];
    try {
      totals = await this.exchange(reports);
    } catch (err) {
      // Nothing was counted there: the same deltas go again in the next report.
      for (const s of this.synced.values()) {
        s.sentCommands = 0;
        s.sentBandwidth = 0;
      }
      this.log(`gateway: usage exchange failed: ${(err as Error).message}`);
      return;
    }
    for (const t of totals) this.apply(t);
  }

  private apply(t: UsageTotal): void {
    const ts = this.tenants.get(t.id);
    const s = this.synced.get(t.id);
    if (ts === undefined || s === undefined || s.day !== t.day || ts.dayText !== t.day) return;
    // What this process counted while the report travelled stays on top of the totals.
    const newCommands = ts.commandsToday - (s.commands + s.sentCommands);
    const newBandwidth = ts.bandwidthToday - (s.bandwidth + s.sentBandwidth);
    ts.commandsToday = t.commandsToday + Math.max(0, newCommands);
    ts.bandwidthToday = t.bandwidthTodayBytes + Math.max(0, newBandwidth);
    s.commands = t.commandsToday;
    s.bandwidth = t.bandwidthTodayBytes;
    s.sentCommands = 0;
    s.sentBandwidth = 0;
    ts.otherConnections = t.otherConnections;
    // The plan's commands/s is split by connections; a process whose clients are the only ones
    // gets all of it.
    const own = ts.clients.size;
    ts.setRateShare(own === 0 ? 1 : own / (own + t.otherConnections));
  }
}

interface LedgerEntry {
  day: string;
  commands: number;
  bandwidth: number;
  connections: Map<string, number>; // per reporting process
  dataSize: {value: number; at: number} | null;
  lag: {value: Record<string, number | null>; at: number} | null;
}

const today = (): string => new Date().toISOString().slice(0, 10);

/** The control process's side: the sum over every gateway process, per tenant. */
export class UsageLedger {
  private readonly entries = new Map<string, LedgerEntry>();

  /** `seed`: today's counters saved before a restart (usage.json), read once per tenant. */
  constructor(private readonly seed?: (tenantId: string) => UsageSeed | undefined) {}

  private entry(id: string): LedgerEntry {
    const day = today();
    let e = this.entries.get(id);
    if (e === undefined) {
      const s = this.seed?.(id);
      e = {day, commands: 0, bandwidth: 0, connections: new Map(), dataSize: null, lag: null};
      if (s !== undefined && s.day === day) {
        e.commands = s.commandsToday;
        e.bandwidth = s.bandwidthTodayBytes;
      }
      this.entries.set(id, e);
    } else if (e.day !== day) {
      e.day = day;
      e.commands = 0;
      e.bandwidth = 0;
    }
    return e;
  }

  /** Adds one process's reports (`source` names the process) and answers its totals. */
  exchange(source: string, reports: UsageReport[]): UsageTotal[] {
    const now = Date.now();
    return reports.map((r) => {
      const e = this.entry(r.id);
      // Counts of a day that is over (a report sent just before midnight) are dropped with it.
      if (r.day === e.day) {
        e.commands += r.commands;
        e.bandwidth += r.bandwidthBytes;
      }
      if (r.connections > 0) e.connections.set(source, r.connections);
      else e.connections.delete(source);
      if (r.dataSizeBytes !== null) e.dataSize = {value: r.dataSizeBytes, at: now};
      if (Object.keys(r.replicationLagMs).length > 0) e.lag = {value: r.replicationLagMs, at: now};
      let total = 0;
      for (const n of e.connections.values()) total += n;
      return {id: r.id, day: e.day, commandsToday: e.commands, bandwidthTodayBytes: e.bandwidth,
        otherConnections: total - r.connections};
    });
  }

  /** A sample taken outside the reports (a probe for a tenant without clients). */
  sampled(id: string, s: Pick<Usage, 'dataSizeBytes' | 'replicationLagMs'>): void {
    const e = this.entry(id);
    const now = Date.now();
    if (s.dataSizeBytes !== null) e.dataSize = {value: s.dataSizeBytes, at: now};
    e.lag = {value: s.replicationLagMs, at: now};
  }

  /** A process is gone: its connections are. */
  dropSource(source: string): void {
    for (const e of this.entries.values()) e.connections.delete(source);
  }

  /** Connections per process, over every tenant. */
  connectionsBySource(): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.entries.values()) for (const [s, n] of e.connections) out.set(s, (out.get(s) ?? 0) + n);
    return out;
  }

  usage(id: string): Usage {
    const e = this.entry(id);
    let connections = 0;
    for (const n of e.connections.values()) connections += n;
    return {day: e.day, connections, commandsToday: e.commands, bandwidthTodayBytes: e.bandwidth,
      dataSizeBytes: e.dataSize?.value ?? null, replicationLagMs: e.lag?.value ?? {}};
  }
}
