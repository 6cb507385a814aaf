// Hosts of a multi-host deployment (server start --role control|region): what each host
// records about itself in the shared store, and what it reports of the copies it runs.
import type {ProcessHealth} from '../provision/types';

/** A node of the deployment, as kept in the store's hosts registry (one row per host id). */
export interface HostRecord {
  /** Stable per host: kept in $REDFLY_HOME/host-id. */
  id: string;
  role: 'all' | 'control' | 'region';
  /** The region a region host serves; null for control / all. */
  region: string | null;
  /** The host name clients and other hosts use (its --public-host). */
  address: string;
  /** control / all: its API URL. */
  apiUrl: string | null;
  /** region: its gateway's and REST API's ports (for its region). */
  gatewayPort: number | null;
  restPort: number | null;
  pid: number;
  startedAt: string; // ISO
  /** Written by the host's heartbeat (every HEARTBEAT_MS). */
  lastSeenAt: string; // ISO
  /** What actually runs on it, owned by the host (a HostReport for region hosts). */
  report: unknown;
}

/** The hosts registry part of the Store (both backends). */
export interface HostStore {
  upsertHost(h: HostRecord): Promise<void> | void;
  getHost(id: string): Promise<HostRecord | undefined> | HostRecord | undefined;
  /** Ordered by role, region, address. */
  listHosts(): Promise<HostRecord[]> | HostRecord[];
  deleteHost(id: string): Promise<void> | void;
}

/** One copy a region host runs, as its heartbeat reports it. */
export interface ReportedProcess extends ProcessHealth {
  database: string;
}

/** A region host's report: every copy it runs, with the ports other hosts reach it on. */
export interface HostReport {
  processes: ReportedProcess[];
}

/** How often a host writes its lastSeenAt. */
export const HEARTBEAT_MS = 2_000;
/** A host not seen for this long is shown as down (five missed heartbeats: a loaded machine
 *  or a slow store must not flap it). */
export const DOWN_AFTER_MS = 10_000;

/** Whether the host was seen within DOWN_AFTER_MS of `now` (ms). */
export function isUp(h: Pick<HostRecord, 'lastSeenAt'>, now = Date.now()): boolean {
  return now - Date.parse(h.lastSeenAt) <= DOWN_AFTER_MS;
}

/** The report of a region host, or an empty one (control nodes, old or foreign rows). */
export function reportOf(h: HostRecord): HostReport {
  const r = h.report as Partial<HostReport> | null;
  return {processes: Array.isArray(r?.processes) ? r!.processes : []};
}

/** The store's hosts registry; a store without one (SQLite before it gained it) is refused
 *  with the operator's fix. */
export function hostStore(store: object): HostStore {
  const s = store as Partial<HostStore>;
  if (typeof s.upsertHost !== 'function' || typeof s.listHosts !== 'function') {
    throw new Error('this store keeps no hosts registry: several hosts need REDFLY_DATABASE_URL (PostgreSQL)');
  }
  return s as HostStore;
}
