// Direct writes: one write(2) of a plain TCP socket's descriptor instead of a trip through
// Node's Writable stream, when nothing is queued before the bytes. Used by the gateway for replies
// to plain clients and for its commands to plain upstreams (src/gateway).
import * as fs from 'node:fs';
import type * as net from 'node:net';
import {nativeWrite} from './batched-io';
import {rangeBuffer} from './borrowed-reads';

// The addon's write(2) (batched-io.ts) where it is built: no request object, no argument checks;
// else fs.writeSync(). Looked up at the first write (REDFLY_BATCHED_IO is read then).
let write: ((fd: number, bytes: Buffer, start: number, end: number) => number) | null | undefined;

// A socket's descriptor, looked up once (Node's `_handle.fd` is a C++ accessor). Only read while
// the socket is not destroyed, so the number is still this socket's.
const kFd = Symbol('redfly.fd');
type WithFd = net.Socket & {[kFd]?: number; _handle?: {fd?: number} | null};

function descriptor(sock: WithFd): number {
  let fd = sock[kFd];
  if (fd === undefined) {
    const h = sock._handle?.fd;
    if (typeof h !== 'number' || h < 0) return -1;
    fd = sock[kFd] = h;
  }
  return fd;
}

/** How writeDirect() left the bytes: all written by it; or the rest handed to `sock.write()`,
 *  which then holds them, below or past its high-water mark (its return value). */
export enum Written {
  All = 0,
  Queued = 1,
  QueuedFull = 2,
}

/**
 * Writes `bytes` to a plain TCP socket with one write(2) of its descriptor when nothing is queued
 * before them, instead of through the Writable stream (a stream write costs a request object, a
 * callback and a tick; writing directly cut the gateway's user CPU per command by about a fifth
 * under redis-benchmark -c 50). Whatever the kernel does not take at once (or every byte, on EAGAIN or
 * an error, which the stream then reports as it would have) goes through `sock.write()`, in order.
 * Only for sockets known to be plain (a TLS socket's descriptor carries ciphertext): the caller
 * says so with `plain`. `start`, `end`: write only bytes[start, end) (part of a larger buffer,
 * without making a view of it). `copyRest`: what goes to `sock.write()` is a copy (the caller's
 * bytes are reused once this returns); else the socket holds a view of `bytes`.
 */
export function writeDirect(sock: net.Socket, bytes: Buffer, plain: boolean, start = 0, end = bytes.length, copyRest = false): Written {
  let n = 0;
  if (plain && sock.writableLength === 0 && !sock.writableCorked && !sock.destroyed && !sock.connecting) {
    const fd = descriptor(sock);
    if (fd >= 0) {
      if (write === undefined) write = nativeWrite();
      if (write !== null) {
        n = write(fd, bytes, start, end); // < 0: EAGAIN, or a broken connection: the stream's own write sees to it
        if (n < 0) n = 0;
      } else {
        try {
          n = fs.writeSync(fd, bytes, start, end - start);
        } catch {
          n = 0; // as above
        }
      }
      if (n === end - start) return Written.All;
    }
  }
  const rest = rangeBuffer(bytes, start + n, end);
  return sock.write(copyRest ? Buffer.from(rest) : rest) ? Written.Queued : Written.QueuedFull;
}
