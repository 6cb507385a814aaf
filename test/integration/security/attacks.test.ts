// The attacks of issue 10, each against the built server on loopback, measured as a user of
// the platform (or its operator) would notice them: the server's resident memory and open
// descriptors (from /proc), whether other clients are still served, what the log says.
// Sizes are kept small enough for a shared test machine, and every wait is bounded.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import Redis from 'ioredis';
import {api, createDatabase, openFds, Platform, primaryPid, rss, sleep, startPlatform} from './platform';

jest.setTimeout(120_000);

const MB = 1024 * 1024;

function endpoint(url: string): {host: string; port: number; password: string} {
  const u = new URL(url);
  return {host: u.hostname, port: Number(u.port), password: decodeURIComponent(u.password)};
}

function client(url: string): Redis {
  const r = new Redis(url, {maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: false});
  r.on('error', () => {});
  return r;
}

/** The most a process's RSS grew above `base` while `during` ran, sampled every 100 ms. */
async function peakGrowth(pid: number, base: number, during: Promise<unknown>): Promise<number> {
  let peak = 0;
  let done = false;
  void during.finally(() => (done = true));
  while (!done) {
    peak = Math.max(peak, rss(pid) - base);
    await sleep(100);
  }
  return Math.max(peak, rss(pid) - base);
}

/** A socket that sends `payload` and never reads (its receive window fills and stays full). */
function neverReads(port: number, payload: Buffer, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({port, host: '127.0.0.1', localAddress});
    s.on('error', () => {});
    s.once('connect', () => {
      s.pause();
      s.write(payload);
      resolve(s);
    });
    s.once('error', reject);
  });
}

describe('a client that does not log in', () => {
  let p: Platform;
  let db: any;
  beforeAll(async () => {
    p = await startPlatform([], {
      REDFLY_GATEWAY_MAX_UNAUTHENTICATED_PER_ADDRESS: '50',
      REDFLY_AUTH_TIMEOUT_MS: '2000',
    });
    db = await createDatabase(p, {name: 'victim'});
  });
  afterAll(async () => p && (await p.stop()));

  it('cannot make the gateway buffer NOAUTH replies it does not read', async () => {
    const {port} = endpoint(db.privateUrl);
    const base = rss(p.pid);
    // 8 Mi inline commands = 16 MB in; unread NOAUTH replies would be ~270 MB.
    const s = await neverReads(port, Buffer.alloc(16 * MB, 'P\n'));
    const growth = await peakGrowth(p.pid, base, sleep(4000));
    process.stderr.write(`NOAUTH flood: server RSS +${(growth / MB).toFixed(1)} MB\n`);
    expect(growth).toBeLessThan(32 * MB);
    // Other clients are still served.
    const ok = client(db.privateUrl);
    expect(await ok.ping()).toBe('PONG');
    ok.disconnect();
    s.destroy();
  });

  it('caps connections that have not authenticated per address, and closes them at the AUTH deadline', async () => {
    const {port} = endpoint(db.privateUrl);
    await sleep(500);
    const fdsBefore = openFds(p.pid);
    const socks: net.Socket[] = [];
    let closedByServer = 0;
    await Promise.all(Array.from({length: 300}, () => new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.resume(); // reads, so that it sees the server close it
      s.on('close', () => closedByServer++);
      s.once('connect', () => resolve());
      s.once('error', () => resolve());
      socks.push(s);
    })));
    await sleep(500);
    const fdsDuring = openFds(p.pid);
    // A client from another address still gets in, and logs in.
    const legit = await new Promise<string>((resolve) => {
      const s = net.connect({port, host: '127.0.0.1', localAddress: '127.0.0.2'});
      let got = '';
      s.on('data', (d) => {
        got += d;
        if (got.includes('PONG')) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('close', () => resolve(got));
      s.on('error', () => {});
      s.write(`AUTH ${endpoint(db.privateUrl).password}\r\nPING\r\n`);
    });
    expect(legit).toContain('+OK');
    expect(legit).toContain('+PONG');
    process.stderr.write(`300 connections that never AUTH: server descriptors ${fdsBefore} -> ${fdsDuring}\n`);
    expect(fdsDuring - fdsBefore).toBeLessThan(100);
    // Past the 2 s deadline every connection that never logged in is gone.
    await sleep(3000);
    expect(closedByServer).toBe(300);
    expect(openFds(p.pid) - fdsBefore).toBeLessThan(20);
    for (const s of socks) s.destroy();
    // The API still answers.
    expect((await api(p, 'GET', '/v1/databases')).status).toBe(200);
  });

  it('spaces out failed AUTH from one address and logs them without the password', async () => {
    const {port} = endpoint(db.privateUrl);
    const guess = 'guess-0123456789';
    const s = net.connect(port, '127.0.0.1');
    let replies = 0;
    s.on('data', (d) => (replies += (String(d).match(/WRONGPASS/g) ?? []).length));
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write(`AUTH ${guess}\r\n`.repeat(100));
    await sleep(1500);
    s.destroy();
    // Without the slowdown all 100 answers arrive within milliseconds.
    expect(replies).toBeGreaterThanOrEqual(3);
    expect(replies).toBeLessThan(30);
    const log = fs.readFileSync(path.join(p.home, 'server.log'), 'utf8');
    expect(log).toMatch(/failed AUTH from 127\.0\.0\.1/);
    expect(log).not.toContain(guess);
  });
});

describe('a logged-in client that does not read', () => {
  let p: Platform;
  let db: any;
  let pinnedDb: any;
  const VALUE = 4 * MB;
  beforeAll(async () => {
    p = await startPlatform();
    // 500 MB: Redis itself holds a 320 MB burst of replies, so the gateway's bound is what acts.
    db = await createDatabase(p, {name: 'reader', plan: '500mb'});
    pinnedDb = await createDatabase(p, {name: 'pinned'});
    for (const d of [db, pinnedDb]) {
      const c = client(d.privateUrl);
      await c.set('big', Buffer.alloc(VALUE, 'x'));
      c.disconnect();
    }
  });
  afterAll(async () => p && (await p.stop()));

  async function attack(url: string, prefix: string, gets: number): Promise<{sock: net.Socket; received: Promise<number>}> {
    const {port, password} = endpoint(url);
    const sock = await neverReads(port, Buffer.from(`AUTH ${password}\r\n${prefix}${'GET big\r\n'.repeat(gets)}`));
    let received = 0;
    const done = new Promise<number>((resolve) => sock.on('close', () => resolve(received)));
    return {
      sock,
      received: (async () => {
        await sleep(4000);
        // Now read: a client the server disconnected gets far less than everything it asked for.
        sock.on('data', (d) => (received += d.length));
        sock.resume();
        return Promise.race([done, sleep(20_000).then(() => received)]);
      })(),
    };
  }

  it('is disconnected by the gateway past the output bound, and the gateway stays small', async () => {
    const base = rss(p.pid);
    const {sock, received} = await attack(db.privateUrl, '', 80); // 320 MB of replies owed
    const growth = await peakGrowth(p.pid, base, received);
    process.stderr.write(`GET big x80 unread: gateway RSS +${(growth / MB).toFixed(1)} MB, client got ${((await received) / MB).toFixed(1)} MB\n`);
    expect(await received).toBeLessThan(200 * MB);
    expect(growth).toBeLessThan(160 * MB);
    sock.destroy();
  });

  it('on a pinned connection (WATCH) is disconnected by redis-server, and the plan keeps taking writes', async () => {
    const primary = primaryPid(p, pinnedDb.processes.find((x: any) => x.role === 'primary').port);
    const base = rss(primary);
    const {sock, received} = await attack(pinnedDb.privateUrl, 'WATCH x\r\n', 100); // 400 MB owed on a 100 MB plan
    const growth = await peakGrowth(primary, base, received);
    process.stderr.write(`WATCH + GET big x100 unread: primary redis-server RSS +${(growth / MB).toFixed(1)} MB, client got ${((await received) / MB).toFixed(1)} MB\n`);
    expect(await received).toBeLessThan(200 * MB);
    expect(growth).toBeLessThan(160 * MB);
    const c = client(pinnedDb.privateUrl);
    expect(await c.set('after', '1')).toBe('OK');
    c.disconnect();
    sock.destroy();
  });
});
