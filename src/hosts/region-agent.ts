// A region host's share of the records (server start --role region --region X): the copies of
// every database placed in X (its primary when X is the primary region, its replica when X is a
// read region), run by this host's LocalProvisioner. The records are read from the store, never
// written: what runs is reported through the host's heartbeat (HostReport), and a control node
// folds the reports into the record. A replica dials its primary on the primary region's host,
// at the address and TLS port that host reports.
//
// When: a full pass at start (after stopping what an earlier run left), on every announced change
// of a database or a host (coalesced: one pass at a time, and one more if anything changed
// meanwhile), and every RECONCILE_MS, so a missed announcement or a host that came back is
// caught up. A database whose record is gone or being deleted loses its copy here, data included
// (also a database deleted while this host was down: its folder is still under data/).
import {readdirSync} from 'node:fs';
import type {LocalProvisioner} from '../provision';
import type {DesiredDatabase} from '../provision/types';
import type {DatabaseRecord, Store} from '../store';
import type {Catalogue} from '../control/catalogue';
import {desired} from '../control/databases/rules';
import {statePaths} from '../lib/home';
import type {HostDirectory} from './directory';
import type {HostReport} from './types';
import {isUp} from './types';

/** A full pass at least this often. */
export const RECONCILE_MS = 10_000;

export interface RegionAgentOptions {
  home: string;
  /** The records (read only here). */
  store: Pick<Store, 'allDatabases' | 'subscribe'>;
  hosts: HostDirectory;
  provisioner: LocalProvisioner;
  catalogue: Catalogue;
  hostId: string;
  region: string;
  /** Called after a pass changed what runs here (the heartbeat writes the report at once). */
  changed: () => void;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

export class RegionAgent {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private unsubscribeHosts: (() => void) | null = null;
  private stopped = false;
  /** What the last pass found missing, logged once per cause. */
  private readonly waiting = new Set<string>();

  constructor(private readonly opts: RegionAgentOptions) {}

  /** Stops what an earlier run left and brings this host's share back; then follows changes. */
  async start(): Promise<void> {
    const wanted = await this.wanted();
    try {
      await this.opts.provisioner.reconcile(wanted);
    } catch (err) {
      this.opts.log('reconcile incomplete', {err: (err as Error).message});
    }
    this.opts.changed();
    this.unsubscribe = this.opts.store.subscribe((c) => {
      if (c.kind === 'database' || c.kind === 'all') this.schedule();
    });
    // Another host's report: a primary this host's replicas wait for may have appeared or moved.
    this.unsubscribeHosts = this.opts.hosts.onChange((id) => {
      if (id !== this.opts.hostId) this.schedule();
    });
    this.timer = setInterval(() => this.schedule(), RECONCILE_MS);
    this.timer.unref();
    this.schedule();
  }

  /** Stops following changes and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribeHosts?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** What runs here, for the heartbeat. */
  report(): HostReport {
    const p = this.opts.provisioner;
    return {processes: p.ids().flatMap((database) => p.health(database).map((h) => ({...h, database})))};
  }

  /** Runs a pass now, or once more after the one in flight. */
  schedule(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.pass();
        } catch (err) {
          this.opts.log('region pass failed', {err: (err as Error).message});
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = null));
  }

  /** Whether a pass is running or due (tests wait for quiet). */
  get busy(): boolean {
    return this.running !== null;
  }

  private async pass(): Promise<void> {
    const p = this.opts.provisioner;
    const records = await this.opts.store.allDatabases();
    const wanted = await this.wanted(records);
    const keep = new Set(records.filter((r) => r.status !== 'deleting' && this.copyHere(r)).map((r) => r.id));
    let changed = false;
    for (const db of wanted) {
      if (this.stopped) return;
      const before = JSON.stringify(p.health(db.id).map((h) => [h.port, h.state]));
      try {
        await p.ensure(db);
      } catch (err) {
        this.opts.log('could not start a copy', {databaseId: db.id, err: (err as Error).message});
      }
      if (JSON.stringify(p.health(db.id).map((h) => [h.port, h.state])) !== before) changed = true;
    }
    // Gone, being deleted, or no longer placed here (a read region removed): stop and delete.
    const here = new Set([...p.ids(), ...dataFolders(this.opts.home)]);
    for (const id of here) {
      if (keep.has(id) || this.stopped) continue;
      try {
        await p.destroy(id);
        changed = true;
        this.opts.log('copy removed', {databaseId: id});
      } catch (err) {
        this.opts.log('could not remove a copy', {databaseId: id, err: (err as Error).message});
      }
    }
    if (changed) this.opts.changed();
  }

  private copyHere(rec: DatabaseRecord): boolean {
    return rec.primaryRegion === this.opts.region || rec.readRegions.includes(this.opts.region);
  }

  /** This host's copy of each database placed in its region; a replica only once its primary's
   *  host has reported where the primary listens. */
  private async wanted(given?: DatabaseRecord[]): Promise<DesiredDatabase[]> {
    const records = given ?? (await this.opts.store.allDatabases());
    const out: DesiredDatabase[] = [];
    for (const rec of records) {
      if (rec.status === 'deleting' || !this.copyHere(rec)) continue;
      const full = desired(this.opts.catalogue, rec);
      const mine = full.processes
        .filter((s) => s.region === this.opts.region)
        // a port recorded for another host's copy means nothing here
        .map((s) => ({...s, port: hostOf(rec, s.region) === this.opts.hostId ? s.port : 0}));
      if (mine.length === 0) continue;
      if (mine[0].role === 'primary') {
        out.push({...full, processes: mine});
        continue;
      }
      const primary = this.opts.hosts.reported(rec.id, rec.primaryRegion);
      const tlsPort = primary?.proc.tlsPort;
      if (!primary || !tlsPort || !isUp(primary.host)) {
        // Kept running if it runs (it serves stale reads and reconnects by itself); a new one
        // waits for its primary.
        const running = this.opts.provisioner.health(rec.id).length > 0;
        const prev = this.opts.provisioner.primaryAt(rec.id);
        if (running && prev) out.push({...full, processes: mine, primaryAt: prev});
        else if (!this.waiting.has(rec.id)) {
          this.waiting.add(rec.id);
          this.opts.log('replica waits for its primary to be reported', {databaseId: rec.id, primaryRegion: rec.primaryRegion});
        }
        continue;
      }
      this.waiting.delete(rec.id);
      out.push({...full, processes: mine, primaryAt: {host: primary.host.address, port: tlsPort}});
    }
    return out;
  }
}

/** The host the record places a region's copy on (ProcessRecord.host), null when none. */
function hostOf(rec: DatabaseRecord, region: string): string | null {
  return rec.processes.find((x) => x.region === region)?.host ?? null;
}

function dataFolders(home: string): string[] {
  try {
    return readdirSync(statePaths(home).data, {withFileTypes: true})
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}
