// What a client sees of the gateway's socket I/O, whichever way the gateway reads its plain
// sockets: the native batch (src/net/batched-io.ts, batched.test.ts) or Node's own reads
// (REDFLY_BATCHED_IO=0, node-reads.test.ts). A connection's end, a reset, a client that stops
// reading and starts again, many clients at once.
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import {GatewayHandle} from '../../../src/gateway';
import {batchedIoUnavailable} from '../../../src/net/batched-io';
import {Cluster, gateway, MemoryDirectory, startDatabase, stopDatabase, tempRoot, testClient} from './harness';

function bulk(s: Buffer | string): Buffer {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]);
}

export function command(...args: (Buffer | string)[]): Buffer {
  return Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map(bulk)]);
}

/** Everything a raw connection receives until the gateway closes it. */
function readToClose(s: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  return new Promise((resolve) => s.once('close', () => resolve(Buffer.concat(chunks))));
}

async function rawClient(port: number, password: string): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.once('connect', () => {
      s.write(command('AUTH', password));
      s.once('data', (d) => (d.toString() === '+OK\r\n' ? resolve() : reject(new Error(d.toString()))));
    });
  });
  return s;
}

/** Registers the shared cases in the calling test file (its own database and gateway). */
export function ioCases(name: string): void {
  let db: Cluster;
  let gw: GatewayHandle;
  const dir = new MemoryDirectory();
  const PW = `pw-${name}`;
  const port = (): number => gw.endpoints.mad.port;
  const logs: string[] = [];

  beforeAll(async () => {
    db = await startDatabase(tempRoot(), name, PW, 'mad', []);
    dir.set(PW, db.tenant);
    gw = await gateway(dir, ['mad'], {log: (m) => logs.push(m)});
  });

  test("the gateway's log says how it reads plain connections, and why not natively", () => {
    const off = batchedIoUnavailable();
    const line = logs.find((l) => l.startsWith('gateway: plain connections are read by'));
    expect(line).toBe(off === ''
      ? 'gateway: plain connections are read by the native batch (dist/native/batched-io.node)'
      : `gateway: plain connections are read by Node (native batch off: ${off})`);
  });

  afterAll(async () => {
    await gw?.close();
    await stopDatabase(db);
  });

  test('a client that half-closes after its commands gets every reply, then the gateway closes', async () => {
    const s = await rawClient(port(), PW);
    const all = readToClose(s);
    s.end(Buffer.concat([command('SET', 'hc:k', 'v1'), command('INCR', 'hc:n'), command('GET', 'hc:k')]));
    expect((await all).toString()).toBe('+OK\r\n:1\r\n$2\r\nv1\r\n');
  });

  test('a connection reset by its client is gone from CLIENT LIST, and the gateway serves the next', async () => {
    const admin = testClient(port(), PW);
    try {
      const s = await rawClient(port(), PW);
      s.write(command('CLIENT', 'SETNAME', 'resetme'));
      await new Promise((r) => s.once('data', r));
      expect(String(await admin.call('CLIENT', 'LIST'))).toContain('name=resetme');
      s.resetAndDestroy();
      for (let i = 0; i < 100 && String(await admin.call('CLIENT', 'LIST')).includes('name=resetme'); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(String(await admin.call('CLIENT', 'LIST'))).not.toContain('name=resetme');
      expect(await admin.ping()).toBe('PONG');
    } finally {
      admin.disconnect();
    }
  });

  test('a client that pipelines and does not read is held back, then gets every reply in order', async () => {
    const value = crypto.randomBytes(256 * 1024);
    const seed = testClient(port(), PW);
    const s = await rawClient(port(), PW);
    try {
      await seed.set('pp:big', value);
      s.pause();
      // 16 MiB of replies, far past what a socket takes at once, and 2 MiB of commands, past what
      // the gateway reads ahead for a connection it cannot answer (it stops reading it, then
      // reads again as the client takes its replies).
      const n = 64;
      const echoed = (i: number): string => `${i}:${'x'.repeat(32 * 1024)}`;
      const frames = Array.from({length: n}, (_, i) => Buffer.concat([command('GET', 'pp:big'), command('INCR', `pp:i:${name}`), command('ECHO', echoed(i))]));
      // The first replies fill the socket buffers first; the rest of the commands come while the
      // gateway cannot write.
      s.write(Buffer.concat(frames.slice(0, 16)));
      await new Promise((r) => setTimeout(r, 300));
      s.write(Buffer.concat(frames.slice(16)));
      await new Promise((r) => setTimeout(r, 300));
      const chunks: Buffer[] = [];
      let got = 0;
      const want = n * bulk(value).length + Array.from({length: n}, (_, i) => `:${i + 1}\r\n`.length + bulk(echoed(i)).length).reduce((a, b) => a + b, 0);
      const done = new Promise<Buffer>((resolve) => {
        s.on('data', (d: Buffer) => {
          chunks.push(d);
          got += d.length;
          if (got >= want) resolve(Buffer.concat(chunks));
        });
      });
      s.resume();
      const all = await done;
      let at = 0;
      for (let i = 0; i < n; i++) {
        const b = bulk(value);
        expect(all.subarray(at, at + b.length).equals(b)).toBe(true);
        at += b.length;
        const inc = Buffer.from(`:${i + 1}\r\n`);
        expect(all.subarray(at, at + inc.length).toString()).toBe(inc.toString());
        at += inc.length;
        const echo = bulk(echoed(i));
        expect(all.subarray(at, at + echo.length).toString()).toBe(echo.toString());
        at += echo.length;
      }
      expect(at).toBe(all.length);
    } finally {
      s.destroy();
      seed.disconnect();
    }
  });

  test('200 clients sending at once each get their own replies', async () => {
    const clients = await Promise.all(Array.from({length: 200}, () => rawClient(port(), PW)));
    try {
      const replies = clients.map((s, i) => {
        const want = `+OK\r\n$${String(i).length + 2}\r\nv-${i}\r\n`;
        return new Promise<string>((resolve) => {
          let got = '';
          s.on('data', (d: Buffer) => {
            got += d.toString();
            if (got.length >= want.length) resolve(got);
          });
        });
      });
      clients.forEach((s, i) => s.write(Buffer.concat([command('SET', `many:${name}:${i}`, `v-${i}`), command('GET', `many:${name}:${i}`)])));
      const got = await Promise.all(replies);
      got.forEach((g, i) => expect(g).toBe(`+OK\r\n$${String(i).length + 2}\r\nv-${i}\r\n`));
    } finally {
      clients.forEach((s) => s.destroy());
    }
  });
}
