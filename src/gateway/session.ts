// One client connection through the life of a request: bytes in (framing, backpressure,
// half-close), replies out. The rest lives along the same path:
//   forward.ts     the forwarding primitives (how a framed command reaches an upstream)
//   state.ts       what Redis would keep for the connection (ConnState)
//   dispatch.ts    what a framed command is and who handles it (the dispatch table)
//   connection.ts  the commands the gateway answers itself (AUTH, HELLO, SELECT, RESET, CLIENT)
//   routing.ts     which backend connection: read-your-writes, cursor affinity, pinning
//   db1.ts         the cache's database 1
// Replies for a client always come from one upstream at a time: before a command goes elsewhere
// (or is answered here), the session waits for the replies still owed, so pipelined order holds
// without reordering buffers. Members are internal to src/gateway (not private, as the modules
// above act on them).
import * as net from 'node:net';
import {pauseReads, readBorrowed, resumeReads} from '../net/borrowed-reads';
import {writeDirect, Written} from '../net/direct-write';
import type {Admission, Ticket} from './admission';
import {CommandInfo, CommandTable} from './commands';
import {RequestParser} from './resp';
import {errorReply} from './reply';
import {ClosableClient, TenantState} from './tenant';
import {ClientSettings, Endpoint, Tenant} from './types';
import {ReplySink, Upstream} from './upstream';
import {handle} from './dispatch';
import {coarseNow} from './clock';
import {ConnState, NoBackend, W_DRAIN, W_RATE, W_REPLIES} from './state';

export {NoBackend};

export interface SessionHost {
  readonly table: CommandTable | null;
  loadTable(ep: Endpoint): Promise<void>;
  serverVersion: string;
  lookupPassword(password: string): Tenant | undefined;
  /** The database of user `user` with a password of this SHA-256 (hex). */
  lookupUser(user: string, passwordSha256: string): Tenant | undefined;
  /** The internal users, which a database's own users can neither see nor touch. */
  readonly reservedUsers: ReadonlySet<string>;
  readonly saveClientSettings: ((tenantId: string, changed: ClientSettings) => void | Promise<void>) | undefined;
  tenantState(t: Tenant): TenantState;
  /** `pass` null = as the tenant user; else as database user `user` with that password. */
  shared(region: string, ep: Endpoint, proto: 2 | 3, ts: TenantState, epRegion: string, user: string, pass: string | null): Upstream;
  pinned(region: string, ep: Endpoint, proto: 2 | 3, ts: TenantState, epRegion: string, owner: ReplySink,
         user: string, pass: string | null): Upstream;
  /** A blocking command went out on `pinned`: what others send to its backend from now on
   *  must not overtake it (Upstream.barrier). */
  barrier(pinned: Upstream): void;
  sessionClosed(s: Session): void;
  nextClientId(): number;
  /** Admission control (admission.ts): output bounds, AUTH slowdown. */
  readonly admission: Admission;
}

const INPUT_PAUSE_BYTES = 1024 * 1024;

export class Session implements ReplySink, ClosableClient {
  readonly id: number;
  /** This connection's admission record (set by the gateway right after construction). */
  ticket: Ticket | null = null;
  readonly parser = new RequestParser();
  /** Everything Redis would keep for this connection (state.ts). */
  readonly st = new ConnState();
  readonly marker: ReplySink = {
    confirms: true,
    // The reply to the PING that follows an (un)subscribe: every confirmation is in by now.
    deliver: (_b, _s, _e, complete) => {
      if (complete === 0) return;
      this.st.markers -= complete;
      this.settle();
    },
    upstreamLost: () => {},
  };
  sent = 0;
  recv = 0;
  current: Upstream | null = null;
  blocked = 0;
  processing = false;
  closed = false;
  rateTimer: NodeJS.Timeout | null = null;
  rateReserved = false;
  // Contiguous frames bound for one upstream, written together.
  runUp: Upstream | null = null;
  runBuf: Buffer | null = null;
  runStart = 0;
  runEnd = 0;
  runCount = 0;
  // Cached routes, valid for one tenant version and protocol.
  routeKey = -1;
  upPrimary: Upstream | null = null;
  upRead: Upstream | null = null;
  cacheEp: Endpoint | null = null;

  constructor(
    readonly host: SessionHost,
    readonly region: string,
    readonly sock: net.Socket,
  ) {
    this.id = host.nextClientId();
    this.addr = `${sock.remoteAddress}:${sock.remotePort}`;
    this.laddr = `${sock.localAddress}:${sock.localPort}`;
    // A plain connection's bytes are borrowed (src/net/borrowed-reads.ts): valid during onData.
    this.plain = readBorrowed(sock, (b, s, e) => this.onData(b, s, e, true));
    if (!this.plain) {
      sock.on('data', (c: Buffer) => this.onData(c, 0, c.length, false));
      sock.resume(); // a socket the native batch could not take was left paused
    }
    sock.on('drain', () => this.onClientDrain());
    sock.on('end', () => {
      // Half-close: the client sent everything; like Redis, run it and answer it all, then close.
      this.inputEnded = true;
      this.finishIfDone();
    });
    sock.on('error', () => this.close());
    sock.on('close', () => this.close());
  }

  inputEnded = false;
  /** Plain TCP, accepted with borrowed reads: replies may be written to its descriptor directly. */
  readonly plain: boolean;
  readonly addr: string;
  readonly laddr: string;
  readonly createdAt = Date.now();
  lastCommandAt = this.createdAt;
  blockingSeq = 0; // the `sent` count of the last blocking command forwarded

  /** After a half-close: close once every complete command has run and been answered. */
  finishIfDone(): void {
    if (!this.inputEnded || this.closed || this.processing) return;
    if (this.blockingSeq > this.recv) {
      // Like Redis, a client blocked in BLPOP & co. that goes away is dropped, not waited for.
      this.close();
      return;
    }
    if (this.blocked !== 0) return;
    if (this.st.passthrough && this.st.pinnedUp !== null) {
      // Replies are not counted (CLIENT REPLY): pass the half-close on and end when Redis does.
      this.flushRun();
      this.st.pinnedUp.sock.end();
      return;
    }
    if (this.sent !== this.recv || this.st.markers !== 0) return;
    this.endWith(null);
  }

  get tenantId(): string | null {
    return this.st.ts?.tenant.id ?? null;
  }

  /** Read-your-writes carried from outside the connection (the REST API's sync token, see
   *  execute.ts): from now on its reads go to the region's replica only once the monitor has
   *  seen that replica reach epoch `epoch`. Call after authentication (AUTH resets it). */
  readAfter(epoch: number): void {
    if (epoch > this.st.needEpoch) this.st.needEpoch = epoch;
  }

  /** The monitor epoch a replica must reach before a read may see this connection's writes
   *  (0: none yet). */
  get syncEpoch(): number {
    return this.st.needEpoch;
  }

  kick(reason: string): void {
    void reason;
    this.close();
  }

  /** The client's bytes buf[start, end). `borrowed`: they are reused once this returns, so
   *  whatever is kept of them is copied: the parser's unconsumed bytes here, forwarded commands
   *  by Upstream.send(). */
  onData(buf: Buffer, start: number, end: number, borrowed: boolean): void {
    if (this.closed) return;
    if (this.st.ts !== null) this.st.ts.bandwidthToday += end - start;
    this.lastCommandAt = coarseNow();
    this.parser.push(buf, borrowed, start, end);
    this.process();
    if (borrowed) this.parser.own();
    // While commands wait (rate limit, earlier replies, a slow backend) stop reading, so a
    // client cannot make the gateway buffer without bound.
    if (this.blocked !== 0 && !this.readPaused && this.parser.buffered > INPUT_PAUSE_BYTES) {
      this.readPaused = true;
      pauseReads(this.sock);
    }
  }

  readPaused = false;

  process(): void {
    if (this.processing || this.closed) return;
    this.processing = true;
    try {
      while (!this.closed && this.blocked === 0) {
        const r = this.parser.next();
        if (r === 0) break;
        if (r < 0) {
          this.protocolError(`ERR ${this.parser.error}`);
          break;
        }
        let consumed: boolean;
        try {
          consumed = handle(this);
        } catch (e) {
          if (!(e instanceof NoBackend)) throw e;
          this.fail(`ERR ${e.message}`);
          consumed = true;
        }
        if (!consumed) break;
        this.parser.advance();
      }
      this.flushRun();
    } finally {
      this.processing = false;
    }
    if (this.readPaused && this.blocked === 0 && !this.closed) {
      this.readPaused = false;
      resumeReads(this.sock);
    }
    if (this.inputEnded) this.finishIfDone();
  }

  // ---- replies ---------------------------------------------------------------------------

  deliver(buf: Buffer, start: number, end: number, complete: number, from: Upstream): void {
    if (this.closed) return;
    if (end > start) {
      if (this.st.ts !== null) this.st.ts.bandwidthToday += end - start;
      const w = writeDirect(this.sock, buf, this.plain, start, end);
      // Not all written at once: the socket holds on to a view of `buf` (the upstream's read
      // buffer), which must then not be read into again.
      if (w !== Written.All) from.lend();
      if (w === Written.QueuedFull) this.clientCongested();
    }
    if (complete > 0) {
      this.guarded = null;
      this.recv += complete;
      if (this.st.lastWriteSeq !== 0 && this.recv >= this.st.lastWriteSeq && this.st.ts !== null) {
        this.st.needEpoch = this.st.ts.epoch + 1;
        this.st.lastWriteSeq = 0;
      }
      if (this.sent === this.recv) this.current = null;
      this.settle();
    }
  }

  /** Every reply owed has arrived: go on with what waited for that. */
  settle(): void {
    if (this.sent !== this.recv || this.st.markers !== 0 || this.closed) return;
    if (this.fatal !== null) {
      this.finishFatal();
      return;
    }
    if (this.blocked & W_REPLIES) {
      this.blocked &= ~W_REPLIES;
      this.process();
    } else if (this.inputEnded) this.finishIfDone();
  }

  upstreamLost(from: Upstream, reason: string): void {
    void reason;
    if (from === this.st.pinnedUp) this.st.pinnedUp = null;
    if (this.inputEnded && this.st.passthrough) {
      // The half-close passed on to Redis (CLIENT REPLY): it has answered what it would.
      this.endWith(null);
      return;
    }
    if (this.st.ts !== null && from === this.upRead && from !== this.upPrimary) {
      this.st.ts.replicaFailed(this.region);
    }
    // Replies owed by a dead backend cannot be produced: end the connection as Redis would.
    this.close();
  }

  /** The client is not reading its replies: stop reading its commands; past the output bound,
   *  disconnect it. A pinned connection's replies keep being read (not left in redis-server,
   *  where they would count against the plan's memory and make writes fail), so they fall under
   *  the same bound. */
  clientCongested(): void {
    if (this.host.admission.outputOver(this.ticket, this.sock.writableLength)) {
      this.close();
      return;
    }
    this.blocked |= W_DRAIN;
    this.readPaused = true;
    pauseReads(this.sock);
  }

  onClientDrain(): void {
    if (!(this.blocked & W_DRAIN)) return;
    this.blocked &= ~W_DRAIN;
    this.process();
  }

  write(bytes: Buffer | string): void {
    if (this.closed) return;
    const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    if (this.st.ts !== null) this.st.ts.bandwidthToday += b.length;
    // Replies the gateway makes itself (NOAUTH...) are held back like forwarded ones.
    if (!this.sock.write(b)) this.clientCongested();
  }

  // ---- the state machine ----------------------------------------------------------------

  /** Wait until no reply is owed; true when already so. */
  quiet(): boolean {
    if ((this.sent === this.recv && this.st.markers === 0) || this.st.passthrough) return true;
    this.flushRun();
    this.blocked |= W_REPLIES;
    return false;
  }

  /** Answer an error here; inside MULTI it also dooms the transaction, as Redis does. */
  fail(text: string): void {
    if (this.st.inMulti) this.st.multiFailed = true;
    this.write(errorReply(text));
  }

  /** Charge one command to the tenant; false = over the rate, retried later. */
  admit(): boolean {
    const ts = this.st.ts!;
    // A command delayed by the rate had its token reserved when it was first asked for.
    const wait = this.rateReserved ? 0 : ts.takeToken();
    this.rateReserved = false;
    if (wait > 0) {
      this.flushRun();
      this.rateReserved = true;
      this.blocked |= W_RATE;
      this.rateTimer = setTimeout(() => {
        this.rateTimer = null;
        this.blocked &= ~W_RATE;
        this.process();
      }, wait);
      return false;
    }
    ts.commandsToday++;
    return true;
  }

  // The last command name's bytes: pipelines mostly repeat a name, and comparing a few bytes is
  // cheaper than making a string to look it up.
  readonly lastName = Buffer.alloc(16);
  lastNameLen = -1;
  lastTop: CommandInfo | null = null;

  lookupName(table: CommandTable): CommandInfo | null {
    const p = this.parser;
    if (p.inline !== null) return table.lookupRaw(p.nameKey());
    const len = p.argLen[0];
    const buf = p.buf!;
    const s = p.pos + p.argOff[0];
    if (len === this.lastNameLen) {
      let i = 0;
      while (i < len && buf[s + i] === this.lastName[i]) i++;
      if (i === len) return this.lastTop;
    }
    const top = table.lookupRaw(p.nameKey());
    if (len <= 16) {
      buf.copy(this.lastName, 0, s, s + len);
      this.lastNameLen = len;
      this.lastTop = top;
    }
    return top;
  }

  /** A write near the data-size limit with eviction on, kept until Redis accepts it. */
  guarded: {bytes: Buffer; up: Upstream; tries: number} | null = null;

  retryOom(from: Upstream): boolean {
    const g = this.guarded;
    if (g === null || g.up !== from || g.tries >= 3 || this.st.ts === null) return false;
    g.tries++;
    this.st.ts.evictAnyKey().then(
      () => {
        if (!this.closed && !from.closed) from.send(g.bytes, this, 1);
      },
      () => {
        if (!this.closed && !from.closed) from.send(g.bytes, this, 1);
      },
    );
    return true;
  }

  flushRun(): void {
    if (this.runUp === null) return;
    const up = this.runUp;
    this.runUp = null;
    const buf = this.runBuf!;
    this.runBuf = null;
    // The backend broke while these commands were being collected: their replies are lost.
    if (up.closed) this.close();
    else up.send(buf, this, this.runCount, this.runStart, this.runEnd);
  }

  // ---- upstream choice -------------------------------------------------------------------

  // Cursor affinity: which copy started each open SCAN/HSCAN/SSCAN/ZSCAN iteration (by command
  // and key), so every later call continues on the copy whose cursor it carries.
  cursors: Map<string, boolean> | null = null; // true = the region's replica

  // ---- commands answered here ------------------------------------------------------------

  protocolError(text: string): void {
    // Redis answers the earlier commands, then the error, then closes.
    this.flushRun();
    this.fatal = text;
    if ((this.sent === this.recv && this.st.markers === 0) || this.st.passthrough) this.finishFatal();
    else this.blocked |= W_REPLIES;
  }

  fatal: string | null = null;

  finishFatal(): void {
    this.endWith(errorReply(this.fatal!));
  }

  /** Last words, then close once they are flushed (or after 5 s if the client does not read). */
  endWith(bytes: Buffer | null): void {
    if (bytes !== null) this.write(bytes);
    this.closed = true;
    this.host.sessionClosed(this);
    this.cleanup();
    this.sock.end();
    setTimeout(() => this.sock.destroy(), 5000).unref();
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.host.sessionClosed(this);
    this.cleanup();
    this.sock.destroy();
  }

  cleanup(): void {
    if (this.rateTimer !== null) clearTimeout(this.rateTimer);
    this.rateTimer = null;
    if (this.st.ts !== null) this.st.ts.clients.delete(this);
    // A pinned connection goes with its client: Redis drops its MULTI, WATCH, subscriptions
    // and blocked commands, so nothing half-done survives the client.
    if (this.st.pinnedUp !== null) this.st.pinnedUp.close();
    this.st.pinnedUp = null;
  }
}
