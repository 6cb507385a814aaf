// Borrowed reads: plain TCP sockets whose bytes arrive in a buffer that the socket does not own
// (Node's `onread` option) rather than in a new Buffer per read. By default Node allocates a
// 64 KiB buffer for every read, shrinks it to the bytes read and wraps it in a new ArrayBuffer,
// then pushes it through the Readable machinery to a 'data' event; on the gateway's unpipelined
// path (one read per command) that was about a third of the gateway's own CPU per command
// (its user CPU, bench/gateway.js and `perf` of the gateway process). A borrowed chunk is valid only during the
// reader's call: a reader that keeps bytes past it copies them.
//
// Accepted sockets: Node's net.Server has no `onread` option, so the server's accept callback is
// taken over (its handle's `onconnection`, set by Node when it listens) to build each socket
// with one. That is Node's internal shape (stable since Node 12, checked at run time): where it
// is missing the server keeps Node's own sockets and readers get 'data' events (readBorrowed()
// then answers false), so nothing depends on it but speed.
import * as net from 'node:net';
import {type BatchedFd, batchedIoUsable, readInBatches, stopBatched, watchBatched} from './batched-io';

/** Size of each buffer reads are borrowed from. A chunk handed to a reader is never longer, so
 *  a Buffer longer than this was never a view of one (the gateway relies on that to skip a copy). */
export const BORROWED_READ_BYTES = 64 * 1024;

/** Called with each chunk read, `buf[start, end)` (a range of a shared buffer rather than a view
 *  of it: a view is a new object per read); the bytes may be overwritten once the call returns. */
export type BorrowedReader = (buf: Buffer, start: number, end: number) => void;

/** The bytes buf[start, end) as one Buffer: `buf` itself when the range is all of it, else a
 *  view (a new object: for the rare paths that must hand a Buffer on, not for every read). */
export function rangeBuffer(buf: Buffer, start: number, end: number): Buffer {
  return start === 0 && end === buf.length ? buf : buf.subarray(start, end);
}

const kReader = Symbol('redfly.borrowedReader');
const kEarly = Symbol('redfly.borrowedEarly');
const kBatched = Symbol('redfly.batched');

interface Borrowing {
  [kReader]?: BorrowedReader | null;
  /** Copies of chunks read before a reader was set. */
  [kEarly]?: Buffer[];
  /** Read by the native batch (batched-io.ts) rather than by Node, while set. */
  [kBatched]?: BatchedFd | null;
}

// Every accepted socket reads into this one buffer: reads run one at a time on the event loop and
// a reader is done with a chunk when its call returns.
const shared = Buffer.allocUnsafeSlow(BORROWED_READ_BYTES);

function dispatch(sock: net.Socket & Borrowing, buf: Buffer, start: number, end: number): void {
  const reader = sock[kReader];
  if (reader) {
    reader(buf, start, end);
    return;
  }
  (sock[kEarly] ??= []).push(Buffer.from(rangeBuffer(buf, start, end)));
}

/** Reads `sock` (created paused: Node does not read it) in the native batch; false = unavailable.
 *  At end of stream or on a read error the socket goes back to Node, which then reads the end
 *  (or the error) itself and ends or destroys the socket as it always does. */
function batchReads(sock: net.Socket & Borrowing, reader: BorrowedReader): boolean {
  const fd = (sock as unknown as {_handle?: {fd?: number} | null})._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return false;
  const b = readInBatches(fd, (buf, off, n) => {
    if (n > 0) {
      if (!sock.destroyed) reader(buf, off, off + n);
      return;
    }
    // End of stream or a read error: Node reads it again and reports it.
    sock[kBatched] = null;
    stopBatched(b as BatchedFd);
    if (!sock.destroyed) sock.resume();
  });
  if (b === null) return false;
  sock[kBatched] = b;
  sock.once('close', () => {
    if (sock[kBatched]) stopBatched(sock[kBatched]);
    sock[kBatched] = null;
  });
  return true;
}

/**
 * For a plain socket being connected by net.connect() without `onread`: Node is kept from reading
 * it, and once connected the native batch reads it, handing each chunk to `reader` (valid during
 * the call; lendBatch() to keep views of it). False, changing nothing, when the batch is
 * unavailable: the caller reads it as it would have.
 */
export function connectInBatches(sock: net.Socket, reader: BorrowedReader): boolean {
  if (!batchedIoUsable()) return false;
  sock.pause();
  sock.once('connect', () => {
    if (sock.destroyed || batchReads(sock, reader)) return;
    // The descriptor was refused: Node reads it after all, in its own buffers.
    sock.on('data', (c: Buffer) => reader(c, 0, c.length));
    sock.resume();
  });
  return true;
}

/** Stops reading `sock` (Node's pause(), or the batch's). */
export function pauseReads(sock: net.Socket): void {
  const b = (sock as net.Socket & Borrowing)[kBatched];
  if (b) watchBatched(b, false);
  else sock.pause();
}

/** Reads `sock` again after pauseReads(). */
export function resumeReads(sock: net.Socket): void {
  const b = (sock as net.Socket & Borrowing)[kBatched];
  if (b) watchBatched(b, true);
  else sock.resume();
}

interface InternalServer {
  _handle?: {onconnection?: unknown} | null;
  _connections: number;
  maxConnections?: number;
  allowHalfOpen?: boolean;
}

/**
 * From now on `server` (listening, plain TCP) builds its sockets with borrowed reads, then
 * emits 'connection' as Node does (connection count, maxConnections, noDelay). Returns false,
 * changing nothing, where this Node's server has no accept callback to take over.
 */
export function acceptWithBorrowedReads(server: net.Server, options: {noDelay: boolean}): boolean {
  const srv = server as unknown as InternalServer;
  const handle = srv._handle;
  if (handle === null || handle === undefined || typeof handle.onconnection !== 'function') return false;
  handle.onconnection = (err: number, clientHandle: {close(): void} | undefined): void => {
    if (err || clientHandle === undefined) {
      server.emit('error', new Error(`accept failed (${err})`));
      return;
    }
    if (srv.maxConnections !== undefined && srv.maxConnections !== null && srv._connections >= srv.maxConnections) {
      clientHandle.close();
      return;
    }
    // With the native batch Node does not read the socket (paused on creation): the batch does.
    const batched = batchedIoUsable();
    const sock: net.Socket & Borrowing = new net.Socket({
      handle: clientHandle,
      allowHalfOpen: srv.allowHalfOpen,
      readable: true,
      writable: true,
      ...(batched
        ? {pauseOnCreate: true}
        : {onread: {buffer: shared, callback: (n: number, buf: Uint8Array) => dispatch(sock, buf as Buffer, 0, n)}}),
    } as unknown as net.SocketConstructorOpts);
    // A socket the batch could not take (its descriptor refused) stays paused and unborrowed:
    // its reader gets 'data' events once it resumes it (readBorrowed() answers false).
    if (!batched || batchReads(sock, (buf, start, end) => dispatch(sock, buf, start, end))) sock[kReader] = null;
    if (options.noDelay) sock.setNoDelay(true);
    srv._connections++;
    (sock as unknown as {server: net.Server; _server: net.Server}).server = server;
    (sock as unknown as {_server: net.Server})._server = server;
    server.emit('connection', sock);
  };
  return true;
}

/**
 * Hands `sock`'s reads to `reader` as borrowed chunks when it was accepted with borrowed reads
 * (chunks that arrived before are passed first, as copies); false = an ordinary socket, whose
 * bytes come as 'data' events.
 */
export function readBorrowed(sock: net.Socket, reader: BorrowedReader): boolean {
  const s = sock as net.Socket & Borrowing;
  if (s[kReader] === undefined) return false;
  s[kReader] = reader;
  const early = s[kEarly];
  if (early !== undefined) {
    delete s[kEarly];
    for (const c of early) reader(c, 0, c.length);
  }
  return true;
}

/** net.connect()'s `onread` for a client socket reading into `next()`'s buffer (called before
 *  each read): `reader` gets each chunk, valid until the next call of `next()` decides otherwise. */
export function borrowedConnectReads(next: () => Buffer, reader: BorrowedReader): net.OnReadOpts {
  return {
    buffer: next,
    callback: (n, buf) => {
      reader(buf as Buffer, 0, n);
      return true; // false would stop reading (the socket's pause() does that instead)
    },
  };
}

/** A client socket's read buffer (for borrowedConnectReads()), used for read after read until
 *  someone keeps a view of what it holds past the read (lend()); the next read then gets a new
 *  one and the lent one is left to whoever holds it. */
export class LendableBuffer {
  private buf: Buffer | null = null;
  private lent = false;

  /** The buffer for the next read. */
  next(): Buffer {
    if (this.buf === null || this.lent) {
      this.buf = Buffer.allocUnsafeSlow(BORROWED_READ_BYTES);
      this.lent = false;
    }
    return this.buf;
  }

  /** The bytes of the last read are kept elsewhere: do not read into them again. */
  lend(): void {
    this.lent = true;
  }
}
