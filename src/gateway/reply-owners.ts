// Who is owed the replies of one upstream connection, in order: Redis answers a connection's
// commands in the order they were written, so each reply belongs to the oldest sink still owed
// one (src/gateway/upstream.ts). Consecutive commands of one sink share an entry.
import type {ReplySink} from './types';

/** A FIFO of (sink, replies owed). Its slots are reused, so a steady stream of commands
 *  allocates nothing; `null` stands for the connection's own commands whose replies are dropped. */
export class ReplyOwners {
  private owners: (ReplySink | null)[] = [];
  private counts: number[] = [];
  // The entries are [head, tail) of the arrays.
  private head = 0;
  private tail = 0;

  /** No reply is owed. */
  get empty(): boolean {
    return this.head >= this.tail;
  }

  /** The sink owed the next reply (undefined when none is owed). */
  get first(): ReplySink | null | undefined {
    return this.head < this.tail ? this.owners[this.head] : undefined;
  }

  /** Replies owed in all (for tests and leak checks). */
  get pending(): number {
    let n = 0;
    for (let i = this.head; i < this.tail; i++) n += this.counts[i];
    return n;
  }

  /** `n` (> 0) more replies are owed to `owner`. */
  push(owner: ReplySink | null, n: number): void {
    const last = this.tail - 1;
    if (last >= this.head && this.owners[last] === owner) this.counts[last] += n;
    else if (this.tail === this.owners.length) {
      this.owners.push(owner);
      this.counts.push(n);
      this.tail++;
    } else {
      this.owners[this.tail] = owner;
      this.counts[this.tail++] = n;
    }
  }

  /** The next reply arrived (the queue is not empty). */
  take(): void {
    if (--this.counts[this.head] > 0) return;
    this.owners[this.head++] = null; // not kept alive by its old slot
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
      if (this.owners.length > 4096) {
        // After a burst: give its slots back.
        this.owners = [];
        this.counts = [];
      }
    } else if (this.head > 1024 && this.head * 2 > this.tail) {
      this.owners = this.owners.slice(this.head, this.tail);
      this.counts = this.counts.slice(this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
  }

  /** Empties the queue; answers each distinct sink that was owed replies, in order. */
  clear(): ReplySink[] {
    const seen = new Set<ReplySink>();
    for (let i = this.head; i < this.tail; i++) {
      const o = this.owners[i];
      if (o !== null) seen.add(o);
    }
    this.owners = [];
    this.counts = [];
    this.head = 0;
    this.tail = 0;
    return [...seen];
  }
}
