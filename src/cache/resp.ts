// A small RESP2 connection for the cache's own traffic to its backends (appliers, status, the
// command table). Replies keep bulk strings as Buffers and keep errors nested inside arrays
// (an EXEC reply says which replayed command failed), and a closed socket fails every pending
// call at once so the applier can reconnect and re-read its cursor instead of guessing.
import * as net from 'node:net';

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

const CRLF = Buffer.from('\r\n');

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

function parseReply(buf: Buffer, start: number): Parsed | undefined {
  if (start >= buf.length) return undefined;
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

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
}

export class RespConnection {
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];
  private closedError: Error | null = null;
  private readonly closeListeners: Array<(err: Error) => void> = [];

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new ConnectionClosedError(err.message)));
    socket.on('close', () => this.fail(new ConnectionClosedError()));
  }

  static connect(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({port, host});
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionClosedError(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RespConnection(socket));
      });
    });
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

  /** Writes pre-encoded bytes holding `count` commands and resolves with their replies in order
   *  (error replies are returned, not thrown). */
  send(bytes: Buffer, count: number): Promise<Reply[]> {
    if (this.closedError) return Promise.reject(this.closedError);
    const replies: Promise<Reply>[] = [];
    for (let i = 0; i < count; i++) {
      replies.push(new Promise<Reply>((resolve, reject) => this.pending.push({resolve, reject})));
    }
    this.socket.write(bytes);
    return Promise.all(replies);
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
      const waiter = this.pending.shift();
      if (waiter) waiter.resolve(parsed.value);
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

export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export const asText = (r: Reply): string => (Buffer.isBuffer(r) ? r.toString('utf8') : String(r));
