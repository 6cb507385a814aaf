// A connection from the gateway to one redis-server, authenticated with the internal secret.
// Shared upstreams carry many clients' commands (one FIFO of owners); a pinned upstream belongs
// to one client. Replies are scanned only to know whose they are, and forwarded as slices of
// the bytes Redis sent.
import type * as net from 'node:net';
import {batchedIoUsable, lendBatch} from '../net/batched-io';
import {BORROWED_READ_BYTES, borrowedConnectReads, connectInBatches, LendableBuffer, rangeBuffer} from '../net/borrowed-reads';
import {dial} from '../net/dial';
import {encodeCommand} from './resp';
import {lastInteger, pubsubKind} from './pubsub-frames';
import {ReplyScanner} from './reply';
import {OutputBuffer, releaseAtTurnEnd, TurnWriter, writeAtTurnEnd} from './upstream-output';
import {Setup} from './upstream-setup';
import {ReplyOwners} from './reply-owners';
import {Endpoint, ReplySink} from './types';

export type {ReplySink};

const OOM_PREFIX = Buffer.from("-OOM command not allowed when used memory > 'maxmemory'.");

const SETNAME_PINNED = encodeCommand(['CLIENT', 'SETNAME', 'redfly-pinned']);

// The PING of a barrier: this Buffer instance marks its place among held writes.
const BARRIER_PING = encodeCommand(['PING']);

export interface UpstreamOptions {
  endpoint: Endpoint;
  user: string;
  secret: string;
  proto: 2 | 3;
  /** Simulated round trip added to each request (ms). */
  delayMs: number;
  /** The client this connection belongs to; null = shared (or a spare, see `spare`). */
  pinnedTo: ReplySink | null;
  /** A ready connection kept for the next client that needs a pinned one (see adopt()). */
  spare?: boolean;
  /** Rewrites Redis's OOM error (the data-size quota) into the service's text. */
  oomText: () => string;
  onClose: (u: Upstream) => void;
  log: (msg: string) => void;
}

export class Upstream implements TurnWriter {
  readonly sock: net.Socket;
  readonly endpoint: Endpoint;
  pinnedTo: ReplySink | null;
  /** Connected and authenticated (every setup reply is in). */
  ready = false;
  /** Called once when the connection becomes ready. */
  onReady: (() => void) | null = null;
  /** Passthrough: every reply frame goes to the pinned owner, nothing is counted (CLIENT REPLY). */
  passthrough = false;
  /** Has sent (un)subscribe commands: Pub/Sub frames may arrive, see `outOfBand`. */
  pubsub = false;
  /** Protocol of this connection (HELLO changes it). */
  proto: 2 | 3;
  // Subscriptions of this connection as Redis counts them (from the confirmations): channels
  // and patterns together, and shard channels. RESP2 subscribed mode is "either above 0".
  private subs = 0;
  private shardSubs = 0;
  closed = false;
  // Who is owed the replies, in order.
  private readonly owed = new ReplyOwners();
  private readonly scanner = new ReplyScanner();
  private carry: Buffer | null = null;
  private isCorked = false;
  // Sent and not yet written (upstream-output.ts).
  private readonly out = new OutputBuffer(() => this.pinnedTo === null);
  // Input of a shared plain connection: one buffer read into again until a sink keeps a view of
  // it (lend()).
  private readonly input = new LendableBuffer();
  private readonly inBorrowed: boolean;
  /** Its reads come from the native batch (their bytes are the batch's buffer). */
  private readonly batched: boolean;
  /** Plain TCP (not TLS): writes may go straight to its descriptor (writeDirect()). */
  private readonly plain: boolean;
  private readonly drainWaiters = new Set<() => void>();
  private readonly delayMs: number;
  private readonly oomText: () => string;
  private readonly onCloseCb: (u: Upstream) => void;

  constructor(opts: UpstreamOptions) {
    this.endpoint = opts.endpoint;
    this.proto = opts.proto;
    this.pinnedTo = opts.pinnedTo;
    this.delayMs = opts.delayMs;
    this.oomText = opts.oomText;
    this.onCloseCb = opts.onClose;
    // A shared connection carries many clients' replies: its reads borrow one buffer. Pinned ones
    // (one client each, and many of them) keep Node's own buffer per read.
    this.plain = !opts.endpoint.tls;
    this.inBorrowed = opts.pinnedTo === null && opts.spare !== true && this.plain;
    // Read by the native batch where it is built (batched-io.ts), else with Node's onread.
    this.batched = this.inBorrowed && batchedIoUsable();
    const {host, port, tls} = opts.endpoint;
    this.sock = this.inBorrowed && !this.batched
      ? dial(host, port, null, borrowedConnectReads(() => this.input.next(), (b, s, e) => this.onData(b, s, e)))
      : dial(host, port, tls);
    if (this.batched) connectInBatches(this.sock, (b, s, e) => this.onData(b, s, e));
    this.sock.setKeepAlive(true);
    if (!this.inBorrowed) this.sock.on('data', (c: Buffer) => this.onData(c, 0, c.length));
    this.sock.on('drain', () => this.wakeDrainWaiters());
    this.sock.on('error', (e) => this.fail(`backend ${opts.endpoint.host}:${opts.endpoint.port}: ${e.message}`));
    this.sock.on('close', () => this.fail('backend connection closed'));
    const setup = new Setup((text) => {
      opts.log(`gateway: backend ${opts.endpoint.port} refused setup: ${text}`);
      this.sock.destroy();
    }, () => {
      this.ready = true;
      const cb = this.onReady;
      this.onReady = null;
      if (cb !== null) cb();
    });
    // Queued before the socket connects; net.Socket holds writes until then.
    setup.expect(opts.proto === 3 ? 2 : 1);
    this.send(encodeCommand(['AUTH', opts.user, opts.secret]), setup, 1);
    if (opts.proto === 3) this.send(encodeCommand(['HELLO', '3']), setup, 1);
    // Named so an operator (and a test) can tell the gateway's connections apart in CLIENT LIST.
    // Only a label: a database's own user (ACL SETUSER ... +@read) may not be allowed CLIENT
    // SETNAME, and Redis refusing it must not cost the connection, so its reply is dropped.
    const name = opts.spare ? 'redfly-spare' : opts.pinnedTo === null ? 'redfly-shared' : 'redfly-pinned';
    this.sendDiscarded(encodeCommand(['CLIENT', 'SETNAME', name]));
  }

  /** A spare becomes `owner`'s pinned connection. Its setup is done (or queued ahead), so the
   *  owner's first command goes out in this event-loop turn, as a shared one would. */
  adopt(owner: ReplySink): void {
    this.pinnedTo = owner;
    this.sendDiscarded(SETNAME_PINNED);
  }

  /** Forward the request bytes buf[start, end) (all of buf by default); `n` replies will be owed
   *  to `owner`. The bytes may be reused once this returns (copied when kept). */
  send(buf: Buffer, owner: ReplySink | null, n: number, start = 0, end = buf.length): void {
    // Nothing owed yet: a lone request (one client, or the first after a lull) goes out now
    // rather than at the end of the event-loop turn.
    const idle = this.owed.empty;
    if (n > 0) this.owed.push(owner, n);
    if (this.delayMs > 0) {
      const copy = Buffer.from(rangeBuffer(buf, start, end));
      setTimeout(() => {
        if (!this.closed) this.sock.write(copy);
      }, this.delayMs);
      return;
    }
    if (this.held !== null) {
      this.held.push(Buffer.from(rangeBuffer(buf, start, end)));
      this.heldBytes += end - start;
      return;
    }
    if (end - start > BORROWED_READ_BYTES) {
      // Longer than any borrowed chunk, so it is the caller's own: written as it is, in order.
      this.out.writeTo(this.sock, this.plain);
      this.sock.write(rangeBuffer(buf, start, end));
      return;
    }
    if (idle && !this.isCorked) {
      // Nothing buffered either (only a corked connection buffers): written from the caller's
      // bytes, without a copy.
      this.out.writeNow(this.sock, this.plain, buf, start, end);
      return;
    }
    this.out.append(buf, start, end);
    if (!this.isCorked) {
      this.isCorked = true;
      writeAtTurnEnd(this);
    }
  }

  /** `bytes` of a read, to be kept past it: a copy when reads are borrowed. */
  private keep(bytes: Buffer): Buffer {
    return this.inBorrowed ? Buffer.from(bytes) : bytes;
  }

  private wakeDrainWaiters(): void {
    const ws = [...this.drainWaiters];
    this.drainWaiters.clear();
    for (const w of ws) w();
  }

  /** A sink keeps a view of the bytes it was delivered past its call (e.g. a client socket that
   *  could not write them at once): this connection's next read goes to a new buffer. */
  lend(): void {
    if (this.batched) lendBatch();
    else this.input.lend();
  }

  // Barrier: writes wait here until Redis has answered a PING written after the flush.
  private held: Buffer[] | null = null;
  private heldBytes = 0;
  private barrierOut = false; // a barrier PING is written and not yet answered
  private releaseQueued = false;
  private readonly barrierSink: ReplySink = {
    deliver: (_b, _s, _e, complete) => {
      if (complete === 0) return;
      this.barrierOut = false;
      this.queueRelease();
    },
    upstreamLost: () => {},
  };

  /**
   * Commands sent on this connection from now on reach Redis only after everything written to
   * any upstream in this event-loop turn has been read by Redis. Used after a blocking command
   * went out on a pinned connection: a command another client sends after it must not overtake
   * it. Two connections written microseconds apart are read by Redis in the order its epoll
   * reports them, and a busy connection is reported first; Redis answers a PING only after the
   * event-loop iteration that read it, which also read every connection written before it.
   */
  barrier(): void {
    if (this.closed || this.delayMs > 0) return;
    this.owed.push(this.barrierSink, 1);
    if (this.held === null) this.held = [];
    this.held.push(BARRIER_PING);
    this.queueRelease();
  }

  private queueRelease(): void {
    if (this.releaseQueued) return;
    this.releaseQueued = true;
    releaseAtTurnEnd(this);
  }

  /** After this turn's flush: held writes up to and including the next barrier PING. */
  writeHeld(): void {
    this.releaseQueued = false;
    const held = this.held;
    if (held === null || this.barrierOut || this.closed) return;
    this.out.writeTo(this.sock, this.plain);
    this.sock.cork();
    let i = 0;
    for (; i < held.length; i++) {
      const b = held[i];
      this.sock.write(b);
      if (b === BARRIER_PING) {
        this.barrierOut = true;
        i++;
        break;
      }
      this.heldBytes -= b.length;
    }
    this.sock.uncork();
    if (i === held.length) {
      if (!this.barrierOut) this.held = null;
      else held.length = 0;
    } else {
      held.splice(0, i);
    }
  }

  /** Internal command whose reply is dropped. */
  sendDiscarded(bytes: Buffer): void {
    this.send(bytes, null, 1);
  }

  uncork(): void {
    this.isCorked = false;
    this.out.writeTo(this.sock, this.plain);
  }

  /** Backpressure towards a client that writes faster than this backend takes. */
  get congested(): boolean {
    return this.sock.writableLength + this.out.length + this.heldBytes > 1024 * 1024;
  }

  onDrain(fn: () => void): void {
    this.drainWaiters.add(fn);
  }

  /** Replies still owed (for tests and leak checks). */
  get pending(): number {
    return this.owed.pending;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.destroy();
    this.onCloseCb(this);
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.destroy();
    this.onCloseCb(this);
    const lost = this.owed.clear();
    for (const o of lost) o.upstreamLost(this, reason);
    if (this.pinnedTo !== null && !lost.includes(this.pinnedTo)) this.pinnedTo.upstreamLost(this, reason);
    // Whoever waited for this connection to drain would wait forever: let it go on (elsewhere).
    this.wakeDrainWaiters();
    this.held = null;
    this.heldBytes = 0;
  }

  /** The backend's bytes buf[start, end). */
  private onData(buf: Buffer, start: number, end: number): void {
    let data = buf;
    if (this.carry !== null) {
      data = Buffer.concat([this.carry, buf.subarray(start, end)]);
      start = 0;
      end = data.length;
      this.carry = null;
    }
    const sc = this.scanner;
    let p = start;
    let segStart = start;
    let cur: ReplySink | null | undefined = undefined; // undefined = no segment open
    let curCount = 0;
    for (;;) {
      const e = sc.scan(data, p, end);
      if (e < 0 && this.pubsub && this.pinnedTo !== null) {
        // Whether a reply is a message can only be told from its start, so on a subscribed
        // connection an unfinished one waits whole for the rest of its bytes.
        if (cur !== undefined) this.emit(cur, data, segStart, p, curCount);
        if (p < end) this.carry = this.keep(data.subarray(p, end));
        sc.reset();
        return;
      }
      if (e < 0) {
        const stop = sc.stopAt;
        if (stop > p) {
          // The unfinished reply belongs to whoever is at the head now.
          const owner = this.headOwner();
          if (cur === undefined) segStart = p;
          else if (owner !== cur) {
            this.emit(cur, data, segStart, p, curCount);
            segStart = p;
            curCount = 0;
          }
          cur = owner;
        }
        if (cur !== undefined) this.emit(cur, data, segStart, stop, curCount);
        if (stop < end) this.carry = this.keep(data.subarray(stop, end));
        return;
      }
      let owner: ReplySink | null;
      let counted = true;
      if (this.pinnedTo !== null && (sc.push || (this.pubsub && this.outOfBand(data, p, e)))) {
        owner = this.pinnedTo;
        counted = false;
      } else if (!this.owed.empty) {
        // Before passthrough traffic: the replies to this connection's own AUTH/HELLO.
        owner = this.owed.first as ReplySink | null;
      } else if (this.passthrough) {
        owner = this.pinnedTo;
        counted = false;
      } else {
        // A reply nobody asked for (e.g. a push on a shared connection): drop it.
        owner = null;
        counted = false;
      }
      if (owner !== cur) {
        if (cur !== undefined) this.emit(cur, data, segStart, p, curCount);
        segStart = p;
        curCount = 0;
        cur = owner;
      }
      if (counted) {
        curCount++;
        this.owed.take();
      }
      if (sc.lineStart >= 0 && data[p] === 45 && this.isOom(data, p, e)) {
        const before = counted ? curCount - 1 : curCount;
        this.emit(cur, data, segStart, p, before);
        const retried = counted && cur !== null && cur.retryOom !== undefined && cur.retryOom(this);
        if (!retried) {
          const text = Buffer.from(`-${this.oomText()}\r\n`);
          this.emit(cur, text, 0, text.length, curCount - before);
        }
        curCount = 0;
        segStart = e;
      }
      p = e;
    }
  }

  /**
   * A RESP2 frame at [p, e) is a Pub/Sub message or confirmation, not a reply, by protocol: the
   * connection is in subscribed mode (where Redis answers nothing else shaped so), or the
   * confirmations of an (un)subscribe are due. Never by shape alone: `LRANGE` of a list holding
   * "message", "x", "y" is a reply. (RESP3 marks these as pushes.)
   */
  private outOfBand(data: Buffer, p: number, e: number): boolean {
    if (this.proto === 3) return false;
    const due = this.owed.first?.confirms === true;
    if (!due && this.subs + this.shardSubs === 0) return false;
    const kind = pubsubKind(data, p);
    if (kind === null) return false;
    if (kind !== 'message' && kind !== 'pmessage' && kind !== 'smessage') {
      const count = lastInteger(data, p, e);
      if (kind === 'ssubscribe' || kind === 'sunsubscribe') this.shardSubs = count;
      else this.subs = count;
    }
    return true;
  }

  private emit(owner: ReplySink | null, buf: Buffer, start: number, end: number, complete: number): void {
    if (owner === null || (end === start && complete === 0)) return;
    owner.deliver(buf, start, end, complete, this);
  }

  private headOwner(): ReplySink | null {
    const first = this.owed.first;
    return first !== undefined ? first : this.pinnedTo;
  }

  private isOom(data: Buffer, s: number, e: number): boolean {
    if (e - s < OOM_PREFIX.length) return false;
    return data.compare(OOM_PREFIX, 0, OOM_PREFIX.length, s, s + OOM_PREFIX.length) === 0;
  }
}
