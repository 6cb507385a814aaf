// Bad clients: malformed and oversized input, disconnects mid-pipeline and mid-transaction,
// slow readers; and tenant isolation.
import * as net from 'node:net';
import Redis from 'ioredis';
import {GatewayHandle} from '../../../src/gateway';
import {admin, Cluster, clientCount, gateway, MemoryDirectory, raw, startDatabase, stopDatabase, tempRoot, until} from './harness';

const root = tempRoot();
const dir = new MemoryDirectory();
let gw: GatewayHandle;
let port: number;
let a: Cluster;
let b: Cluster;
const clients: Redis[] = [];
const AUTH_A = '*2\r\n$4\r\nAUTH\r\n$4\r\npw-a\r\n';

function connect(pw: string): Redis {
  const r = new Redis({port, host: '127.0.0.1', password: pw, maxRetriesPerRequest: 0, retryStrategy: () => null});
  r.on('error', () => {});
  clients.push(r);
  return r;
}

beforeAll(async () => {
  a = await startDatabase(root, 'dba', 'pw-a', 'mad', []);
  b = await startDatabase(root, 'dbb', 'pw-b', 'mad', []);
  dir.set('pw-a', a.tenant);
  dir.set('pw-b', b.tenant);
  gw = await gateway(dir, ['mad']);
  port = gw.endpoints.mad.port;
});

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

afterAll(async () => {
  await gw?.close();
  await stopDatabase(a);
  await stopDatabase(b);
});

const closesWith = async (payload: string, expected: string) => {
  const res = await raw(port, payload);
  expect(res.data).toBe(expected);
  expect(res.closed).toBe(true);
};

describe("Redis's protocol limits, with Redis's texts, then the connection is closed", () => {
  test('a huge multibulk length does not hang', () => closesWith('*3000000000\r\n', '-ERR Protocol error: invalid multibulk length\r\n'));
  test('before AUTH: more than 10 arguments', () => closesWith('*11\r\n', '-ERR Protocol error: unauthenticated multibulk length\r\n'));
  test('before AUTH: a bulk over 16 KB', () =>
    closesWith('*2\r\n$4\r\nAUTH\r\n$20000\r\n', '-ERR Protocol error: unauthenticated bulk length\r\n'));
  test('a negative bulk length', () => closesWith(`${AUTH_A}*1\r\n$-5\r\n`, '+OK\r\n-ERR Protocol error: invalid bulk length\r\n'));
  test('a bulk over 512 MB', () => closesWith(`${AUTH_A}*2\r\n$3\r\nGET\r\n$600000000\r\n`, '+OK\r\n-ERR Protocol error: invalid bulk length\r\n'));
  test('a wrong type byte', () => closesWith(`${AUTH_A}*1\r\nXPING\r\n`, "+OK\r\n-ERR Protocol error: expected '$', got 'X'\r\n"));
  test('an endless multibulk header', () => closesWith(`*${'1'.repeat(70_000)}`, '-ERR Protocol error: too big mbulk count string\r\n'));
  test('an endless inline command', () => closesWith('PING' + ' '.repeat(70_000), '-ERR Protocol error: too big inline request\r\n'));
  test('unbalanced quotes', () => closesWith('AUTH pw-a\r\nSET a "b\r\n', '+OK\r\n-ERR Protocol error: unbalanced quotes in request\r\n'));
  test('earlier commands of the pipeline are answered first', () =>
    closesWith(`${AUTH_A}*3\r\n$3\r\nSET\r\n$2\r\npe\r\n$1\r\n1\r\n*1\r\n$4\r\nPING\r\n*1\r\n@`,
      "+OK\r\n+OK\r\n+PONG\r\n-ERR Protocol error: expected '$', got '@'\r\n"));
});

test('inline commands work like RESP ones', async () => {
  const res = await raw(port, 'AUTH pw-a\r\nSET inl "two words"\r\nGET inl\r\nPING\r\n', (d) => d.includes('PONG'));
  expect(res.data).toBe('+OK\r\n+OK\r\n$9\r\ntwo words\r\n+PONG\r\n');
});

test('HELLO: NOPROTO for unknown versions, NOAUTH without AUTH, a map with AUTH', async () => {
  expect((await raw(port, '*2\r\n$5\r\nHELLO\r\n$1\r\n4\r\n', (d) => d.includes('\r\n'))).data).toBe('-NOPROTO unsupported protocol version\r\n');
  expect((await raw(port, '*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n', (d) => d.includes('\r\n'))).data).toMatch(/^-NOAUTH HELLO must be called with the client already authenticated/);
  const ok = await raw(port, '*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$4\r\npw-a\r\n', (d) => d.includes('modules'));
  expect(ok.data).toMatch(/^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n/);
  expect(ok.data).toContain('$5\r\nproto\r\n:3\r\n');
});

test('a client gone mid-transaction leaves no pinned connection and nothing applied', async () => {
  const base = await clientCount(a.primary.port);
  expect(base).toBe(0);
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  s.write(`${AUTH_A}*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$1\r\n1\r\n`);
  let got = '';
  s.on('data', (d) => (got += d));
  await until(() => got.includes('QUEUED'));
  expect(await clientCount(a.primary.port)).toBeGreaterThan(base);
  s.destroy();
  await until(async () => (await clientCount(a.primary.port)) === base);
  const r = connect('pw-a');
  expect(await r.exists('half')).toBe(0);
});

test('a client gone mid-pipeline and mid-frame leaves no leak', async () => {
  const r = connect('pw-a');
  await r.ping();
  const base = await clientCount(a.primary.port);
  for (let round = 0; round < 5; round++) {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((res) => s.once('connect', res));
    let cmds = AUTH_A + '*2\r\n$5\r\nBLPOP\r\n$9\r\nnever:key\r\n'.replace('*2', '*3').replace('never:key\r\n', 'never:key\r\n$1\r\n0\r\n');
    for (let i = 0; i < 500; i++) cmds += `*3\r\n$3\r\nSET\r\n$6\r\npl:${String(i).padStart(3, '0')}\r\n$1\r\nx\r\n`;
    s.write(cmds + '*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$100\r\nabc');
    await new Promise((res) => setTimeout(res, 50));
    s.destroy();
  }
  await until(async () => (await clientCount(a.primary.port)) === base);
  expect(await r.exists('half')).toBe(0);
  expect(await r.ping()).toBe('PONG');
});

test('a slow reader gets every reply, in order, once it reads again', async () => {
  const r = connect('pw-a');
  await r.set('slow:v', Buffer.alloc(256 * 1024, 120));
  const s = net.connect(port, '127.0.0.1');
  await new Promise((res) => s.once('connect', res));
  s.pause();
  let cmds = AUTH_A;
  for (let i = 0; i < 200; i++) cmds += '*2\r\n$3\r\nGET\r\n$6\r\nslow:v\r\n';
  cmds += '*2\r\n$4\r\nECHO\r\n$4\r\ndone\r\n';
  s.write(cmds);
  await new Promise((res) => setTimeout(res, 500));
  let total = 0;
  let tail = '';
  s.on('data', (d: Buffer) => {
    total += d.length;
    tail = (tail + d.toString('latin1')).slice(-20);
  });
  s.resume();
  const one = `$${256 * 1024}\r\n`.length + 256 * 1024 + 2;
  await until(() => tail.endsWith('$4\r\ndone\r\n'), 20000);
  expect(total).toBe(5 + 200 * one + 10);
  s.destroy();
});

test("tenant isolation: database A's password never reaches database B's data", async () => {
  const ra = connect('pw-a');
  const rb = connect('pw-b');
  await ra.set('secret', 'of-a');
  await rb.set('secret', 'of-b');
  expect(await ra.get('secret')).toBe('of-a');
  expect(await rb.get('secret')).toBe('of-b');
  await ra.flushall();
  expect(await rb.get('secret')).toBe('of-b');
  // Re-authenticating on one connection switches the database wholesale.
  const res = await raw(port, `${AUTH_A}*2\r\n$3\r\nGET\r\n$6\r\nsecret\r\n*2\r\n$4\r\nAUTH\r\n$4\r\npw-b\r\n*2\r\n$3\r\nGET\r\n$6\r\nsecret\r\n`,
    (d) => d.includes('of-b'));
  expect(res.data).toBe('+OK\r\n$-1\r\n+OK\r\n$4\r\nof-b\r\n');
  // Nor does the database password open the redis-server behind the gateway as the platform.
  const direct = await raw(b.primary.port, '*3\r\n$4\r\nAUTH\r\n$6\r\nredfly\r\n$4\r\npw-b\r\n', (d) => d.includes('\r\n'));
  expect(direct.data).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
  const adm = admin(a.primary.port);
  expect(await adm.call('ACL', 'WHOAMI')).toBe('redfly');
  adm.disconnect();
});
