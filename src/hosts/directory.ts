// Every host of the deployment, in memory, kept current from the store: a host's change is
// announced through store.subscribe() ({kind: 'host'}), and the whole list is read again every
// heartbeat period (liveness changes with time alone, and an announcement may be missed).
import type {ProcessHealth} from '../provision/types';
import type {Store} from '../store';
import type {HostRecord, ReportedProcess} from './types';
import {HEARTBEAT_MS, isUp, reportOf} from './types';

/** The part of the Store the directory reads. */
export type HostReader = Pick<Store, 'subscribe' | 'getHost' | 'listHosts'>;

export class HostDirectory {
  private readonly hosts = new Map<string, HostRecord>();
  private readonly listeners = new Set<(id: string | null) => void>();
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: HostReader,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void = () => undefined,
  ) {}

  /** Reads every host, then follows the store until close(). */
  async start(): Promise<void> {
    await this.reload();
    this.unsubscribe = this.store.subscribe((change) => {
      if (change.kind === 'host') void this.refresh(change.id);
      else if (change.kind === 'all') void this.reload();
    });
    this.timer = setInterval(() => void this.reload(), HEARTBEAT_MS);
    this.timer.unref();
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Called with the host id after a host's row changed (null: after a full reload). */
  onChange(listener: (id: string | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): HostRecord[] {
    return [...this.hosts.values()];
  }

  byId(id: string): HostRecord | undefined {
    return this.hosts.get(id);
  }

  /** The region host of `region`: the one seen last when several claim it. */
  regionHost(region: string): HostRecord | undefined {
    let best: HostRecord | undefined;
    for (const h of this.hosts.values()) {
      if (h.role !== 'region' || h.region !== region) continue;
      if (!best || Date.parse(h.lastSeenAt) > Date.parse(best.lastSeenAt)) best = h;
    }
    return best;
  }

  /** The copy of a database a host reports (any state), with that host. */
  reported(databaseId: string, region: string): {host: HostRecord; proc: ReportedProcess} | undefined {
    const host = this.regionHost(region);
    const proc = host && reportOf(host).processes.find((p) => p.database === databaseId && p.region === region);
    return host && proc ? {host, proc} : undefined;
  }

  /** The copies of a database as the hosts that are up report them (a down host's copies are
   *  absent: the API shows them stopped). */
  health(databaseId: string): ProcessHealth[] {
    const now = Date.now();
    return this.list()
      .filter((h) => h.role === 'region' && isUp(h, now))
      .flatMap((h) => reportOf(h).processes.filter((p) => p.database === databaseId))
      .map(({database: _database, ...health}) => health);
  }

  private async refresh(id: string): Promise<void> {
    try {
      const h = await this.store.getHost(id);
      if (h) this.hosts.set(id, h);
      else this.hosts.delete(id);
      this.emit(id);
    } catch (err) {
      this.log('could not read a host', {id, err: (err as Error).message});
    }
  }

  private async reload(): Promise<void> {
    try {
      const all = await this.store.listHosts();
      this.hosts.clear();
      for (const h of all) this.hosts.set(h.id, h);
      this.emit(null);
    } catch (err) {
      this.log('could not read the hosts', {err: (err as Error).message});
    }
  }

  private emit(id: string | null): void {
    for (const l of this.listeners) {
      try {
        l(id);
      } catch {
        // one listener's failure must not stop the others
      }
    }
  }
}
