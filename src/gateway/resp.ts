// RESP framing for the gateway's hot path. Requests are framed, never decoded: the parser finds
// where each command starts and ends and where its first arguments are, so the client's own
// bytes can be forwarded. Replies are scanned as a stream only to count them (`reply.ts`).
import {encodeCommand} from '../redis/client';
import {rangeBuffer} from '../net/borrowed-reads';

// Commands the gateway writes itself are encoded like every other client of ours does.
export {encodeCommand};

// Redis 7.0's own protocol limits (src/server.h, networking.c), applied here because a framing
// proxy that waited for `*3000000000` would hang or buffer without bound.
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
export const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;
const INT_MAX = 2147483647;
const UNAUTH_MAX_MULTIBULK = 10;
const UNAUTH_MAX_BULK = 16384;
export const MAX_ARGS_KEPT = 16;

const CR = 13;
const LF = 10;

/** Parses a decimal integer (optional '-') in buf[s, e); NaN when it is not one. */
export function parseIntAt(buf: Buffer, s: number, e: number): number {
  if (s >= e) return NaN;
  let neg = false;
  if (buf[s] === 45) {
    neg = true;
    s++;
    if (s >= e) return NaN;
  }
  if (e - s > 16) return NaN;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

function findCR(buf: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === CR) return i;
  return -1;
}

/**
 * Incremental request framer. `next()` leaves the current frame at `buf[pos, pos + frameLen)`
 * until `advance()`, so a caller that must wait (for earlier replies, a rate limit, a
 * connection) can come back to the same frame after more data was pushed.
 */
export class RequestParser {
  /** The bytes being framed are buf[pos, end) (buf may be a larger buffer read into). */
  buf: Buffer | null = null;
  pos = 0;
  end = 0;
  private queued: Buffer[] = [];
  private queuedLen = 0;
  private need = 0; // bytes needed from pos before parsing can progress

  authenticated = false;
  maxRequestBytes = 0; // 0 = no request size limit

  // The current multibulk frame (relative to pos); argc < 0 = not inside one.
  private argc = -1;
  private argi = 0;
  private scan = 0;

  // Output of next() == 1.
  frameLen = 0;
  frameArgc = 0;
  readonly argOff = new Int32Array(MAX_ARGS_KEPT);
  readonly argLen = new Int32Array(MAX_ARGS_KEPT);
  /** Set for an inline command: its RESP form (the gateway forwards RESP only). */
  inline: Buffer | null = null;
  private inlineRaw = 0;
  /** Size of a request that exceeded maxRequestBytes; its bytes were discarded. */
  oversize = 0;
  error = '';

  // Discarding an oversized request without holding it.
  private skipping = false;
  private skipArgs = 0;
  private skipBody = 0;
  private skipTotal = 0;

  /** Adds the bytes chunk[start, end) (the whole chunk by default; a range spares the reader a
   *  view of a shared read buffer). `borrowed`: the chunk's bytes are reused after the caller's
   *  turn; the caller calls own() before that (a queued chunk is copied here). */
  push(chunk: Buffer, borrowed = false, start = 0, end = chunk.length): void {
    const len = end - start;
    if (this.skipping && this.skipBody >= len && (this.buf === null || this.pos >= this.end)) {
      this.skipBody -= len;
      return;
    }
    if (this.buf === null || this.pos >= this.end) {
      this.buf = chunk;
      this.bufBorrowed = borrowed;
      this.pos = start;
      this.end = end;
      this.need = 0;
      return;
    }
    const bytes = rangeBuffer(chunk, start, end);
    const pending = this.end - this.pos;
    if (pending + this.queuedLen + len < this.need) {
      this.queued.push(borrowed ? Buffer.from(bytes) : bytes);
      this.queuedLen += len;
      return;
    }
    this.bufBorrowed = false;
    const parts = [this.buf.subarray(this.pos, this.end), ...this.queued, bytes];
    this.buf = Buffer.concat(parts, pending + this.queuedLen + len);
    this.end = this.buf.length;
    this.pos = 0;
    this.queued = [];
    this.queuedLen = 0;
    this.need = 0;
  }

  private bufBorrowed = false;

  /** Keep no view of a borrowed chunk: copy its unconsumed bytes (offsets are from `pos`, which
   *  the copy starts at). */
  own(): void {
    if (!this.bufBorrowed) return;
    this.bufBorrowed = false;
    const buf = this.buf;
    if (buf === null) return;
    if (this.pos >= this.end) {
      this.buf = null;
      this.pos = 0;
      return;
    }
    this.buf = Buffer.from(buf.subarray(this.pos, this.end));
    this.end = this.buf.length;
    this.pos = 0;
  }

  /** Bytes received but not yet consumed (for leak checks and tests). */
  get buffered(): number {
    return (this.buf ? this.end - this.pos : 0) + this.queuedLen;
  }

  /** 1 = a frame is ready, 0 = need more data, -1 = protocol error (see `error`). */
  next(): number {
    this.inline = null;
    this.oversize = 0;
    for (;;) {
      if (this.skipping) {
        const r = this.skipStep();
        if (r !== 1) return r;
        this.oversize = this.skipTotal;
        this.frameLen = 0;
        this.frameArgc = 0;
        return 1;
      }
      const buf = this.buf;
      const end = this.end;
      if (buf === null || this.pos >= end) return 0;
      if (this.argc < 0) {
        if (buf[this.pos] !== 42 /* '*' */) return this.parseInline(buf);
        const cr = findCR(buf, this.pos + 1, end);
        if (cr < 0 || cr + 1 >= end) {
          if (end - this.pos > PROTO_INLINE_MAX_SIZE) return this.fail('Protocol error: too big mbulk count string');
          this.need = end - this.pos + 1;
          return 0;
        }
        const n = parseIntAt(buf, this.pos + 1, cr);
        if (Number.isNaN(n) || n > INT_MAX) return this.fail('Protocol error: invalid multibulk length');
        if (n > UNAUTH_MAX_MULTIBULK && !this.authenticated) return this.fail('Protocol error: unauthenticated multibulk length');
        if (n <= 0) {
          this.pos = cr + 2;
          continue;
        }
        this.argc = n;
        this.argi = 0;
        this.scan = cr + 2 - this.pos;
      }
      while (this.argi < this.argc) {
        const p = this.pos + this.scan;
        if (p >= end) {
          this.need = this.scan + 1;
          return 0;
        }
        if (buf[p] !== 36 /* '$' */) {
          return this.fail(`Protocol error: expected '$', got '${String.fromCharCode(buf[p])}'`);
        }
        const cr = findCR(buf, p + 1, end);
        if (cr < 0 || cr + 1 >= end) {
          if (end - p > PROTO_INLINE_MAX_SIZE) return this.fail('Protocol error: too big bulk count string');
          this.need = end - this.pos + 1;
          return 0;
        }
        const len = parseIntAt(buf, p + 1, cr);
        if (Number.isNaN(len) || len < 0 || len > PROTO_MAX_BULK_LEN) return this.fail('Protocol error: invalid bulk length');
        if (len > UNAUTH_MAX_BULK && !this.authenticated) return this.fail('Protocol error: unauthenticated bulk length');
        const bodyAt = cr + 2 - this.pos;
        if (this.argi < MAX_ARGS_KEPT) {
          this.argOff[this.argi] = bodyAt;
          this.argLen[this.argi] = len;
        }
        this.argi++;
        this.scan = bodyAt + len + 2;
        if (this.maxRequestBytes > 0 && this.scan > this.maxRequestBytes) {
          this.startSkipping();
          return this.next();
        }
      }
      if (this.pos + this.scan > end) {
        this.need = this.scan;
        return 0;
      }
      this.frameLen = this.scan;
      this.frameArgc = this.argc;
      return 1;
    }
  }

  /** Consume the frame returned by next(). */
  advance(): void {
    if (this.inline !== null) {
      this.pos += this.inlineRaw;
      this.inline = null;
    } else if (this.oversize === 0) {
      this.pos += this.frameLen;
    }
    this.argc = -1;
    this.oversize = 0;
    if (this.buf !== null && this.pos >= this.end) {
      this.buf = null;
      this.pos = 0;
    }
  }

  /** Argument i of the current frame (i < MAX_ARGS_KEPT). */
  arg(i: number): Buffer {
    if (this.inline !== null) return this.inlineArgs[i];
    const s = this.pos + this.argOff[i];
    return this.buf!.subarray(s, s + this.argLen[i]);
  }

  argString(i: number): string {
    if (this.inline !== null) return this.inlineArgs[i].toString();
    const s = this.pos + this.argOff[i];
    return this.buf!.toString('utf8', s, s + this.argLen[i]);
  }

  /** Raw bytes of argument 0 as latin1 (a cheap map key for the command name). */
  nameKey(): string {
    if (this.inline !== null) return this.inlineArgs[0].toString('latin1');
    const s = this.pos + this.argOff[0];
    return (this.buf as unknown as {latin1Slice(s: number, e: number): string}).latin1Slice(s, s + this.argLen[0]);
  }

  /** The bytes of the current frame as RESP. */
  frameBytes(): Buffer {
    if (this.inline !== null) return this.inline;
    return this.buf!.subarray(this.pos, this.pos + this.frameLen);
  }

  private inlineArgs: Buffer[] = [];

  private parseInline(buf: Buffer): number {
    let nl = -1;
    for (let i = this.pos; i < this.end; i++) {
      if (buf[i] === LF) {
        nl = i;
        break;
      }
    }
    if (nl < 0) {
      if (this.end - this.pos > PROTO_INLINE_MAX_SIZE) return this.fail('Protocol error: too big inline request');
      this.need = this.end - this.pos + 1;
      return 0;
    }
    let end = nl;
    if (end > this.pos && buf[end - 1] === CR) end--;
    const args = splitInline(buf.toString('latin1', this.pos, end));
    if (args === null) return this.fail('Protocol error: unbalanced quotes in request');
    if (args.length === 0) {
      this.pos = nl + 1;
      return this.next();
    }
    if (!this.authenticated && args.length > UNAUTH_MAX_MULTIBULK) {
      return this.fail('Protocol error: unauthenticated multibulk length');
    }
    this.inlineArgs = args;
    this.inline = encodeCommand(args);
    this.inlineRaw = nl + 1 - this.pos;
    this.frameArgc = args.length;
    this.frameLen = this.inline.length;
    if (this.maxRequestBytes > 0 && this.inline.length > this.maxRequestBytes) {
      this.pos = nl + 1;
      this.inline = null;
      this.oversize = this.inlineRaw;
      this.frameLen = 0;
    }
    return 1;
  }

  private startSkipping(): void {
    if (this.queuedLen > 0) {
      this.buf = Buffer.concat([this.buf!.subarray(this.pos, this.end), ...this.queued]);
      this.end = this.buf.length;
      this.pos = 0;
    }
    const buf = this.buf!;
    this.skipping = true;
    this.skipTotal = this.scan;
    this.skipArgs = this.argc - this.argi;
    const end = this.pos + this.scan;
    if (end <= this.end) {
      this.pos = end;
      this.skipBody = 0;
    } else {
      this.skipBody = end - this.end;
      this.buf = null;
      this.pos = 0;
    }
    this.queued = [];
    this.queuedLen = 0;
    this.need = 0;
    this.argc = -1;
  }

  private skipStep(): number {
    for (;;) {
      const buf = this.buf;
      const avail = buf === null ? 0 : this.end - this.pos;
      if (this.skipBody > 0) {
        const take = Math.min(this.skipBody, avail);
        this.pos += take;
        this.skipBody -= take;
        if (this.skipBody > 0) {
          this.buf = null;
          this.pos = 0;
          return 0;
        }
        continue;
      }
      if (this.skipArgs === 0) {
        this.skipping = false;
        if (buf !== null && this.pos >= this.end) {
          this.buf = null;
          this.pos = 0;
        }
        return 1;
      }
      if (buf === null || avail === 0) return 0;
      if (buf[this.pos] !== 36) return this.fail(`Protocol error: expected '$', got '${String.fromCharCode(buf[this.pos])}'`);
      const cr = findCR(buf, this.pos + 1, this.end);
      if (cr < 0 || cr + 1 >= this.end) {
        if (avail > PROTO_INLINE_MAX_SIZE) return this.fail('Protocol error: too big bulk count string');
        this.need = avail + 1;
        return 0;
      }
      const len = parseIntAt(buf, this.pos + 1, cr);
      if (Number.isNaN(len) || len < 0 || len > PROTO_MAX_BULK_LEN) return this.fail('Protocol error: invalid bulk length');
      this.skipTotal += cr + 2 - this.pos + len + 2;
      this.skipBody = len + 2;
      this.skipArgs--;
      this.pos = cr + 2;
    }
  }

  private fail(msg: string): number {
    this.error = msg;
    this.buf = null;
    this.queued = [];
    this.skipping = false;
    return -1;
  }
}

/** Splits an inline command like Redis's sdssplitargs (quotes, \xHH and escapes). */
export function splitInline(line: string): Buffer[] | null {
  const out: Buffer[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    const bytes: number[] = [];
    let inq = false;
    let insq = false;
    for (;;) {
      if (inq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === '\\' && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          bytes.push(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = line[i];
          const map: Record<string, number> = {n: 10, r: 13, t: 9, b: 8, a: 7};
          bytes.push(map[e] ?? e.charCodeAt(0));
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          inq = false;
          i++;
          break;
        } else bytes.push(c.charCodeAt(0) & 0xff);
      } else if (insq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === '\\' && line[i + 1] === "'") {
          i++;
          bytes.push(39);
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          insq = false;
          i++;
          break;
        } else bytes.push(c.charCodeAt(0) & 0xff);
      } else {
        if (i >= n) break;
        const c = line[i];
        if (isSpace(c)) break;
        if (c === '"') inq = true;
        else if (c === "'") insq = true;
        else bytes.push(c.charCodeAt(0) & 0xff);
      }
      i++;
    }
    out.push(Buffer.from(bytes));
  }
}
