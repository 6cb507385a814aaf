/**
 * Reply-side helpers: error and bulk reply encoding, and the streaming scanner that finds where
 * each backend reply ends. Split from `resp.ts` (the request framing parser).
 */
import {parseIntAt} from './resp';

const LF = 10;

/** A RESP error reply `-<text>\r\n` (line breaks in `text` become spaces). */
export function errorReply(text: string): Buffer {
  return Buffer.from(`-${text.replace(/[\r\n]+/g, ' ')}\r\n`);
}

/** A bulk string reply as text; null is RESP3's `_` or RESP2's `$-1` by `proto`. */
export function bulk(s: string | null, proto: number): string {
  if (s === null) return proto === 3 ? '_\r\n' : '$-1\r\n';
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

/**
 * Streaming reply scanner: finds where each top-level reply ends, across chunk boundaries,
 * without holding reply bodies. Lines (headers, simple replies) are never split by the caller:
 * when one is incomplete the scanner stops at its start and the caller carries those bytes.
 */
export class ReplyScanner {
  private stack: number[] = [];
  private attr: boolean[] = [];
  private bodyLeft = 0;
  /** Where scanning stopped when scan() returned -1. */
  stopAt = 0;
  /** The frame just returned was an out-of-band RESP3 push (`>`). */
  push = false;
  /** Start of the frame just returned when it was a single line (for error rewriting), else -1. */
  lineStart = -1;
  private topIsPush = false;
  private frameStart = 0;

  get midFrame(): boolean {
    return this.stack.length > 0 || this.bodyLeft > 0;
  }

  reset(): void {
    this.stack = [];
    this.attr = [];
    this.bodyLeft = 0;
  }

  /** End offset of the next complete top-level reply starting at p (the bytes are buf[p, end)),
   *  or -1 (see stopAt). */
  scan(buf: Buffer, p: number, end = buf.length): number {
    for (;;) {
      if (this.bodyLeft > 0) {
        const avail = end - p;
        if (avail < this.bodyLeft) {
          this.bodyLeft -= avail;
          this.stopAt = end;
          return -1;
        }
        p += this.bodyLeft;
        this.bodyLeft = 0;
        const done = this.complete();
        if (done) return p;
        continue;
      }
      if (p >= end) {
        this.stopAt = p;
        return -1;
      }
      let nl = -1;
      for (let i = p + 1; i < end; i++) {
        if (buf[i] === LF) {
          nl = i;
          break;
        }
      }
      if (nl < 0) {
        this.stopAt = p;
        return -1;
      }
      const type = buf[p];
      const top = this.stack.length === 0;
      if (top) {
        this.frameStart = p;
        this.topIsPush = type === 62; // '>'
      }
      switch (type) {
        case 36: // $ bulk
        case 33: // ! blob error
        case 61: {
          // = verbatim
          const n = parseIntAt(buf, p + 1, nl - 1);
          p = nl + 1;
          if (n >= 0) {
            this.bodyLeft = n + 2;
            continue;
          }
          break;
        }
        case 42: // * array
        case 126: // ~ set
        case 62: // > push
        case 37: // % map
        case 124: {
          // | attribute
          let n = parseIntAt(buf, p + 1, nl - 1);
          p = nl + 1;
          if (type === 37 || type === 124) n *= 2;
          if (n > 0) {
            this.stack.push(n);
            this.attr.push(type === 124);
            continue;
          }
          if (type === 124) continue; // an empty attribute precedes the real reply
          break;
        }
        default:
          // + - : _ , # ( and anything unknown: one line
          p = nl + 1;
          if (top) {
            this.lineStart = this.frameStart;
            this.push = false;
            return p;
          }
      }
      if (this.complete()) return p;
    }
  }

  // One element finished; returns true when that completed a top-level reply.
  private complete(): boolean {
    for (;;) {
      const d = this.stack.length;
      if (d === 0) {
        this.push = this.topIsPush;
        this.lineStart = -1;
        return true;
      }
      const left = --this.stack[d - 1];
      if (left > 0) return false;
      this.stack.pop();
      const wasAttr = this.attr.pop();
      if (wasAttr) return false; // an attribute is followed by the reply it annotates
    }
  }
}
