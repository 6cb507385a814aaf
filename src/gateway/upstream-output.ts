// How an upstream's writes leave: commands are copied into the connection's own output buffer
// as they are sent (a client's bytes may be borrowed, src/net/borrowed-reads.ts), and everything
// sent to every upstream in one event-loop turn is written at the end of the turn, one write per
// connection: many clients' commands in one syscall, which Redis reads in one go.
import type * as net from 'node:net';
import {inBatch, onBatchEnd} from '../net/batched-io';
import {writeDirect, Written} from '../net/direct-write';

// The output buffer: its first size, and the largest kept between writes.
const OUT_INITIAL = 16 * 1024;
const OUT_KEEP_MAX = 256 * 1024;
// Bytes up to which append() copies in a loop rather than with Buffer#copy().
const SMALL_COPY = 256;

/** Bytes sent to one connection and not yet written. */
export class OutputBuffer {
  private buf: Buffer | null = null;
  /** Bytes buffered. */
  length = 0;

  /** `keep`: reuse the buffer after a write that went out at once (a shared connection's steady
   *  traffic); else a new one for each turn's commands (pinned ones: many, mostly quiet). */
  constructor(private readonly keep: () => boolean) {}

  /** Copies bytes[start, end) in (the caller may reuse them once this returns). */
  append(bytes: Buffer, start = 0, end = bytes.length): void {
    const n = end - start;
    const need = this.length + n;
    let buf = this.buf;
    if (buf === null || buf.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, buf === null ? OUT_INITIAL : buf.length * 2));
      if (buf !== null && this.length > 0) buf.copy(grown, 0, 0, this.length);
      this.buf = buf = grown;
    }
    if (n <= SMALL_COPY) {
      // A typical command: copied byte by byte, as Buffer#copy() of part of a buffer makes a
      // Uint8Array view first.
      for (let i = 0, o = this.length; i < n; i++) buf[o + i] = bytes[start + i];
    } else bytes.copy(buf, this.length, start, end);
    this.length = need;
  }

  /** Writes bytes[start, end) to `sock` now, after whatever is buffered, straight from the
   *  caller's bytes (no copy for a lone request); what the kernel does not take at once is copied
   *  and queued on the socket. */
  writeNow(sock: net.Socket, plain: boolean, bytes: Buffer, start: number, end: number): void {
    if (this.length > 0) this.writeTo(sock, plain);
    writeDirect(sock, bytes, plain, start, end, true);
  }

  /** Writes what is buffered to `sock` (`plain`: writeDirect() may use its descriptor). The
   *  buffer is kept for the next commands only when it was all written at once; otherwise the
   *  socket holds on to it until written. */
  writeTo(sock: net.Socket, plain: boolean): void {
    const buf = this.buf;
    if (this.length === 0 || buf === null) return;
    const n = this.length;
    this.length = 0;
    const w = writeDirect(sock, buf, plain, 0, n);
    if (w !== Written.All || buf.length > OUT_KEEP_MAX || !this.keep()) this.buf = null;
  }
}

/** What the end-of-turn flush calls on an upstream. */
export interface TurnWriter {
  /** Write this turn's commands. */
  uncork(): void;
  /** Write the held commands that a barrier released (Upstream.barrier()). */
  writeHeld(): void;
}

// This turn's writers in [0, nCorked) and [0, nReleasing): the slots are reused from turn to turn
// (emptied as they are written, so no writer is kept alive by them).
const corked: (TurnWriter | null)[] = [];
const releasing: (TurnWriter | null)[] = [];
let nCorked = 0;
let nReleasing = 0;
let flushScheduled = false;

function flushTurn(): void {
  flushScheduled = false;
  for (let i = 0; i < nCorked; i++) {
    const u = corked[i]!;
    corked[i] = null;
    u.uncork();
  }
  nCorked = 0;
  // Held writes go after this turn's.
  for (let i = 0; i < nReleasing; i++) {
    const u = releasing[i]!;
    releasing[i] = null;
    u.writeHeld();
  }
  nReleasing = 0;
}

function schedule(): void {
  if (!flushScheduled) {
    flushScheduled = true;
    // In a batch of native reads (src/net/batched-io.ts) the batch's end is the turn's end for
    // what it produced: written then, rather than in the loop's check phase.
    if (!inBatch()) setImmediate(flushTurn);
  }
}

onBatchEnd(() => {
  if (flushScheduled) flushTurn();
});

/** `u.uncork()` at the end of this event-loop turn (once per call: the caller tracks whether it
 *  is already corked). */
export function writeAtTurnEnd(u: TurnWriter): void {
  corked[nCorked++] = u;
  schedule();
}

/** `u.writeHeld()` at the end of this event-loop turn, after every uncork(). */
export function releaseAtTurnEnd(u: TurnWriter): void {
  releasing[nReleasing++] = u;
  schedule();
}
