// Hosts of a multi-host deployment (server start --role control|region): what each host
// records about itself in the shared store, and what it reports of the copies it runs.
import type {ProcessHealth} from '../provision/types';
import type {HostRecord} from '../store';

export type {HostRecord} from '../store';

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
