// A minimal RESP2 client for the provisioner's own admin traffic (readiness polls, REPLICAOF,
// CONFIG SET, ACL SETUSER). Readiness is polled every few milliseconds while processes start, so
// it must connect and fail fast with no reconnect logic or offline queue of its own; a full driver
// (ioredis) would retry behind our back and hide the "not listening yet" state we poll for.
import * as net from 'node:net';

export type RespValue = string | number | null | RespValue[];

export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
  }
}

type Parsed = {value: RespValue | RedisReplyError; end: number} | undefined;

function parse(buf: Buffer, start: number): Parsed {
  const lineEnd = buf.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const type = buf[start];
  const line = buf.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // +
      return {value: line, end: next};
    case 0x2d: // -
      return {value: new RedisReplyError(line), end: next};
    case 0x3a: // :
      return {value: Number(line), end: next};
    case 0x24: {
      // $
      const len = Number(line);
      if (len < 0) return {value: null, end: next};
      if (buf.length < next + len + 2) return undefined;
      return {value: buf.toString('utf8', next, next + len), end: next + len + 2};
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return {value: null, end: next};
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, pos);
        if (!item) return undefined;
        // An error nested in an array (EXEC) is kept as its text; callers here never use EXEC.
        items.push(item.value instanceof Error ? item.value.message : item.value);
        pos = item.end;
      }
      return {value: items, end: pos};
    }
    default:
      throw new Error(`unexpected RESP type byte ${type}`);
  }
}

function encode(args: (string | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const b = Buffer.from(String(arg));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export class RespClient {
  private buf: Buffer = Buffer.alloc(0);
  private pending: {resolve: (v: RespValue) => void; reject: (e: Error) => void}[] = [];
  private failure: Error | null = null;

  private constructor(
    private readonly socket: net.Socket,
    private readonly callTimeoutMs: number,
  ) {
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connects to 127.0.0.1:port; rejects at once when nothing listens there. A call with no
   *  reply within callTimeoutMs (something that is not Redis holds the port) fails the client. */
  static connect(port: number, timeoutMs = 2000, callTimeoutMs = 5000): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({host: '127.0.0.1', port});
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to 127.0.0.1:${port} timed out`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RespClient(socket, callTimeoutMs));
      });
    });
  }

  call(...args: (string | number)[]): Promise<RespValue> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Error(`no reply to ${String(args[0])} within ${this.callTimeoutMs} ms`));
        this.socket.destroy();
      }, this.callTimeoutMs);
      const done = () => clearTimeout(timer);
      this.pending.push({
        resolve: (v) => (done(), resolve(v)),
        reject: (e) => (done(), reject(e)),
      });
      this.socket.write(encode(args));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      let parsed: Parsed;
      try {
        parsed = parse(this.buf, pos);
      } catch (err) {
        this.fail(err as Error);
        this.socket.destroy();
        return;
      }
      if (!parsed) break;
      pos = parsed.end;
      const waiter = this.pending.shift();
      if (!waiter) continue;
      if (parsed.value instanceof RedisReplyError) waiter.reject(parsed.value);
      else waiter.resolve(parsed.value);
    }
    this.buf = this.buf.subarray(pos);
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    for (const waiter of this.pending.splice(0)) waiter.reject(this.failure);
  }
}

/** One-shot: connect, authenticate as the internal user, run the commands in order, close. */
export async function adminCommands(
  port: number,
  secret: string,
  commands: (string | number)[][],
): Promise<RespValue[]> {
  const client = await RespClient.connect(port);
  try {
    await client.call('AUTH', 'redfly', secret);
    const replies: RespValue[] = [];
    for (const cmd of commands) replies.push(await client.call(...cmd));
    return replies;
  } finally {
    client.close();
  }
}

/** Parses the "key:value" lines of an INFO reply. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const idx = line.indexOf(':');
    if (idx > 0 && line[0] !== '#') out[line.slice(0, idx)] = line.slice(idx + 1);
  }
  return out;
}
