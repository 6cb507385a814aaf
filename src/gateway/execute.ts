// The gateway's entry point for commands that do not arrive on a RESP connection (the REST API,
// src/rest). Each call is served by a Session of its own over an in-memory socket, exactly as if
// a client had connected to the region's endpoint, sent AUTH and then the commands: the same
// tenant lookup, command table, refused commands, plan limits (connections, rate, daily
// commands and bandwidth, request size, data size), eviction, routing and read-your-writes.
// Nothing here decides what a command may do; the caller may only refuse more (`check`).
import {randomBytes} from 'node:crypto';
import {EventEmitter} from 'node:events';
import type * as net from 'node:net';
import {CommandInfo, CommandTable} from './commands';
import {encodeCommand} from './resp';
import {ReplyScanner} from './reply';
import {Session, SessionHost} from './session';
import {TenantState} from './tenant';
import {Tenant} from './types';

/** What execute() needs of the gateway (its Core). */
export interface ExecuteHost extends SessionHost {
  readonly sessions: Set<Session>;
  readonly tenants: ReadonlyMap<string, TenantState>;
}

export interface ExecuteRequest {
  /** The region whose endpoint the commands arrive at (reads are served there). */
  region: string;
  /** The tenant's password, checked like AUTH (Directory.byPassword). */
  password: string;
  /** Each command's words, name first. At least one. */
  commands: Buffer[][];
  /** Run them as one MULTI ... EXEC. */
  transaction?: boolean;
  /** A token from an earlier result (`syncToken`): reads wait for nothing, but go to the region's
   *  replica only once it has reached the state that token names; otherwise to the primary.
   *  Empty or absent: no constraint. A token this gateway did not issue counts as "now". */
  syncToken?: string | null;
  /** Called for each command before anything is sent, with its entry in Redis's command table
   *  (a subcommand's entry when there is one; null for a command Redis does not know). A text
   *  refuses the command: it is not sent, not counted, and that text is its error reply. In a
   *  transaction one refusal discards the whole transaction. */
  check?: (info: CommandInfo | null, args: Buffer[], tenant: Tenant) => string | null;
}

export type ExecuteResult =
  /** No tenant has that password. */
  | {kind: 'unauthorized'}
  /** Nothing ran: a transaction with a refused command, or the connection itself was refused
   *  (e.g. `ERR max concurrent connections exceeded`). `error` is the Redis error text. */
  | {kind: 'refused'; error: string}
  | {
      kind: 'done';
      /** One RESP2 reply (raw bytes, `-ERR ...\r\n` for an error) per command, in order; in a
       *  transaction the reply each command got when queued (`+QUEUED` or an error). Shorter
       *  than `commands` when the connection ended early (a backend lost): see `lost`. */
      replies: Buffer[];
      /** The reply to EXEC in a transaction (an array, or an error such as EXECABORT). */
      exec: Buffer | null;
      /** Set when replies are missing: the reason, as an error text. */
      lost: string | null;
      /** Pass back in a later request to read this request's writes (see ExecuteRequest). */
      syncToken: string;
    };

// Tokens name a monitor epoch of this gateway's run; a token of another run (a restart) is
// treated as "now", which is safe: reads wait for the next sample or go to the primary.
const BOOT = randomBytes(4).toString('hex');
const TOKEN = /^rf1-([0-9a-f]{8})-(\d{1,15})$/;

function tokenEpoch(token: string | null | undefined, current: number): number {
  if (!token) return 0;
  const m = TOKEN.exec(token);
  if (m !== null && m[1] === BOOT) return Number(m[2]);
  return current + 1;
}

// The session ends with the request; the monitor goes on sampling this long after it, so that
// the next request finds the replicas' progress known (reads served in the region).
const MONITOR_AFTER_REQUEST_MS = 30_000;

const MULTI = encodeCommand(['MULTI']);
const EXEC = encodeCommand(['EXEC']);

/** Runs commands for the tenant whose password is given, in one region. Never rejects for a
 *  Redis error: those are replies. Rejects only for a fault of the gateway itself. */
export async function execute(host: ExecuteHost, req: ExecuteRequest): Promise<ExecuteResult> {
  const tenant = host.lookupPassword(req.password);
  if (tenant === undefined) return {kind: 'unauthorized'};
  if (req.transaction && tenant.kind === 'cache') {
    // The cache runs no MULTI (seed: redis-on-fly-regional-cache.txt); its session would run
    // the commands one by one instead.
    const table = host.table ?? (await loadTable(host, tenant, req.region));
    return {kind: 'refused', error: table?.get('multi')?.cacheRefused ?? "ERR Command is not available on the regional cache: 'MULTI'"};
  }
  const refusals: (string | null)[] = req.commands.map(() => null);
  if (req.check !== undefined) {
    const table = host.table ?? (await loadTable(host, tenant, req.region));
    for (let i = 0; i < req.commands.length; i++) {
      const args = req.commands[i];
      refusals[i] = req.check(commandInfo(table, args), args, tenant);
      if (refusals[i] !== null && req.transaction) return {kind: 'refused', error: refusals[i]!};
    }
  }
  const frames: Buffer[] = [];
  for (let i = 0; i < req.commands.length; i++) if (refusals[i] === null) frames.push(encodeCommand(req.commands[i]));
  const sent = frames.length + (req.transaction ? 2 : 0);

  const sock = new MemorySocket(1 + sent);
  const session = new Session(host, req.region, sock as unknown as net.Socket);
  host.sessions.add(session);
  try {
    sock.emit('data', encodeCommand(['AUTH', req.password]));
    if (sock.replies.length > 0 && sock.replies[0][0] === 45 /* '-' */) {
      return {kind: 'refused', error: errorText(sock.replies[0])};
    }
    // AUTH made the tenant's state (Session.attach): its monitor epoch is "now".
    const ts = host.tenants.get(tenant.id);
    ts?.keepMonitoring(MONITOR_AFTER_REQUEST_MS);
    const after = tokenEpoch(req.syncToken, ts?.epoch ?? 0);
    session.readAfter(after);
    if (sent > 0) {
      // One chunk, like a pipelining client: the session forwards runs of it together.
      sock.emit('data', Buffer.concat(req.transaction ? [MULTI, ...frames, EXEC] : frames));
    }
    await sock.done;
    const got = sock.replies;
    if (got.length > 0 && got[0][0] === 45) return {kind: 'refused', error: errorText(got[0])};
    let answers = got.slice(1);
    let exec: Buffer | null = null;
    if (req.transaction) {
      // MULTI's +OK first, EXEC's reply last.
      if (answers.length === sent) exec = answers[answers.length - 1];
      answers = answers.slice(1, exec === null ? undefined : -1);
    }
    // Refused commands get their text where they stood.
    const replies: Buffer[] = [];
    let k = 0;
    for (let i = 0; i < req.commands.length; i++) {
      if (refusals[i] !== null) replies.push(Buffer.from(`-${refusals[i]!.replace(/[\r\n]+/g, ' ')}\r\n`));
      else if (k < answers.length) replies.push(answers[k++]);
      else break;
    }
    const complete = got.length === 1 + sent;
    const epoch = Math.max(after, session.syncEpoch);
    return {
      kind: 'done',
      replies,
      exec,
      lost: complete ? null : sock.endReason ?? 'ERR the connection to the database was lost',
      syncToken: `rf1-${BOOT}-${epoch}`,
    };
  } finally {
    session.close();
  }
}

export interface SubscribeRequest {
  region: string;
  password: string;
  /** SUBSCRIBE or PSUBSCRIBE and its channels or patterns. */
  command: Buffer[];
  check?: ExecuteRequest['check'];
  /** Every frame Redis sends on the subscription (raw RESP2): the confirmations, then messages. */
  onFrame(frame: Buffer): void;
}

export type SubscribeResult =
  | {kind: 'unauthorized'}
  | {kind: 'refused'; error: string}
  /** Subscribed: frames go to onFrame until close() (or `ended` resolves: the gateway ended it,
   *  e.g. the password was reset, with the reason as an error text or null). */
  | {kind: 'subscribed'; close(): void; ended: Promise<string | null>};

/** A subscription held by the gateway for a client that is not a RESP connection (the REST
 *  API's Server-Sent Events): one Session, counted as one connection while it lasts, whose
 *  SUBSCRIBE goes through the same checks and limits as a RESP client's. */
export async function subscribe(host: ExecuteHost, req: SubscribeRequest): Promise<SubscribeResult> {
  const tenant = host.lookupPassword(req.password);
  if (tenant === undefined) return {kind: 'unauthorized'};
  if (req.check !== undefined) {
    const table = host.table ?? (await loadTable(host, tenant, req.region));
    const refusal = req.check(commandInfo(table, req.command), req.command, tenant);
    if (refusal !== null) return {kind: 'refused', error: refusal};
  }
  const sock = new MemorySocket(Infinity);
  const session = new Session(host, req.region, sock as unknown as net.Socket);
  host.sessions.add(session);
  sock.emit('data', encodeCommand(['AUTH', req.password]));
  const auth = sock.replies.shift();
  if (auth === undefined || auth[0] === 45) {
    session.close();
    return {kind: 'refused', error: auth === undefined ? 'ERR the connection to the database was lost' : errorText(auth)};
  }
  sock.onReply = req.onFrame;
  sock.emit('data', encodeCommand(req.command));
  return {
    kind: 'subscribed',
    close: () => session.close(),
    ended: sock.done.then(() => sock.endReason),
  };
}

function commandInfo(table: CommandTable | null, args: Buffer[]): CommandInfo | null {
  let info = table?.get(args[0].toString('latin1').toLowerCase()) ?? null;
  if (info !== null && info.subcommands !== null && args.length >= 2) {
    info = info.subcommands.get(args[1].toString('latin1').toLowerCase()) ?? info;
  }
  return info;
}

/** The command table before the first client of any tenant: read from the tenant's backend. */
async function loadTable(host: ExecuteHost, t: Tenant, region: string) {
  try {
    await host.loadTable(t.kind === 'managed' ? t.primary : await t.backend(region));
  } catch {
    // The session answers "no backend is reachable" for each command.
  }
  return host.table;
}

function errorText(reply: Buffer): string {
  return reply.toString('utf8', 1, reply.length - 2);
}

/**
 * The client side of an in-memory connection: what the Session writes is split into replies
 * (raw RESP frames). `done` resolves once `expected` replies arrived or the session ended it.
 * Implements only what Session uses of a net.Socket.
 */
class MemorySocket extends EventEmitter {
  readonly replies: Buffer[] = [];
  /** Set: each reply goes here instead of `replies` (a subscription). */
  onReply: ((reply: Buffer) => void) | null = null;
  readonly writableLength = 0;
  // What CLIENT LIST/INFO show for this connection: it has no address of its own.
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 0;
  readonly localAddress = '127.0.0.1';
  readonly localPort = 0;
  readonly done: Promise<void>;
  endReason: string | null = null;
  private resolve!: () => void;
  private finished = false;
  private lastReply: Buffer | null = null;
  private buf: Buffer | null = null;
  private pos = 0;
  private readonly scanner = new ReplyScanner();

  constructor(private readonly expected: number) {
    super();
    this.done = new Promise<void>((r) => (this.resolve = r));
  }

  write(bytes: Buffer | string): boolean {
    if (this.finished) return true;
    const chunk = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    let data = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    let start = 0;
    for (;;) {
      const e = this.scanner.scan(data, this.pos);
      if (e < 0) {
        this.pos = this.scanner.stopAt;
        break;
      }
      // A copy: the session's slices may belong to a buffer Redis's bytes keep arriving into.
      const reply = Buffer.from(data.subarray(start, e));
      this.lastReply = reply;
      if (this.onReply !== null) this.onReply(reply);
      else this.replies.push(reply);
      start = this.pos = e;
    }
    if (start >= data.length) {
      this.buf = null;
      this.pos = 0;
    } else {
      // A copy, like the replies: the unfinished one is kept past this call.
      this.pos -= start;
      this.buf = Buffer.from(data.subarray(start));
    }
    if (this.replies.length >= this.expected) this.finish();
    return true;
  }

  pause(): void {}
  resume(): void {}

  end(): void {
    this.finish();
  }

  destroy(): void {
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.replies.length < this.expected) {
      const last = this.lastReply;
      if (last !== null && last[0] === 45) this.endReason = errorText(last);
    }
    this.resolve();
  }
}
