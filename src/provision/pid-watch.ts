// Noticing the death of processes that are not our children (redis-servers adopted from an
// earlier run of the server: no exit event reaches us). One timer checks every watched pid, so a
// host that adopted 1,000 processes runs one check loop, not 1,000 timers.
import {pidAlive} from '../lib/pids';

/** How often every watched pid is checked for life, in ms. */
export const PID_WATCH_MS = 500;

/**
 * Calls each watcher's `onGone` once, on the first check (every `intervalMs`) that finds its pid
 * gone (lib/pids.ts pidAlive: no such process, or a zombie). The timer runs only while something
 * is watched and never keeps the Node process alive.
 */
export class PidWatch {
  private readonly watched = new Map<number, Set<() => void>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs = PID_WATCH_MS, private readonly alive: (pid: number) => boolean = pidAlive) {}

  /** Watches `pid`; returns the function that stops watching it (idempotent). */
  add(pid: number, onGone: () => void): () => void {
    let set = this.watched.get(pid);
    if (!set) this.watched.set(pid, (set = new Set()));
    const entry = (): void => onGone();
    set.add(entry);
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), this.intervalMs);
      this.timer.unref();
    }
    return () => this.remove(pid, entry);
  }

  /** How many pids are watched. */
  get size(): number {
    return this.watched.size;
  }

  private remove(pid: number, entry: () => void): void {
    const set = this.watched.get(pid);
    if (!set?.delete(entry)) return;
    if (set.size === 0) this.watched.delete(pid);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private check(): void {
    for (const [pid, set] of [...this.watched]) {
      if (this.alive(pid)) continue;
      this.watched.delete(pid);
      for (const onGone of set) {
        try {
          onGone();
        } catch {
          // one watcher's failure must not stop the others
        }
      }
    }
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

/** The watch every adopted database process shares. */
export const adoptedWatch = new PidWatch();
