// One client connection: authentication, the transaction/pinning state machine, plan limits,
// and routing of each command to the right upstream. Replies for a client always come from one
// upstream at a time: before a command goes elsewhere (or is answered here), the session waits
// for the replies still owed, so pipelined order holds without reordering buffers.
import * as net from 'node:net';
import {CONFIG_SETTABLE, rewriteConfigGet} from './config';
import {ClientView, clientLine, filterInfo, killFilter, rewriteRole, rewriteText, verbatim} from './introspect';
import {arityOk, CommandInfo, CommandTable, Route, Special} from './commands';
import {bulk, encodeCommand, errorReply, MAX_ARGS_KEPT, parseIntAt, RequestParser} from './resp';
import {ClosableClient, TenantState} from './tenant';
import {Endpoint, Tenant, VirtualDbResult} from './types';
import {ReplySink, Upstream} from './upstream';

export interface SessionHost {
  readonly table: CommandTable | null;
  loadTable(ep: Endpoint): Promise<void>;
  serverVersion: string;
  lookupPassword(password: string): Tenant | undefined;
  tenantState(t: Tenant): TenantState;
  shared(region: string, ep: Endpoint, proto: 2 | 3, ts: TenantState, epRegion: string): Upstream;
  pinned(region: string, ep: Endpoint, proto: 2 | 3, ts: TenantState, epRegion: string, owner: ReplySink): Upstream;
  sessionClosed(s: Session): void;
  nextClientId(): number;
}

// Reasons a session stops reading its parsed commands.
const W_REPLIES = 1; // replies still owed by another upstream / before a local answer
const W_RATE = 2;
const W_DRAIN = 4; // client is not reading its replies
const W_UPDRAIN = 8; // backend is not taking our writes
const W_ASYNC = 16; // waiting for the command table or the virtual database
const OUTPUT_HARD_LIMIT = 512 * 1024 * 1024;
const INPUT_PAUSE_BYTES = 1024 * 1024;
const MAX_IN_FLIGHT = 1024;

const OK = Buffer.from('+OK\r\n');
const NOAUTH = errorReply('NOAUTH Authentication required.');
const WRONGPASS = errorReply('WRONGPASS invalid username-password pair or user is disabled.');
const EXECABORT = errorReply('EXECABORT Transaction discarded because of previous errors.');
const DISCARD_CMD = encodeCommand(['DISCARD']);
const SELECT_BAD = encodeCommand(['SELECT', '-1']);
const WAIT_BUMP = encodeCommand(['PUBLISH', '__redfly__:wait', '']);
const PING_CMD = encodeCommand(['PING']);
const PER_CONNECTION_CLIENT = new Set(['client|tracking', 'client|caching',
  'client|getredir', 'client|trackinginfo', 'client|no-touch']);

export class Session implements ReplySink, ClosableClient {
  readonly id: number;
  private readonly parser = new RequestParser();
  private ts: TenantState | null = null;
  private proto: 2 | 3 = 2;
  private name: string | null = null;
  private db = 0;
  private pinnedUp: Upstream | null = null;
  private inMulti = false;
  private multiFailed = false;
  private watching = false;
  private sticky = false; // connection-level state lives on the pinned connection (tracking...)
  private passthrough = false; // CLIENT REPLY: the pinned connection talks to the client directly
  subscribed = false; // Pub/Sub: messages arrive out of band on the pinned connection
  private markers = 0; // PINGs sent after (un)subscribe commands, not yet answered
  private readonly marker: ReplySink = {
    confirms: true,
    // The reply to the PING that follows an (un)subscribe: every confirmation is in by now.
    deliver: (_b, complete) => {
      if (complete === 0) return;
      this.markers -= complete;
      this.settle();
    },
    upstreamLost: () => {},
  };
  private sent = 0;
  private recv = 0;
  private current: Upstream | null = null;
  private lastWriteSeq = 0;
  private needEpoch = 0;
  private blocked = 0;
  private processing = false;
  private closed = false;
  private rateTimer: NodeJS.Timeout | null = null;
  // Contiguous frames bound for one upstream, written together.
  private runUp: Upstream | null = null;
  private runBuf: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;
  private runCount = 0;
  // Cached routes, valid for one tenant version and protocol.
  private routeKey = -1;
  private upPrimary: Upstream | null = null;
  private upRead: Upstream | null = null;
  private cacheEp: Endpoint | null = null;

  constructor(
    private readonly host: SessionHost,
    readonly region: string,
    private readonly sock: net.Socket,
  ) {
    this.id = host.nextClientId();
    this.addr = `${sock.remoteAddress}:${sock.remotePort}`;
    this.laddr = `${sock.localAddress}:${sock.localPort}`;
    sock.on('data', (c: Buffer) => this.onData(c));
    sock.on('drain', () => this.onClientDrain());
    sock.on('end', () => {
      // Half-close: the client sent everything; like Redis, run it and answer it all, then close.
      this.inputEnded = true;
      this.finishIfDone();
    });
    sock.on('error', () => this.close());
    sock.on('close', () => this.close());
  }

  private inputEnded = false;
  private readonly addr: string;
  private readonly laddr: string;
  private readonly createdAt = Date.now();
  private lastCommandAt = this.createdAt;
  private blockingSeq = 0; // the `sent` count of the last blocking command forwarded

  /** After a half-close: close once every complete command has run and been answered. */
  private finishIfDone(): void {
    if (!this.inputEnded || this.closed || this.processing) return;
    if (this.blockingSeq > this.recv) {
      // Like Redis, a client blocked in BLPOP & co. that goes away is dropped, not waited for.
      this.close();
      return;
    }
    if (this.blocked !== 0) return;
    if (this.passthrough && this.pinnedUp !== null) {
      // Replies are not counted (CLIENT REPLY): pass the half-close on and end when Redis does.
      this.flushRun();
      this.pinnedUp.sock.end();
      return;
    }
    if (this.sent !== this.recv || this.markers !== 0) return;
    this.endWith(null);
  }

  get tenantId(): string | null {
    return this.ts?.tenant.id ?? null;
  }

  kick(reason: string): void {
    void reason;
    this.close();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.ts !== null) this.ts.bandwidthToday += chunk.length;
    this.lastCommandAt = Date.now();
    this.parser.push(chunk);
    this.process();
    // While commands wait (rate limit, earlier replies, a slow backend) stop reading, so a
    // client cannot make the gateway buffer without bound.
    if (this.blocked !== 0 && !this.readPaused && this.parser.buffered > INPUT_PAUSE_BYTES) {
      this.readPaused = true;
      this.sock.pause();
    }
  }

  private readPaused = false;

  private process(): void {
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
          consumed = this.handle();
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
      this.sock.resume();
    }
    if (this.inputEnded) this.finishIfDone();
  }

  // ---- replies ---------------------------------------------------------------------------

  deliver(bytes: Buffer, complete: number, from: Upstream): void {
    if (this.closed) return;
    if (bytes.length > 0) {
      if (this.ts !== null) this.ts.bandwidthToday += bytes.length;
      if (!this.sock.write(bytes)) this.clientCongested(from);
    }
    if (complete > 0) {
      this.guarded = null;
      this.recv += complete;
      if (this.lastWriteSeq !== 0 && this.recv >= this.lastWriteSeq && this.ts !== null) {
        this.needEpoch = this.ts.epoch + 1;
        this.lastWriteSeq = 0;
      }
      if (this.sent === this.recv) this.current = null;
      this.settle();
    }
  }

  /** Every reply owed has arrived: go on with what waited for that. */
  private settle(): void {
    if (this.sent !== this.recv || this.markers !== 0 || this.closed) return;
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
    if (from === this.pinnedUp) this.pinnedUp = null;
    if (this.inputEnded && this.passthrough) {
      // The half-close passed on to Redis (CLIENT REPLY): it has answered what it would.
      this.endWith(null);
      return;
    }
    if (this.ts !== null && from === this.upRead && from !== this.upPrimary) {
      this.ts.replicaFailed(this.region);
    }
    // Replies owed by a dead backend cannot be produced: end the connection as Redis would.
    this.close();
  }

  private clientCongested(from: Upstream): void {
    if (this.sock.writableLength > OUTPUT_HARD_LIMIT) {
      this.close();
      return;
    }
    this.blocked |= W_DRAIN;
    this.readPaused = true;
    this.sock.pause();
    if (from.pinnedTo === this) from.sock.pause();
  }

  private onClientDrain(): void {
    if (!(this.blocked & W_DRAIN)) return;
    this.blocked &= ~W_DRAIN;
    if (this.pinnedUp !== null && !this.pinnedUp.closed) this.pinnedUp.sock.resume();
    this.process();
  }

  private write(bytes: Buffer | string): void {
    if (this.closed) return;
    const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    if (this.ts !== null) this.ts.bandwidthToday += b.length;
    if (!this.sock.write(b) && this.sock.writableLength > OUTPUT_HARD_LIMIT) this.close();
  }

  // ---- the state machine ----------------------------------------------------------------

  /** Wait until no reply is owed; true when already so. */
  private quiet(): boolean {
    if ((this.sent === this.recv && this.markers === 0) || this.passthrough) return true;
    this.flushRun();
    this.blocked |= W_REPLIES;
    return false;
  }

  /** Answer an error here; inside MULTI it also dooms the transaction, as Redis does. */
  private fail(text: string): void {
    if (this.inMulti) this.multiFailed = true;
    this.write(errorReply(text));
  }

  private handle(): boolean {
    const p = this.parser;
    if (p.oversize > 0) {
      if (!this.quiet()) return false;
      this.fail(`ERR max request size exceeded. Limit: ${p.maxRequestBytes} bytes, Actual: ${p.oversize} bytes`);
      return true;
    }
    const ts = this.ts;
    if (ts === null) return this.handleUnauthenticated();
    const table = this.host.table;
    if (table === null) {
      this.fail('ERR no backend is reachable for this database');
      return true;
    }
    const top = this.lookupName(table);
    let info = top;
    if (top !== null && top.subcommands !== null && p.frameArgc >= 2) {
      info = top.subcommands.get(p.argString(1).toLowerCase()) ?? top;
    }
    const special = top === null ? Special.None : top.special;
    const cache = ts.tenant.kind === 'cache';

    if (cache && this.db === 1 && special !== Special.Auth && special !== Special.Hello &&
        special !== Special.Quit && special !== Special.Reset) {
      return this.virtualCommand();
    }
    if (info !== null && top !== null) {
      const refused = cache ? info.cacheRefused ?? top.cacheRefused : info.refused;
      if (refused !== null) {
        if (!this.quiet()) return false;
        this.fail(refused);
        return true;
      }
      if (!arityOk(info.arity, p.frameArgc) && special !== Special.None && special !== Special.Client) {
        if (!this.quiet()) return false;
        this.fail(`ERR wrong number of arguments for '${info.name.replace('|', ' ')}' command`);
        return true;
      }
    }
    if (info !== null && info.name === 'config|set') {
      for (let i = 2; i < p.frameArgc; i += 2) {
        if (i >= MAX_ARGS_KEPT || !CONFIG_SETTABLE.has(p.argString(i).toLowerCase())) {
          if (!this.quiet()) return false;
          this.fail("ERR Command is not available: 'CONFIG'");
          return true;
        }
      }
    } else if (info !== null && info.name === 'config|get') {
      const patterns: string[] = [];
      for (let i = 2; i < p.frameArgc && i < MAX_ARGS_KEPT; i++) patterns.push(p.argString(i));
      const up = this.inMulti || this.watching || this.sticky || this.subscribed || this.passthrough ? this.ensurePinned() : this.primaryUp();
      return this.forwardBytes(up, rewriteConfigGet(patterns));
    }
    if (info !== null && (info.name === 'info' || info.name === 'role') && !this.inMulti && !this.passthrough) {
      return this.forwardRewritten(info.name === 'info' ? (b) => rewriteText(b, filterInfo) : rewriteRole);
    }
    if (info !== null && info.name === 'acl|whoami' && !this.inMulti && !this.passthrough) {
      // The user authenticated as "default"; the backend would name the gateway's own user.
      if (!this.quiet() || !this.admit()) return false;
      this.write(bulk('default', this.proto));
      return true;
    }
    switch (special) {
      case Special.Auth:
        return this.auth();
      case Special.Hello:
        return this.hello();
      case Special.Quit:
        if (!this.quiet()) return false;
        this.endWith(OK);
        return true;
      case Special.Reset:
        return this.reset();
      case Special.Select:
        return this.select();
      case Special.Client:
        if (!this.inMulti && !this.passthrough) {
          const handled = this.clientCommand();
          if (handled !== null) return handled;
        }
        break;
      default:
        break;
    }
    // Limits: refused commands do not count towards usage.
    if (special === Special.None || special === Special.Multi || special === Special.Exec ||
        special === Special.Watch || special === Special.Subscribe || special === Special.Client) {
      const err = ts.dailyLimitError() ?? (info !== null && info.denyoom && ts.overCapacity ? ts.quotaText() : null);
      if (err !== null) {
        if (!this.quiet()) return false;
        this.fail(err);
        return true;
      }
    }
    switch (special) {
      case Special.Multi:
        // A nested MULTI is an error Redis answers without ending (or dooming) the transaction.
        return this.forwardPinned(() => {
          if (this.inMulti) return;
          this.inMulti = true;
          this.multiFailed = false;
        });
      case Special.Exec:
      case Special.Discard:
        return this.endTransaction(special);
      case Special.Watch:
        return this.forwardPinned(() => {
          if (!this.inMulti) this.watching = true;
        });
      case Special.Unwatch:
        if (this.pinnedUp === null) {
          if (!this.quiet() || !this.admit()) return false;
          this.write(OK);
          return true;
        }
        return this.forwardPinned(() => {
          if (!this.inMulti) this.watching = false;
        });
      case Special.Subscribe:
        return this.subscribe();
      default:
        break;
    }
    return this.route(info);
  }

  private subscribe(): boolean {
    if (this.inMulti || this.passthrough) return this.forwardPinned(null);
    const up = this.ensurePinned();
    if (this.current !== null && this.current !== up && this.sent !== this.recv) {
      this.flushRun();
      this.blocked |= W_REPLIES;
      return false;
    }
    if (!this.admit()) return false;
    // Confirmations come as Pub/Sub frames, one per channel, so the command itself is not
    // counted; a PING behind it tells when they are all in.
    this.flushRun();
    up.pubsub = true;
    this.subscribed = true;
    up.send(this.parser.frameBytes(), this, 0);
    up.send(PING_CMD, this.marker, 1);
    this.markers++;
    this.current = up;
    return true;
  }

  /** Charge one command to the tenant; false = over the rate, retried later. */
  private admit(): boolean {
    const ts = this.ts!;
    const wait = ts.takeToken();
    if (wait > 0) {
      this.flushRun();
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
  private readonly lastName = Buffer.alloc(16);
  private lastNameLen = -1;
  private lastTop: CommandInfo | null = null;

  private lookupName(table: CommandTable): CommandInfo | null {
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
  private guarded: {bytes: Buffer; up: Upstream; tries: number} | null = null;

  retryOom(from: Upstream): boolean {
    const g = this.guarded;
    if (g === null || g.up !== from || g.tries >= 3 || this.ts === null) return false;
    g.tries++;
    this.ts.evictAnyKey().then(
      () => {
        if (!this.closed && !from.closed) from.send(g.bytes, this, 1);
      },
      () => {
        if (!this.closed && !from.closed) from.send(g.bytes, this, 1);
      },
    );
    return true;
  }

  private route(info: CommandInfo | null): boolean {
    let up: Upstream;
    let write = true;
    if (this.passthrough || this.inMulti || this.watching || this.sticky || this.subscribed) {
      up = this.ensurePinned();
    } else if (info === null) {
      up = this.primaryUp();
    } else if (info.route === Route.Read) {
      up = info.cursorArg !== 0 ? this.cursorUp(info) : this.readUp();
      write = false;
    } else if (info.route === Route.Pinned) {
      up = this.ensurePinned();
      write = info.writes;
    } else {
      up = this.primaryUp();
      write = info.writes;
    }
    if (info !== null && info.name === 'wait' && !this.inMulti && !this.passthrough) {
      // WAIT counts replicas that reached the calling connection's last write. This client's
      // writes may have gone through a shared connection, so first make its own connection's
      // last write the newest one (a PUBLISH nobody receives replicates and moves the offset).
      if (!this.quiet()) return false;
      this.flushRun();
      up.sendDiscarded(WAIT_BUMP);
      return this.forward(up, false);
    }
    if (info !== null && info.denyoom && !this.inMulti && !this.passthrough && this.ts!.evictionGuard) {
      // When Redis runs out of keys with a TTL it refuses the write; the gateway then switches
      // eviction to any key and sends the write again. One at a time, so order holds.
      if (!this.quiet()) return false;
      if (!this.forward(up, true)) return false;
      this.flushRun();
      this.guarded = {bytes: Buffer.from(this.parser.frameBytes()), up, tries: 0};
      this.blocked |= W_REPLIES;
      return true;
    }
    this.guarded = null;
    if (!this.forward(up, write)) return false;
    if (info !== null && info.flags.has('blocking') && !this.inMulti) this.blockingSeq = this.sent;
    return true;
  }

  private forward(up: Upstream, write: boolean): boolean {
    if (!this.passthrough && this.current !== null && this.current !== up && this.sent !== this.recv) {
      this.flushRun();
      this.blocked |= W_REPLIES;
      return false;
    }
    if (this.sent - this.recv >= MAX_IN_FLIGHT && !this.passthrough) {
      // A client that pipelines without reading cannot make the gateway hold unbounded replies.
      this.flushRun();
      this.blocked |= W_REPLIES;
      return false;
    }
    if (up.congested) {
      this.flushRun();
      this.blocked |= W_UPDRAIN;
      up.onDrain(() => {
        this.blocked &= ~W_UPDRAIN;
        this.process();
      });
      return false;
    }
    if (!this.admit()) return false;
    const p = this.parser;
    const counted = this.passthrough ? 0 : 1;
    if (p.inline !== null) {
      this.flushRun();
      up.send(p.inline, this, counted);
    } else {
      const buf = p.buf!;
      const start = p.pos;
      if (this.runUp === up && this.runBuf === buf && this.runEnd === start) {
        this.runEnd = start + p.frameLen;
        this.runCount += counted;
      } else {
        this.flushRun();
        this.runUp = up;
        this.runBuf = buf;
        this.runStart = start;
        this.runEnd = start + p.frameLen;
        this.runCount = counted;
      }
    }
    if (counted) {
      this.sent++;
      this.current = up;
      if (write) this.lastWriteSeq = this.sent;
    }
    return true;
  }

  private flushRun(): void {
    if (this.runUp === null) return;
    const up = this.runUp;
    this.runUp = null;
    const bytes = this.runBuf!.subarray(this.runStart, this.runEnd);
    this.runBuf = null;
    // The backend broke while these commands were being collected: their replies are lost.
    if (up.closed) this.close();
    else up.send(bytes, this, this.runCount);
  }

  private forwardPinned(after: (() => void) | null): boolean {
    const ok = this.forward(this.ensurePinned(), true);
    if (ok && after !== null) after();
    return ok;
  }

  private forwardBytes(up: Upstream, bytes: Buffer): boolean {
    if (this.current !== null && this.current !== up && this.sent !== this.recv) {
      this.flushRun();
      this.blocked |= W_REPLIES;
      return false;
    }
    if (!this.admit()) return false;
    this.flushRun();
    up.send(bytes, this, 1);
    this.sent++;
    this.current = up;
    return true;
  }

  /** Forward the command, and pass its reply to the client through `fn` (whole, in order). */
  private forwardRewritten(fn: (reply: Buffer) => Buffer): boolean {
    if (!this.quiet()) return false;
    const up = this.watching || this.sticky || this.subscribed ? this.ensurePinned() : this.primaryUp();
    if (!this.admit()) return false;
    this.flushRun();
    const parts: Buffer[] = [];
    const sink: ReplySink = {
      deliver: (bytes, complete, from) => {
        parts.push(Buffer.from(bytes));
        if (complete > 0) this.deliver(fn(Buffer.concat(parts)), complete, from);
      },
      upstreamLost: (from, reason) => this.upstreamLost(from, reason),
    };
    up.send(this.parser.inline ?? this.parser.frameBytes(), sink, 1);
    this.sent++;
    this.current = up;
    return true;
  }

  private endTransaction(which: Special): boolean {
    const label = which === Special.Exec ? 'EXEC' : 'DISCARD';
    if (!this.inMulti) {
      if (this.pinnedUp !== null) {
        return this.forwardPinned(() => {
          this.watching = false;
        });
      }
      if (!this.quiet() || !this.admit()) return false;
      this.write(errorReply(`ERR ${label} without MULTI`));
      return true;
    }
    if (which === Special.Exec && this.multiFailed) {
      if (!this.quiet() || !this.admit()) return false;
      this.pinnedUp!.sendDiscarded(DISCARD_CMD);
      this.inMulti = false;
      this.multiFailed = false;
      this.watching = false;
      this.write(EXECABORT);
      return true;
    }
    return this.forwardPinned(() => {
      this.inMulti = false;
      this.multiFailed = false;
      this.watching = false;
    });
  }

  // ---- upstream choice -------------------------------------------------------------------

  private refreshRoutes(): void {
    const ts = this.ts!;
    const key = ts.version * 4 + this.proto;
    if (key === this.routeKey && this.upPrimary !== null && !this.upPrimary.closed &&
        (this.upRead === null || !this.upRead.closed)) return;
    this.routeKey = key;
    const t = ts.tenant;
    if (t.kind === 'managed') {
      this.upPrimary = this.host.shared(this.region, t.primary, this.proto, ts, t.primaryRegion);
      const replica = this.region !== t.primaryRegion ? t.replicas[this.region] : undefined;
      this.upRead = replica === undefined ? null : this.host.shared(this.region, replica, this.proto, ts, this.region);
    } else {
      const ep = this.cacheEp;
      this.upPrimary = ep === null ? null : this.host.shared(this.region, ep, this.proto, ts, this.region);
      this.upRead = null;
    }
  }

  private primaryEndpoint(): [Endpoint, string] | null {
    const t = this.ts!.tenant;
    if (t.kind === 'managed') return [t.primary, t.primaryRegion];
    return this.cacheEp === null ? null : [this.cacheEp, this.region];
  }

  private primaryUp(): Upstream {
    if (this.pinnedUp !== null && !this.pinnedUp.closed) return this.pinnedUp;
    this.refreshRoutes();
    if (this.upPrimary === null) throw new NoBackend();
    return this.upPrimary;
  }

  private readUp(): Upstream {
    this.refreshRoutes();
    if (this.upRead !== null && this.ts!.replicaUsable(this.region, this.needEpoch)) return this.upRead;
    return this.primaryUp();
  }

  // Cursor affinity: which copy started each open SCAN/HSCAN/SSCAN/ZSCAN iteration (by command
  // and key), so every later call continues on the copy whose cursor it carries.
  private cursors: Map<string, boolean> | null = null; // true = the region's replica

  /**
   * The copy for a SCAN-family call. Cursor 0 starts an iteration on the copy read-your-writes
   * picks; any other cursor continues on the copy that started it, even after the client's own
   * writes (docs/architecture.md, "Cursors and read-your-writes").
   */
  private cursorUp(info: CommandInfo): Upstream {
    const p = this.parser;
    if (p.frameArgc <= info.cursorArg || info.cursorArg >= MAX_ARGS_KEPT) return this.readUp();
    const key = info.cursorArg === 1 ? info.name : `${info.name} ${p.argString(1)}`;
    const cursor = p.argString(info.cursorArg);
    if (cursor !== '0') {
      const onReplica = this.cursors?.get(key);
      if (onReplica === undefined) return this.readUp();
      if (!onReplica) return this.primaryUp();
      this.refreshRoutes();
      return this.upRead !== null && !this.upRead.closed ? this.upRead : this.primaryUp();
    }
    const up = this.readUp();
    if (this.cursors === null) this.cursors = new Map();
    this.cursors.delete(key);
    if (this.cursors.size >= 64) this.cursors.delete(this.cursors.keys().next().value as string);
    this.cursors.set(key, up === this.upRead && up !== this.upPrimary);
    return up;
  }

  private ensurePinned(): Upstream {
    if (this.pinnedUp !== null && !this.pinnedUp.closed) return this.pinnedUp;
    const target = this.primaryEndpoint();
    if (target === null) throw new NoBackend();
    this.pinnedUp = this.host.pinned(this.region, target[0], this.proto, this.ts!, target[1], this);
    return this.pinnedUp;
  }

  private dropPinned(): void {
    if (this.pinnedUp !== null) {
      const up = this.pinnedUp;
      this.pinnedUp = null;
      if (this.current === up) {
        // Replies it still owed will never arrive.
        this.recv = this.sent;
        this.current = null;
      }
      up.close();
    }
    this.inMulti = false;
    this.multiFailed = false;
    this.watching = false;
    this.sticky = false;
    this.passthrough = false;
    this.subscribed = false;
    this.markers = 0;
  }

  // ---- commands answered here ------------------------------------------------------------

  private handleUnauthenticated(): boolean {
    const name = this.parser.nameKey().toLowerCase();
    if (name === 'auth') return this.auth();
    if (name === 'hello') return this.hello();
    if (name === 'quit') {
      this.endWith(OK);
      return true;
    }
    if (name === 'reset') return this.reset();
    this.write(NOAUTH);
    return true;
  }

  private credentials(user: Buffer | null, pass: Buffer): Tenant | undefined {
    if (user !== null && user.toString() !== 'default') return undefined;
    return this.host.lookupPassword(pass.toString());
  }

  /** Binds the connection to a tenant; false when the connection was refused and closed. */
  private attach(t: Tenant): boolean {
    const ts = this.host.tenantState(t);
    if (this.ts === ts) return true;
    const limit = t.plan?.maxConnections;
    if (limit !== undefined && ts.clients.size >= limit) {
      this.endWith(errorReply('ERR max concurrent connections exceeded'));
      return false;
    }
    if (this.ts !== null) {
      this.ts.clients.delete(this);
      this.dropPinned();
    }
    this.ts = ts;
    this.routeKey = -1;
    this.needEpoch = 0;
    this.lastWriteSeq = 0;
    ts.clients.add(this);
    this.parser.authenticated = true;
    this.parser.maxRequestBytes = ts.maxRequestBytes;
    ts.startMonitor();
    this.cacheEp = null;
    if (t.kind === 'cache') {
      // The region's cache may be started on first use: wait for it (and the table) before
      // reading further commands.
      this.blocked |= W_ASYNC;
      Promise.resolve()
        .then(() => t.backend(this.region))
        .then(async (ep) => {
          if (this.ts !== ts) return;
          this.cacheEp = ep;
          this.routeKey = -1;
          await this.host.loadTable(ep);
        })
        .then(
          () => {
            this.blocked &= ~W_ASYNC;
            this.process();
          },
          (e: Error) => {
            this.endWith(errorReply(`ERR the regional cache is not available here: ${e.message}`));
          },
        );
    } else if (this.host.table === null) {
      this.blocked |= W_ASYNC;
      this.host.loadTable(t.primary).then(
        () => {
          this.blocked &= ~W_ASYNC;
          this.process();
        },
        () => this.close(),
      );
    }
    return true;
  }

  private auth(): boolean {
    if (!this.quiet()) return false;
    const p = this.parser;
    if (p.frameArgc < 2 || p.frameArgc > 3) {
      this.fail("ERR wrong number of arguments for 'auth' command");
      return true;
    }
    if (this.inMulti) {
      this.fail('ERR Command not allowed inside a transaction');
      return true;
    }
    const t = p.frameArgc === 2 ? this.credentials(null, p.arg(1)) : this.credentials(p.arg(1), p.arg(2));
    if (t === undefined) {
      this.write(WRONGPASS);
      return true;
    }
    if (this.attach(t)) this.write(OK);
    return true;
  }

  private hello(): boolean {
    if (!this.quiet()) return false;
    const p = this.parser;
    if (this.inMulti) {
      this.fail('ERR Command not allowed inside a transaction');
      return true;
    }
    let proto: number = this.proto;
    if (p.frameArgc >= 2) {
      const v = p.arg(1);
      proto = parseIntAt(v, 0, v.length);
      if (Number.isNaN(proto)) {
        this.fail('ERR Protocol version is not an integer or out of range');
        return true;
      }
      if (proto !== 2 && proto !== 3) {
        this.fail('NOPROTO unsupported protocol version');
        return true;
      }
    }
    let user: Buffer | null = null;
    let pass: Buffer | null = null;
    let setname: string | null = null;
    for (let i = 2; i < p.frameArgc; i++) {
      if (i >= MAX_ARGS_KEPT) {
        this.fail('ERR syntax error');
        return true;
      }
      const opt = p.argString(i).toLowerCase();
      if (opt === 'auth' && i + 2 < p.frameArgc) {
        user = p.arg(i + 1);
        pass = p.arg(i + 2);
        i += 2;
      } else if (opt === 'setname' && i + 1 < p.frameArgc) {
        setname = p.argString(i + 1);
        i += 1;
      } else {
        this.fail(`ERR Syntax error in HELLO option '${p.argString(i)}'`);
        return true;
      }
    }
    if (pass === null && this.ts === null) {
      this.write(errorReply('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time'));
      return true;
    }
    if (pass !== null) {
      const t = this.credentials(user, pass);
      if (t === undefined) {
        this.write(WRONGPASS);
        return true;
      }
      if (!this.attach(t)) return true;
    }
    if (setname !== null) {
      if (!validName(setname)) {
        this.fail('ERR Client names cannot contain spaces, newlines or special characters.');
        return true;
      }
      this.name = setname === '' ? null : setname;
    }
    if (proto !== this.proto) {
      this.proto = proto as 2 | 3;
      this.routeKey = -1;
      if (this.pinnedUp !== null) {
        this.pinnedUp.sendDiscarded(encodeCommand(['HELLO', String(proto)]));
        this.pinnedUp.proto = proto as 2 | 3;
      }
    }
    this.write(this.helloReply());
    return true;
  }

  private helloReply(): string {
    const v = this.host.serverVersion;
    const pairs = [
      '$6\r\nserver\r\n$5\r\nredis\r\n',
      `$7\r\nversion\r\n${bulk(v, 2)}`,
      `$5\r\nproto\r\n:${this.proto}\r\n`,
      `$2\r\nid\r\n:${this.id}\r\n`,
      '$4\r\nmode\r\n$10\r\nstandalone\r\n',
      '$4\r\nrole\r\n$6\r\nmaster\r\n',
      '$7\r\nmodules\r\n*0\r\n',
    ];
    return (this.proto === 3 ? '%7\r\n' : '*14\r\n') + pairs.join('');
  }

  private select(): boolean {
    const p = this.parser;
    const v = p.arg(1);
    const n = parseIntAt(v, 0, v.length);
    if (this.inMulti) {
      // Queued like Redis does, so EXEC reports an out-of-range index in its own reply.
      return this.forwardBytes(this.ensurePinned(), n === 0 || Number.isNaN(n) ? p.frameBytes() : SELECT_BAD);
    }
    if (!this.quiet() || !this.admit()) return false;
    if (Number.isNaN(n)) {
      this.fail('ERR value is not an integer or out of range');
    } else if (n === 0 || (n === 1 && this.ts!.tenant.kind === 'cache')) {
      this.db = n;
      this.write(OK);
    } else {
      this.fail('ERR DB index is out of range');
    }
    return true;
  }

  private reset(): boolean {
    if (!this.quiet()) return false;
    this.dropPinned();
    this.proto = 2;
    this.routeKey = -1;
    this.name = null;
    this.db = 0;
    // Back to the just-connected state in every respect, logged out included: Redis
    // re-authenticates a RESET connection as "default", which needs a password here.
    if (this.ts !== null) {
      this.ts.clients.delete(this);
      this.ts = null;
      this.parser.authenticated = false;
      this.parser.maxRequestBytes = 0;
      this.cacheEp = null;
      this.upPrimary = null;
      this.upRead = null;
      this.needEpoch = 0;
      this.lastWriteSeq = 0;
    }
    this.write('+RESET\r\n');
    return true;
  }

  /** CLIENT subcommands; null = route normally. */
  private clientCommand(): boolean | null {
    const p = this.parser;
    if (p.frameArgc < 2) return null;
    // By the name sent, not the table: SETINFO is newer than Redis 7.0 and still sent by clients.
    const sub = `client|${p.argString(1).toLowerCase()}`;
    if (sub === 'client|setname' || sub === 'client|getname' || sub === 'client|setinfo') {
      // Like AUTH and HELLO, the library's own handshake (SETINFO) is not charged to the user.
      if (!this.quiet() || (sub !== 'client|setinfo' && !this.admit())) return false;
      if (sub === 'client|getname') {
        this.write(bulk(this.name, this.proto));
      } else if (sub === 'client|setname') {
        const n = p.argString(2);
        if (!validName(n)) this.fail('ERR Client names cannot contain spaces, newlines or special characters.');
        else {
          this.name = n === '' ? null : n;
          this.write(OK);
        }
      } else {
        this.write(OK);
      }
      return true;
    }
    if (sub === 'client|reply') {
      // Redis stops replying on that connection; only a connection that is not counted
      // can follow it.
      if (!this.quiet()) return false;
      this.ensurePinned().passthrough = true;
      this.passthrough = true;
      return null;
    }
    if (sub === 'client|id' || sub === 'client|info' || sub === 'client|list' || sub === 'client|kill') {
      return this.clientIntrospect(sub);
    }
    // TRACKING, CACHING, ...: state of one server connection from now on.
    if (!PER_CONNECTION_CLIENT.has(sub)) return null;
    if (!this.quiet()) return false;
    this.ensurePinned();
    this.sticky = true;
    return null;
  }

  /** The client's own view of this connection, with the id HELLO returned (introspect.ts). */
  view(): ClientView {
    return {
      id: this.id,
      addr: this.addr,
      laddr: this.laddr,
      name: this.name,
      createdAt: this.createdAt,
      lastCommandAt: this.lastCommandAt,
      lastCommand: this.lastTop?.name ?? 'NULL',
      db: this.db,
      proto: this.proto,
      flags: this.inMulti ? 'x' : this.subscribed ? 'P' : 'N',
    };
  }

  /** CLIENT ID / INFO / LIST / KILL over the tenant's own connections through this gateway. */
  private clientIntrospect(sub: string): boolean {
    if (!this.quiet() || !this.admit()) return false;
    const p = this.parser;
    const now = Date.now();
    const ts = this.ts!;
    const peers = [...ts.clients].filter((c): c is Session => c instanceof Session);
    const args: string[] = [];
    for (let i = 2; i < p.frameArgc && i < MAX_ARGS_KEPT; i++) args.push(p.argString(i));
    if (sub === 'client|id') {
      this.write(`:${this.id}\r\n`);
    } else if (sub === 'client|info') {
      this.write(verbatim(`${clientLine(this.view(), now)}\n`, this.proto));
    } else if (sub === 'client|list') {
      let list = peers;
      if (args.length >= 2 && args[0].toLowerCase() === 'id') {
        const ids = new Set(args.slice(1).map(Number));
        list = list.filter((c) => ids.has(c.id));
      } else if (args.length === 2 && args[0].toLowerCase() === 'type') {
        const t = args[1].toLowerCase();
        list = list.filter((c) => (t === 'pubsub' ? c.subscribed : t === 'normal' ? !c.subscribed : false));
      } else if (args.length > 0) {
        this.fail('ERR syntax error');
        return true;
      }
      this.write(verbatim(list.map((c) => `${clientLine(c.view(), now)}\n`).join(''), this.proto));
    } else {
      const f = killFilter(args, this.id);
      if (typeof f === 'string') {
        this.fail(f);
        return true;
      }
      const victims = peers.filter((c) => f.match(c.view()));
      if (f.old && victims.length === 0) {
        this.fail('ERR No such client');
        return true;
      }
      this.write(f.old ? OK : Buffer.from(`:${victims.length}\r\n`));
      for (const v of victims) {
        if (v === this) this.endWith(null);
        else v.kick('CLIENT KILL');
      }
    }
    return true;
  }

  private virtualCommand(): boolean {
    const p = this.parser;
    if (!this.quiet()) return false;
    const ts = this.ts!;
    const err = ts.dailyLimitError();
    if (err !== null) {
      this.fail(err);
      return true;
    }
    if (!this.admit()) return false;
    const tenant = ts.tenant;
    if (tenant.kind !== 'cache') return true;
    const args = allArgs(p.frameBytes());
    let result: VirtualDbResult | Promise<VirtualDbResult>;
    try {
      result = tenant.virtualDb.accept(args, {region: this.region, tenant});
    } catch (e) {
      this.write(errorReply(`ERR ${(e as Error).message}`));
      return true;
    }
    if (!(result instanceof Promise)) {
      this.virtualReply(result);
      return true;
    }
    this.blocked |= W_ASYNC;
    result.then(
      (r) => this.virtualReply(r),
      (e: Error) => this.write(errorReply(`ERR ${e.message}`)),
    ).finally(() => {
      this.blocked &= ~W_ASYNC;
      this.process();
    });
    return true;
  }

  private virtualReply(r: VirtualDbResult): void {
    if ('connection' in r) {
      // Not expected for the commands passed in (the gateway keeps AUTH/HELLO/QUIT/RESET).
      this.write(errorReply('ERR unexpected connection command'));
      return;
    }
    if (r.select !== undefined) this.db = r.select;
    this.write(r.reply);
  }

  private protocolError(text: string): void {
    // Redis answers the earlier commands, then the error, then closes.
    this.flushRun();
    this.fatal = text;
    if ((this.sent === this.recv && this.markers === 0) || this.passthrough) this.finishFatal();
    else this.blocked |= W_REPLIES;
  }

  private fatal: string | null = null;

  private finishFatal(): void {
    this.endWith(errorReply(this.fatal!));
  }

  /** Last words, then close once they are flushed (or after 5 s if the client does not read). */
  private endWith(bytes: Buffer | null): void {
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

  private cleanup(): void {
    if (this.rateTimer !== null) clearTimeout(this.rateTimer);
    this.rateTimer = null;
    if (this.ts !== null) this.ts.clients.delete(this);
    // A pinned connection goes with its client: Redis drops its MULTI, WATCH, subscriptions
    // and blocked commands, so nothing half-done survives the client.
    if (this.pinnedUp !== null) this.pinnedUp.close();
    this.pinnedUp = null;
  }
}

class NoBackend extends Error {
  constructor() {
    super('no backend for this region');
  }
}
export {NoBackend};

function validName(n: string): boolean {
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

/** Every argument of one RESP request frame (copies: the virtual database may keep them). */
export function allArgs(frame: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = frame.indexOf(13);
  const n = parseIntAt(frame, 1, p);
  p += 2;
  for (let i = 0; i < n; i++) {
    const cr = frame.indexOf(13, p);
    const len = parseIntAt(frame, p + 1, cr);
    const s = cr + 2;
    out.push(Buffer.from(frame.subarray(s, s + len)));
    p = s + len + 2;
  }
  return out;
}
