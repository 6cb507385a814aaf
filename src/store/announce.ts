import type {StoreChange, StoreListener} from './types';

/**
 * Calls every listener with the change and waits for the promises they return. A listener that
 * throws or rejects is reported on stderr and never fails the write that announced the change
 * (the write is done by then).
 */
export async function announceTo(listeners: Iterable<StoreListener>, change: StoreChange): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const listener of listeners) {
    try {
      const r = listener(change);
      if (r) waits.push(r.catch((err) => report(change, err)));
    } catch (err) {
      report(change, err);
    }
  }
  if (waits.length > 0) await Promise.all(waits);
}

function report(change: StoreChange, err: unknown): void {
  console.error(`a store listener failed on ${JSON.stringify(change)}: ${(err as Error)?.message ?? String(err)}`);
}
