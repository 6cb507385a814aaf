// CLIENT UNBLOCK, NO-EVICT and TRACKING ... REDIRECT with the ids the database's clients see
// (issue 9, managed command surface): the gateway maps them to its backend connections.
import Redis from 'ioredis';
import {GatewayHandle} from '../../../src/gateway';
import {Cluster, gateway, MemoryDirectory, startDatabase, stopDatabase, tempRoot, until} from './harness';

const root = tempRoot();
let db: Cluster;
let other: Cluster;
let gw: GatewayHandle;
const clients: Redis[] = [];

function connect(password = 'pw-ids'): Redis {
  const c = new Redis({port: gw.endpoints.mad.port, host: '127.0.0.1', password, maxRetriesPerRequest: 0, retryStrategy: () => null});
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  db = await startDatabase(root, 'ids', 'pw-ids', 'mad', ['ams']);
  other = await startDatabase(root, 'ids-other', 'pw-other', 'mad', []);
  const dir = new MemoryDirectory();
  dir.set('pw-ids', db.tenant);
  dir.set('pw-other', other.tenant);
  gw = await gateway(dir, ['mad', 'ams']);
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await gw?.close();
  await stopDatabase(db);
  await stopDatabase(other);
});

test('CLIENT UNBLOCK <id> unblocks a BLPOP of the same database (TIMEOUT: nil, ERROR: UNBLOCKED)', async () => {
  const blocked = connect();
  const ctl = connect();
  const id = Number(await blocked.call('CLIENT', 'ID'));
  expect(await ctl.call('CLIENT', 'UNBLOCK', String(id))).toBe(0); // not blocked yet
  const pop = blocked.blpop('ub:q', 0);
  await until(async () => (await ctl.call('CLIENT', 'UNBLOCK', String(id))) === 1);
  await expect(pop).resolves.toBeNull();
  const pop2 = blocked.blpop('ub:q', 0);
  const outsider = connect('pw-other');
  await until(async () => {
    // Another database's client cannot reach it, whatever id it names.
    expect(await outsider.call('CLIENT', 'UNBLOCK', String(id))).toBe(0);
    return (await ctl.call('CLIENT', 'UNBLOCK', String(id), 'ERROR')) === 1;
  });
  await expect(pop2).rejects.toThrow('UNBLOCKED client unblocked via CLIENT UNBLOCK');
  await expect(ctl.call('CLIENT', 'UNBLOCK', String(id), 'LATER')).rejects.toThrow('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
  await expect(ctl.call('CLIENT', 'UNBLOCK', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
  expect(await ctl.call('CLIENT', 'UNBLOCK', '999999')).toBe(0);
  expect(await blocked.ping()).toBe('PONG');
});

test('CLIENT NO-EVICT on|off shows as flag e', async () => {
  const c = connect();
  expect(await c.call('CLIENT', 'NO-EVICT', 'on')).toBe('OK');
  expect(String(await c.call('CLIENT', 'INFO'))).toContain(' flags=e ');
  expect(await c.call('CLIENT', 'NO-EVICT', 'off')).toBe('OK');
  expect(String(await c.call('CLIENT', 'INFO'))).toContain(' flags=N ');
  await expect(c.call('CLIENT', 'NO-EVICT', 'maybe')).rejects.toThrow('ERR syntax error');
});

test('CLIENT TRACKING on REDIRECT <client id>: invalidations reach that client; GETREDIR answers its id', async () => {
  for (const region of ['mad', 'ams']) {
    const sink = new Redis({port: gw.endpoints[region].port, host: '127.0.0.1', password: 'pw-ids', maxRetriesPerRequest: 0, retryStrategy: () => null});
    clients.push(sink);
    const sinkId = Number(await sink.call('CLIENT', 'ID'));
    const got: string[][] = [];
    sink.on('message', (ch: string, msg: unknown) => {
      if (ch === '__redis__:invalidate') got.push(msg as string[]);
    });
    await sink.subscribe('__redis__:invalidate');
    const reader = new Redis({port: gw.endpoints[region].port, host: '127.0.0.1', password: 'pw-ids', maxRetriesPerRequest: 0, retryStrategy: () => null});
    clients.push(reader);
    expect(await reader.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(sinkId))).toBe('OK');
    expect(await reader.call('CLIENT', 'GETREDIR')).toBe(sinkId);
    await reader.get(`tr:${region}`);
    await connect().set(`tr:${region}`, 'changed');
    await until(() => got.some((keys) => String(keys).includes(`tr:${region}`)));
    await expect(reader.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', '999999')).rejects.toThrow(
      'ERR The client ID you want redirect to does not exist');
    expect(await reader.call('CLIENT', 'TRACKING', 'off')).toBe('OK');
    expect(await reader.call('CLIENT', 'GETREDIR')).toBe(-1);
  }
});
