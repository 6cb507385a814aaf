// A region host whose network to PostgreSQL goes silent (packets dropped, no reset: a cut link, a
// firewall) must get errors it retries on, not reads that never return: an applier waiting on
// such a read stays behind until TCP gives up, long after the network is back. Here a relay
// between the log and PostgreSQL stops passing bytes while the connections stay open.
import * as net from 'node:net';
import {PostgresLog} from '../../../src/cache/log-postgres';
import {startPostgres, TestPostgres} from '../../helpers/postgres';

/** A TCP relay to `port` that can go silent: while `silent`, bytes either way are dropped. */
async function relay(port: number): Promise<{port: number; silent: boolean; close(): Promise<void>}> {
  const sockets = new Set<net.Socket>();
  const state = {silent: false};
  const server = net.createServer((a) => {
    const b = net.connect(port, '127.0.0.1');
    for (const s of [a, b]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        a.destroy();
        b.destroy();
      });
    }
    a.on('data', (d) => state.silent || b.write(d));
    b.on('data', (d) => state.silent || a.write(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get silent() {
      return state.silent;
    },
    set silent(v: boolean) {
      state.silent = v;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

let pg: TestPostgres;

beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);

afterAll(async () => {
  await pg?.stop();
});

test('a read on a connection gone silent fails after the query timeout, and the next read works on a new connection', async () => {
  const link = await relay(pg.port);
  const log = await PostgresLog.open(pg.url.replace(`:${pg.port}/`, `:${link.port}/`), {queryTimeoutMs: 1000});
  try {
    const org = 'silent';
    for (let i = 0; i < 5; i++) await log.append(org, Date.now(), 'mad', 'SET', Buffer.from(`*3\r\n$3\r\nSET\r\n$2\r\nk${i}\r\n$1\r\nv\r\n`));
    expect(await log.read(org, 0, 100, 1 << 20)).toHaveLength(5);
    link.silent = true;
    await expect(log.read(org, 0, 100, 1 << 20)).rejects.toThrow(/timeout/i);
    link.silent = false;
    expect(await log.read(org, 0, 100, 1 << 20)).toHaveLength(5);
  } finally {
    await log.close();
    await link.close();
  }
}, 30_000);
