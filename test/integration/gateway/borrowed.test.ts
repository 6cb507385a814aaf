// The gateway's plain connections read into buffers they do not own (src/net/borrowed-reads.ts):
// every client's commands into one buffer, a shared backend connection's replies into one of its
// own until a client cannot take them at once. Bytes kept past a read must be copies, or another
// client's bytes would show up in them: these check what a client would see if they were not.
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import type Redis from 'ioredis';
import {GatewayHandle} from '../../../src/gateway';
import {Cluster, gateway, MemoryDirectory, startDatabase, stopDatabase, tempRoot, testClient} from './harness';

let db: Cluster;
let gw: GatewayHandle;
const dir = new MemoryDirectory();
const PW = 'pw-borrowed';

const client = (port: number, direct = false): Redis => testClient(port, PW, direct);

function bulk(s: Buffer | string): Buffer {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]);
}

function command(...args: (Buffer | string)[]): Buffer {
  return Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map(bulk)]);
}

/** A raw connection: connect, AUTH, then hand it over. */
async function rawClient(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.once('connect', () => {
      s.write(command('AUTH', PW));
      s.once('data', (d) => (d.toString() === '+OK\r\n' ? resolve() : reject(new Error(d.toString()))));
    });
  });
  return s;
}

beforeAll(async () => {
  db = await startDatabase(tempRoot(), 'borrowed', PW, 'mad', []);
  dir.set(PW, db.tenant);
  gw = await gateway(dir, ['mad']);
});

afterAll(async () => {
  await gw?.close();
  await stopDatabase(db);
});

test('a command split across reads keeps its first part while other clients\' reads come in between', async () => {
  const port = gw.endpoints.mad.port;
  const value = crypto.randomBytes(48 * 1024);
  const frame = command('SET', 'split:k', value);
  const half = 30 * 1024;
  const writer = await rawClient(port);
  const others = Array.from({length: 8}, () => client(port));
  try {
    const reply = new Promise<string>((resolve) => writer.once('data', (d) => resolve(d.toString())));
    writer.write(frame.subarray(0, half));
    await new Promise((r) => setTimeout(r, 50));
    // Other clients' commands (and values of the same size) are read into the same buffer now.
    await Promise.all(others.flatMap((o, i) => [o.set(`other:${i}`, crypto.randomBytes(48 * 1024)), o.ping()]));
    writer.write(frame.subarray(half));
    expect(await reply).toBe('+OK\r\n');
    const stored = await others[0].getBuffer('split:k');
    expect(stored !== null && stored.equals(value)).toBe(true);
  } finally {
    writer.destroy();
    others.forEach((o) => o.disconnect());
  }
});

test('a reply a client is slow to take stays intact while the shared connection reads other replies', async () => {
  const port = gw.endpoints.mad.port;
  const big = crypto.randomBytes(4 * 1024 * 1024);
  const seed = client(port);
  const others = Array.from({length: 4}, () => client(port));
  const slow = await rawClient(port);
  try {
    await seed.set('slow:big', big);
    for (let i = 0; i < 4; i++) await seed.set(`busy:${i}`, crypto.randomBytes(32 * 1024));
    // The slow client asks and does not read: the gateway cannot write the reply at once.
    slow.pause();
    slow.write(command('GET', 'slow:big'));
    await new Promise((r) => setTimeout(r, 100));
    // Meanwhile the shared connection carries other replies.
    for (let round = 0; round < 20; round++) await Promise.all(others.map((o, i) => o.getBuffer(`busy:${i}`)));
    const chunks: Buffer[] = [];
    const header = Buffer.from(`$${big.length}\r\n`);
    const want = header.length + big.length + 2;
    const got = new Promise<Buffer>((resolve) => {
      let n = 0;
      slow.on('data', (d: Buffer) => {
        chunks.push(d);
        n += d.length;
        if (n >= want) resolve(Buffer.concat(chunks));
      });
    });
    slow.resume();
    const all = await got;
    expect(all.subarray(0, header.length).toString()).toBe(header.toString());
    expect(all.subarray(header.length, header.length + big.length).equals(big)).toBe(true);
  } finally {
    slow.destroy();
    seed.disconnect();
    others.forEach((o) => o.disconnect());
  }
});
