// The one RESP2 connection for the platform's own traffic to its redis-servers (readiness polls,
// REPLICAOF and CONFIG SET, the cache appliers, INFO for stats and the gateway's monitor).
// It fails fast: no reconnect and no offline queue, so "not listening yet" and "went away" are
// seen by the caller at once (a full driver would retry behind our back). Replies keep bulk
// strings as Buffers (values are binary) and keep errors nested inside arrays (an EXEC reply says
// which queued command failed); a closed socket fails every pending call together, so a caller
// can reconnect and re-read its state instead of guessing which command went through.
import type * as net from 'node:net';
import {dial, type DialTls, readyEvent} from '../net/dial';

export type Reply = Buffer | string | number | null | ReplyError | Reply[];

export class ReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
  }
}

export class ConnectionClosedError extends Error {
  constructor(message = 'connection closed') {
    super(message);
    this.name = 'ConnectionClosedError';
  }
}

export interface ConnectOptions {
  host?: string; // 127.0.0.1
  /** TLS to a redis-server on another host (its tls-port); plain TCP when absent. */
  tls?: DialTls | null;
  connectTimeoutMs?: number; // 2000
  /** A call with no reply in this time (something that is not Redis holds the port) closes the
   *  connection and fails every pending call. None by default. */
  callTimeoutMs?: number;
  /** Sent as AUTH right after connecting; a refusal rejects connect(). */
  auth?: {user?: string; password: string};
  /** CLIENT SETNAME, so the connection is recognisable in CLIENT LIST. */
  name?: string;
}

const CRLF = Buffer.from('\r\n');
const OK_LINE = Buffer.from('+OK\r\n');
const QUEUED_LINE = Buffer.from('+QUEUED\r\n');

/** RESP encoding of one command: the bytes a client would send. */
export function encodeCommand(args: ReadonlyArray<Buffer | string | number>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const b = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}

interface Parsed {
  value: Reply;
  end: number;
}

/** Whether `buf` holds `line` at `start` (byte by byte: cheaper than Buffer.compare's call for
 *  a few bytes). */
function startsWith(buf: Buffer, start: number, line: Buffer): boolean {
  if (start + line.length > buf.length) return false;
  for (let i = 0; i < line.length; i++) if (buf[start + i] !== line[i]) return false;
  return true;
}

/** One complete reply starting at `start`, or undefined when more bytes are needed. */
export function parseReply(buf: Buffer, start: number): Parsed | undefined {
  if (start >= buf.length) return undefined;
  // +OK and +QUEUED, without a search and a string decode: a MULTI/EXEC batch of an applier
  // gets one of each per command.
  if (buf[start] === 0x2b) {
    if (startsWith(buf, start, OK_LINE)) return {value: 'OK', end: start + OK_LINE.length};
    if (startsWith(buf, start, QUEUED_LINE)) return {value: 'QUEUED', end: start + QUEUED_LINE.length};
  }
  const lineEnd = buf.indexOf(CRLF, start);
  if (lineEnd < 0) return undefined;
  const type = buf[start];
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // +
      return {value: buf.toString('utf8', start + 1, lineEnd), end: next};
    case 0x2d: // -
      return {value: new ReplyError(buf.toString('utf8', start + 1, lineEnd)), end: next};
    case 0x3a: // :
      return {value: Number(buf.toString('ascii', start + 1, lineEnd)), end: next};
    case 0x24: {
      const len = Number(buf.toString('ascii', start + 1, lineEnd));
      if (len < 0) return {value: null, end: next};
      if (buf.length < next + len + 2) return undefined;
      return {value: buf.subarray(next, next + len), end: next + len + 2};
    }
    case 0x2a: {
      const count = Number(buf.toString('ascii', start + 1, lineEnd));
      if (count < 0) return {value: null, end: next};
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.end;
      }
      return {value: items, end: pos};
    }
    default:
      throw new Error(`unexpected RESP type byte 0x${type.toString(16)}`);
  }
}

export const asText = (r: Reply): string => (Buffer.isBuffer(r) ? r.toString('utf8') : String(r));

// The callers of one send(): `count` replies collected into one array and resolved together
// (one promise per write, not per reply: an applier batch holds thousands of commands).
interface Pending {
  replies: Reply[];
  count: number;
  resolve: (r: Reply[]) => void;
  reject: (e: Error) => void;
}

export class RedisConnection {
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];
  private closedError: Error | null = null;
  private readonly closeListeners: Array<(err: Error) => void> = [];

  private constructor(
    private readonly socket: net.Socket,
    private readonly callTimeoutMs: number | undefined,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new ConnectionClosedError(err.message)));
    socket.on('close', () => this.fail(new ConnectionClosedError()));
  }

  /** Rejects at once when nothing listens on the port (with the socket's own error). */
  static async connect(port: number, opts: ConnectOptions = {}): Promise<RedisConnection> {
    const host = opts.host ?? '127.0.0.1';
    const timeoutMs = opts.connectTimeoutMs ?? 2000;
    const conn = await new Promise<RedisConnection>((resolve, reject) => {
      const socket = dial(host, port, opts.tls);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionClosedError(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once(readyEvent(opts.tls), () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RedisConnection(socket, opts.callTimeoutMs));
      });
    });
    try {
      if (opts.auth) {
        const {user, password} = opts.auth;
        await (user === undefined ? conn.call('AUTH', password) : conn.call('AUTH', user, password));
      }
      if (opts.name) await conn.call('CLIENT', 'SETNAME', opts.name);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  onClose(listener: (err: Error) => void): void {
    if (this.closedError) listener(this.closedError);
    else this.closeListeners.push(listener);
  }

  /** One command; an error reply rejects with ReplyError. */
  async call(...args: Array<Buffer | string | number>): Promise<Reply> {
    const [reply] = await this.send(encodeCommand(args), 1);
    if (reply instanceof ReplyError) throw reply;
    return reply;
  }

  /** One command whose reply is read as text (INFO, status replies). */
  async text(...args: Array<Buffer | string | number>): Promise<string> {
    return asText(await this.call(...args));
  }

  /** Writes pre-encoded bytes holding `count` commands and resolves with their replies in order
   *  (error replies are returned, not thrown). */
  send(bytes: Buffer, count: number): Promise<Reply[]> {
    if (this.closedError) return Promise.reject(this.closedError);
    const all =
      count === 0
        ? Promise.resolve([])
        : new Promise<Reply[]>((resolve, reject) => this.pending.push({replies: [], count, resolve, reject}));
    this.socket.write(bytes);
    if (this.callTimeoutMs === undefined) return all;
    const ms = this.callTimeoutMs;
    const timer = setTimeout(() => {
      this.fail(new ConnectionClosedError(`no reply within ${ms} ms`));
      this.socket.destroy();
    }, ms);
    return all.finally(() => clearTimeout(timer));
  }

  close(): void {
    this.socket.destroy();
    this.fail(new ConnectionClosedError());
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    for (;;) {
      let parsed: Parsed | undefined;
      try {
        parsed = parseReply(this.buf, pos);
      } catch (err) {
        this.socket.destroy();
        this.fail(err as Error);
        return;
      }
      if (!parsed) break;
      pos = parsed.end;
      const waiter = this.pending[0];
      if (waiter) {
        waiter.replies.push(parsed.value);
        if (waiter.replies.length === waiter.count) {
          this.pending.shift();
          waiter.resolve(waiter.replies);
        }
      }
    }
    // Copy the unparsed tail so a large partial reply does not pin every earlier chunk.
    this.buf = pos === 0 ? this.buf : Buffer.from(this.buf.subarray(pos));
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const p of this.pending.splice(0)) p.reject(err);
    for (const l of this.closeListeners.splice(0)) l(err);
  }
}

/** One-shot: connect (authenticated per opts), run `use`, close. */
export async function withConnection<T>(
  port: number,
  opts: ConnectOptions,
  use: (conn: RedisConnection) => Promise<T>,
): Promise<T> {
  const conn = await RedisConnection.connect(port, opts);
  try {
    return await use(conn);
  } finally {
    conn.close();
  }
}
