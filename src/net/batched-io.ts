// Batched reads and plain writes through redfly's native addon (src/native/batched-io.c, built
// into dist/native/ by scripts/build-native.js): the accepted plain sockets of a gateway are read
// by the addon (a libuv poll handle each, on a dup of the descriptor), and JavaScript is called
// once per loop iteration for the batch of sockets read in it rather than once per read. Without
// the addon (not built, another OS, REDFLY_BATCHED_IO=0) everything here answers null/false and
// callers keep Node's own reads and fs.writeSync().
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The addon interface this code calls (INTERFACE_VERSION in batched-io.c): an addon built from
 *  other sources (a stale dist/native/ after an update without a build) would take the arguments
 *  of write() or remove() differently, and corrupt what it writes; it is not used. */
const ADDON_INTERFACE = 2;

/** An open batch of the addon's: its sockets, read buffer and triples. */
type Handle = object;

/** The addon's functions (src/native/batched-io.c). Each returning a number gives 0 (or bytes
 *  written) on success and -errno on failure; bad arguments throw. */
interface Addon {
  /** INTERFACE_VERSION of the C source it was built from (absent before version 2). */
  readonly interfaceVersion?: number;
  open(onBatch: (count: number) => void, buffer: Buffer, meta: Int32Array): Handle;
  add(h: Handle, fd: number, id: number): number;
  watch(h: Handle, id: number, on: number): number;
  remove(h: Handle, id: number): number;
  write(fd: number, bytes: Buffer, start?: number, end?: number): number;
  setBuffer(h: Handle, buffer: Buffer): boolean;
  idleTimeMetricsOff(): boolean;
}

/** Called with each chunk read, `buf[off, off + n)` (`n` > 0), or with `n` = 0 at end of stream,
 *  or -errno on a read error. The bytes are valid only during the call (`buf` is the batch's
 *  buffer: lendBatch() to keep views of it). */
export type BatchReader = (buf: Buffer, off: number, n: number) => void;

/** Bytes of the buffer a batch is read into; a batch ends when less than 64 KiB is left. */
const BATCH_BYTES = 256 * 1024;
/** Reads in one batch at most (the addon also caps it at 256). */
const BATCH_READS = 256;

function candidates(): string[] {
  // dist/net/ -> dist/native/; src/net/ and the benches' tmp/bench/ -> the build's dist/native/.
  return [path.resolve(__dirname, '../native/batched-io.node'), path.resolve(__dirname, '../../dist/native/batched-io.node')];
}

let addon: Addon | null | undefined;
let loadError = '';

function load(): Addon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.REDFLY_BATCHED_IO === '0') {
    loadError = 'REDFLY_BATCHED_IO=0';
    return addon;
  }
  if (process.platform !== 'linux') {
    loadError = `not built for ${process.platform}`;
    return addon;
  }
  const file = candidates().find((f) => fs.existsSync(f));
  if (file === undefined) {
    loadError = 'dist/native/batched-io.node is not built (scripts/build-native.js)';
    return addon;
  }
  try {
    const a = require(file) as Addon;
    if (a.interfaceVersion === ADDON_INTERFACE) addon = a;
    else loadError = `${file} is from another build (interface ${a.interfaceVersion ?? 1}, this code needs ${ADDON_INTERFACE}): npm run build`;
  } catch (e) {
    loadError = (e as Error).message;
  }
  return addon;
}

/** Why batched I/O is off in this process ('' when it is on or was not tried yet). */
export function batchedIoUnavailable(): string {
  load();
  return loadError;
}

const readers = new Map<number, BatchReader>();
let buffer: Buffer | null = null;
let meta: Int32Array | null = null;
let handle: Handle | null = null;
let nextId = 1;
let lent = false;
let batching = false;
const batchEnds: Array<() => void> = [];

function onBatch(count: number): void {
  const buf = buffer as Buffer;
  const m = meta as Int32Array;
  batching = true;
  try {
    for (let i = 0; i < count; i++) {
      const reader = readers.get(m[3 * i]);
      if (reader === undefined) continue; // closed earlier in this batch
      reader(buf, m[3 * i + 2], m[3 * i + 1]);
    }
  } finally {
    batching = false;
    if (lent) {
      // Someone holds views of this buffer past the batch: read the next ones into a new one.
      lent = false;
      buffer = Buffer.allocUnsafeSlow(BATCH_BYTES);
      (addon as Addon).setBuffer(handle as Handle, buffer);
    }
    for (let i = 0; i < batchEnds.length; i++) batchEnds[i]();
  }
}

/** The chunks of the batch being read are kept past it (a socket queued a view of them): the
 *  next batch reads into a new buffer. */
export function lendBatch(): void {
  lent = true;
}

/** Whether a batch is being handed out (the callers' work in it ends with onBatchEnd()'s). */
export function inBatch(): boolean {
  return batching;
}

/** Calls `fn` after each batch's reads were all handed out (e.g. to write what they produced in
 *  one go, without waiting for the end of the event-loop turn). */
export function onBatchEnd(fn: () => void): void {
  batchEnds.push(fn);
}

// One batch per module instance (per process; per test file under jest, whose registries share
// the loaded addon).
function opening(a: Addon): boolean {
  if (handle !== null) return true;
  buffer = Buffer.allocUnsafeSlow(BATCH_BYTES);
  meta = new Int32Array(3 * BATCH_READS);
  try {
    handle = a.open(onBatch, buffer, meta);
    // Each wake-up of a lone request's round trip paid for libuv's idle-time metrics (a second
    // epoll_pwait and clock reads under a mutex): about a tenth of the gateway's user CPU under
    // redis-benchmark -c 1. Nothing in redfly reads them (performance.eventLoopUtilization()).
    if (process.env.REDFLY_LOOP_IDLE_METRICS !== '1') a.idleTimeMetricsOff();
  } catch (e) {
    loadError = (e as Error).message;
    addon = null;
  }
  return handle !== null;
}

/** Whether readInBatches() can be used in this process (the addon loads and its batch opened). */
export function batchedIoUsable(): boolean {
  const a = load();
  return a !== null && opening(a);
}

/** A descriptor read by the batch: `id` names it in the addon's batch. */
export interface BatchedFd {
  readonly id: number;
}

/**
 * Reads `fd` (a plain TCP socket that Node does not read: paused on creation) in batches, handing
 * each chunk to `reader`. Null, changing nothing, when batched I/O is unavailable or the
 * descriptor cannot be watched.
 */
export function readInBatches(fd: number, reader: BatchReader): BatchedFd | null {
  const a = load();
  if (a === null || !opening(a)) return null;
  let id = nextId;
  while (readers.has(id)) id = id >= 0x7ffffffe ? 1 : id + 1;
  nextId = id >= 0x7ffffffe ? 1 : id + 1;
  if (a.add(handle as Handle, fd, id) !== 0) return null;
  readers.set(id, reader);
  return {id};
}

/** Stops or restarts reading a descriptor of readInBatches() (its socket still open). */
export function watchBatched(b: BatchedFd, on: boolean): void {
  if (handle !== null) load()?.watch(handle, b.id, on ? 1 : 0);
}

/** Takes a descriptor out of the batch for good, its socket open or closed: always, as the
 *  addon's dup of the descriptor keeps the connection open until then (no FIN to the peer). */
export function stopBatched(b: BatchedFd): void {
  readers.delete(b.id);
  if (handle !== null) load()?.remove(handle, b.id);
}

/** The addon's write(2) of `bytes[start, end)` to `fd`: the bytes written, or -errno; null
 *  without the addon. A range outside the buffer throws a RangeError. */
export function nativeWrite(): ((fd: number, bytes: Buffer, start: number, end: number) => number) | null {
  const a = load();
  return a === null ? null : a.write;
}
