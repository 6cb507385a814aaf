// The forwarding primitives of a session (session.ts): how a framed command reaches an upstream.
// Contiguous frames bound for one upstream are collected into a run and written together
// (Session.flushRun); a command bound elsewhere waits until the replies still owed are in, so
// pipelined order holds. Each returns false when the command must wait (it is retried later).
import {ensurePinned, primaryUp} from './routing';
import type {Session} from './session';
import {W_REPLIES, W_UPDRAIN} from './state';
import type {ReplySink, Upstream} from './upstream';

const MAX_IN_FLIGHT = 1024;

/** True when the current frame is bound for another upstream than the one that still owes this
 *  session replies; the session is then parked until they are in (pipelined order across upstreams). */
export function waitsForOwedReplies(sn: Session, up: Upstream): boolean {
  if (sn.current === null || sn.current === up || sn.sent === sn.recv) return false;
  sn.flushRun();
  sn.blocked |= W_REPLIES;
  return true;
}

/** Forward the current frame to `up` (collected into the session's run); `write` marks it for
 *  read-your-writes. */
export function forward(sn: Session, up: Upstream, write: boolean): boolean {
  if (!sn.st.passthrough && waitsForOwedReplies(sn, up)) return false;
  if (sn.sent - sn.recv >= MAX_IN_FLIGHT && !sn.st.passthrough) {
    // A client that pipelines without reading cannot make the gateway hold unbounded replies.
    sn.flushRun();
    sn.blocked |= W_REPLIES;
    return false;
  }
  if (up.congested) {
    sn.flushRun();
    sn.blocked |= W_UPDRAIN;
    up.onDrain(() => {
      sn.blocked &= ~W_UPDRAIN;
      sn.process();
    });
    return false;
  }
  if (!sn.admit()) return false;
  const p = sn.parser;
  const counted = sn.st.passthrough ? 0 : 1;
  if (p.inline !== null) {
    sn.flushRun();
    up.send(p.inline, sn, counted);
  } else {
    const buf = p.buf!;
    const start = p.pos;
    if (sn.runUp === up && sn.runBuf === buf && sn.runEnd === start) {
      sn.runEnd = start + p.frameLen;
      sn.runCount += counted;
    } else {
      sn.flushRun();
      sn.runUp = up;
      sn.runBuf = buf;
      sn.runStart = start;
      sn.runEnd = start + p.frameLen;
      sn.runCount = counted;
    }
  }
  if (counted) {
    sn.sent++;
    sn.current = up;
    if (write) sn.st.lastWriteSeq = sn.sent;
  }
  if (sn.st.inMulti) sn.st.queued++;
  return true;
}

/** Forward the current frame on the session's pinned connection, then run `after` if it went. */
export function forwardPinned(sn: Session, after: (() => void) | null): boolean {
  const ok = forward(sn, ensurePinned(sn), true);
  if (ok && after !== null) after();
  return ok;
}

/** Forward `bytes` (a rewritten command) to `up` in place of the current frame. */
export function forwardBytes(sn: Session, up: Upstream, bytes: Buffer): boolean {
  if (waitsForOwedReplies(sn, up)) return false;
  if (!sn.admit()) return false;
  sn.flushRun();
  up.send(bytes, sn, 1);
  sn.sent++;
  sn.current = up;
  if (sn.st.inMulti) sn.st.queued++;
  return true;
}

/** Forward the command, and pass its reply to the client through `fn` (whole, in order). */
export function forwardRewritten(
  sn: Session,
  fn: (reply: Buffer) => Buffer,
  on: Upstream | null = null,
): boolean {
  if (!sn.quiet()) return false;
  const up = on ?? (sn.st.watching || sn.st.sticky || sn.st.subscribed ? ensurePinned(sn) : primaryUp(sn));
  if (!sn.admit()) return false;
  sn.flushRun();
  const parts: Buffer[] = [];
  const sink: ReplySink = {
    deliver: (buf, start, end, complete, from) => {
      parts.push(Buffer.from(buf.subarray(start, end)));
      if (complete > 0) {
        const reply = fn(Buffer.concat(parts));
        sn.deliver(reply, 0, reply.length, complete, from);
      }
    },
    upstreamLost: (from, reason) => sn.upstreamLost(from, reason),
  };
  up.send(sn.parser.inline ?? sn.parser.frameBytes(), sink, 1);
  sn.sent++;
  sn.current = up;
  return true;
}

