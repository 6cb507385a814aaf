// Differential conformance: one scripted RESP conversation (raw bytes in, including pipelined
// bursts and a half-close) is played against a direct redis-server and against the gateway, and
// the bytes that come back are compared. The only differences allowed are listed in
// INTENDED_DIFFERENCES, each with its reason; everything else must be byte for byte the same.
import * as net from 'node:net';

/** A step of a conversation: bytes to send, or a pause (ms) to let the server act (expiry...). */
export type Step = string | Buffer | {pause: number};

export interface Conversation {
  name: string;
  steps: Step[];
  /** How the conversation ends: 'half-close' shuts the client's write side and reads until the
   *  server closes (the default); 'close' waits `waitMs` then closes. */
  end?: 'half-close' | 'close';
  waitMs?: number;
}

/** RESP array of bulk strings, as every client library sends. */
export function cmd(...args: (string | number)[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) {
    const v = String(a);
    s += `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
  }
  return s;
}

/**
 * Differences from Redis the gateway makes on purpose. Each rewrites both transcripts the same
 * way, so only these spots are allowed to differ.
 */
export const INTENDED_DIFFERENCES: {what: string; why: string; normalize: (s: string) => string}[] = [
  {
    what: 'connection ids (HELLO id, CLIENT ID)',
    why: 'the gateway numbers its own client connections; the backend numbers its connections',
    normalize: (s) => s.replace(/\$2\r\nid\r\n:\d+\r\n/g, '$2\r\nid\r\n:<id>\r\n'),
  },
];

export function normalize(s: string): string {
  let out = s;
  for (const d of INTENDED_DIFFERENCES) out = d.normalize(out);
  return out;
}

/** Plays a conversation on a new connection; resolves everything the server sent. */
export function play(port: number, conv: Conversation, timeoutMs = 5000): Promise<{data: string; closed: boolean}> {
  return new Promise((resolve) => {
    const s = net.connect({port, host: '127.0.0.1', allowHalfOpen: true});
    const chunks: Buffer[] = [];
    let closed = false;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      s.destroy();
      resolve({data: Buffer.concat(chunks).toString('latin1'), closed});
    };
    const timer = setTimeout(finish, timeoutMs);
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => {
      closed = true;
      finish();
    });
    s.on('close', () => {
      closed = true;
      finish();
    });
    s.on('error', () => {});
    s.on('connect', async () => {
      for (const step of conv.steps) {
        if (typeof step === 'object' && !Buffer.isBuffer(step)) await new Promise((r) => setTimeout(r, step.pause));
        else s.write(step);
      }
      if ((conv.end ?? 'half-close') === 'half-close') s.end();
      else setTimeout(finish, conv.waitMs ?? 300);
    });
  });
}
