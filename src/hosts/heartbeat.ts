// A host's row in the registry, written at start and every HEARTBEAT_MS with its lastSeenAt and
// its report, and at once when what it runs changed (beatNow), so other hosts and the control
// nodes learn of a new copy without waiting for the next beat.
import type {Store} from '../store';
import type {HostRecord} from './types';
import {HEARTBEAT_MS} from './types';

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private again = false;

  /** `describe()`: the row without lastSeenAt, read at every beat. */
  constructor(
    private readonly store: Pick<Store, 'upsertHost'>,
    private readonly describe: () => Omit<HostRecord, 'lastSeenAt'>,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void = () => undefined,
  ) {}

  /** Writes the row now and then every HEARTBEAT_MS; resolves after the first write. */
  async start(): Promise<void> {
    await this.beatNow();
    this.timer = setInterval(() => void this.beatNow(), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Writes the row as soon as the write in flight (if any) is done; calls made meanwhile
   *  share one write. */
  beatNow(): Promise<void> {
    if (this.writing) {
      this.again = true;
      return this.writing;
    }
    this.writing = (async () => {
      do {
        this.again = false;
        try {
          await this.store.upsertHost({...this.describe(), lastSeenAt: new Date().toISOString()});
        } catch (err) {
          this.log('heartbeat failed', {err: (err as Error).message});
        }
      } while (this.again && this.timer !== null);
    })().finally(() => (this.writing = null));
    return this.writing;
  }

  /** Stops beating (the row stays: other nodes then see this host go down). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.writing;
  }
}
