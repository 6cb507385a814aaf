// One queue per database: provisioning, updates, password resets and deletion of the same
// database never overlap, while different databases proceed in parallel.
export class Lanes {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly pending = new Map<string, number>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn).finally(() => {
      const left = (this.pending.get(key) ?? 1) - 1;
      if (left === 0) {
        this.pending.delete(key);
        if (this.tails.get(key) === guarded) this.tails.delete(key);
      } else this.pending.set(key, left);
    });
    // the tail must never reject, or the next job would see the previous one's error
    const guarded = next.catch(() => undefined);
    this.tails.set(key, guarded);
    return next;
  }

  /** Jobs queued or running for key, the caller's own included when called from inside one. */
  queued(key: string): number {
    return this.pending.get(key) ?? 0;
  }

  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
