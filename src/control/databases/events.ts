// The recent process events of each database (supervision's crashes and restarts), kept in
// memory for the dashboard: a short ring per database, lost on a server restart (the server log
// keeps every one).
import type {ProcessHealth} from '../../provision/types';

/** One event: when (ISO time), which process, its new state and supervision's message. */
export interface ProcessEvent {
  at: string;
  region: string;
  role: 'primary' | 'replica';
  state: ProcessHealth['state'];
  message: string;
}

const KEEP = 20;

export class ProcessEvents {
  private readonly byDb = new Map<string, ProcessEvent[]>();

  record(databaseId: string, health: ProcessHealth, message: string, at = new Date()): void {
    const list = this.byDb.get(databaseId) ?? [];
    list.push({at: at.toISOString(), region: health.region, role: health.role, state: health.state, message});
    if (list.length > KEEP) list.splice(0, list.length - KEEP);
    this.byDb.set(databaseId, list);
  }

  /** Newest first. */
  recent(databaseId: string): ProcessEvent[] {
    return [...(this.byDb.get(databaseId) ?? [])].reverse();
  }

  forget(databaseId: string): void {
    this.byDb.delete(databaseId);
  }
}
