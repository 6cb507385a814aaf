// A regional-cache tenant: database 0 is the region's own redis-server, database 1 is handed
// to the cache's virtual database. The virtual database here is a recording fake.
import Redis from 'ioredis';
import {CacheTenant, GatewayHandle, VirtualDbResult} from '../../../src/gateway';
import {gateway, MemoryDirectory, RedisProc, startRedis, stopRedis, tempRoot} from './harness';

const root = tempRoot();
let gw: GatewayHandle;
const backends: Record<string, RedisProc> = {};
const accepted: {region: string; args: string[]}[] = [];
const clients: Redis[] = [];

const tenant: CacheTenant = {
  kind: 'cache',
  id: 'cache:acme',
  org: 'acme',
  backend: async (region) => {
    const b = backends[region];
    if (!b) throw new Error(`no cache in ${region}`);
    return {host: '127.0.0.1', port: b.port};
  },
  virtualDb: {
    accept: async (args, ctx): Promise<VirtualDbResult> => {
      const a = args.map((x) => x.toString());
      accepted.push({region: ctx.region, args: a});
      if (a[0].toLowerCase() === 'select') return {reply: Buffer.from('+OK\r\n'), select: Number(a[1]) as 0 | 1};
      if (a[0].toLowerCase() === 'spop') return {reply: Buffer.from("-ERR Command is not available in database 1: 'SPOP'\r\n")};
      return {reply: Buffer.from('+OK\r\n')};
    },
  },
};

function connect(region: string): Redis {
  const r = new Redis({port: gw.endpoints[region].port, host: '127.0.0.1', password: 'cache-pw', maxRetriesPerRequest: 0, retryStrategy: () => null});
  r.on('error', () => {});
  clients.push(r);
  return r;
}

beforeAll(async () => {
  backends.mad = await startRedis(root, {password: 'unused-mad'});
  backends.ams = await startRedis(root, {password: 'unused-ams'});
  const dir = new MemoryDirectory();
  dir.set('cache-pw', tenant);
  gw = await gateway(dir, ['mad', 'ams', 'syd']);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

afterAll(async () => {
  await gw?.close();
  for (const b of Object.values(backends)) await stopRedis(b);
});

test('database 0 is region-local', async () => {
  const mad = connect('mad');
  const ams = connect('ams');
  await mad.set('k', 'in-mad');
  expect(await mad.get('k')).toBe('in-mad');
  expect(await ams.get('k')).toBeNull();
  await ams.set('k', 'in-ams');
  expect(await mad.get('k')).toBe('in-mad');
});

test('SELECT 1 hands every command to the virtual database, in order, until SELECT 0', async () => {
  accepted.length = 0;
  const r = connect('ams');
  await r.set('db0', 'x');
  expect(await r.select(1)).toBe('OK');
  const res = (await r.pipeline().set('a', '1').incr('n').spop('s').exec())!;
  expect(res).toEqual([[null, 'OK'], [null, 'OK'], [expect.objectContaining({message: "ERR Command is not available in database 1: 'SPOP'"}), undefined]]);
  expect(await r.select(0)).toBe('OK');
  expect(await r.get('db0')).toBe('x');
  expect(accepted).toEqual([
    {region: 'ams', args: ['set', 'a', '1']},
    {region: 'ams', args: ['incr', 'n']},
    {region: 'ams', args: ['spop', 's']},
    {region: 'ams', args: ['select', '0']},
  ]);
});

test('commands the cache does not run are refused in database 0', async () => {
  const r = connect('mad');
  await expect(r.call('MULTI')).rejects.toThrow("ERR Command is not available on the regional cache: 'MULTI'");
  await expect(r.call('PUBLISH', 'c', 'm')).rejects.toThrow("ERR Command is not available on the regional cache: 'PUBLISH'");
  await expect(r.call('CONFIG', 'GET', 'x')).rejects.toThrow("ERR Command is not available on the regional cache: 'CONFIG'");
  // One policy: the script, transaction and sharded Pub/Sub families are refused whole (issue 9).
  for (const c of [['EVAL_RO', 'return 1', '0'], ['EVALSHA_RO', 'x', '0'], ['SORT_RO', 'l'], ['SPUBLISH', 'c', 'm'], ['SSUBSCRIBE', 'c'], ['WATCH', 'k'], ['EVAL', 'return 1', '0']]) {
    await expect(r.call(c[0], ...c.slice(1))).rejects.toThrow(`ERR Command is not available on the regional cache: '${c[0]}'`);
  }
  expect(await r.set('still', 'works')).toBe('OK');
});

test('a region without a cache closes the connection with an error', async () => {
  const r = connect('syd');
  await expect(r.ping()).rejects.toThrow();
});
