// The regional cache through the region gateway, with real clients: ioredis, node-redis and
// redis-cli connect to a region's endpoint with the organization's cache password.
import {execFile} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import Redis from 'ioredis';
import {createClient} from 'redis';
import {CacheService, CacheTenants, CACHE_UNSUPPORTED} from '../../../src/cache';
import {RedisConnection} from '../../../src/redis/client';
import {startGateway, GatewayHandle, Tenant} from '../../../src/gateway';
import {Regions, REGIONS, rmrf, tempDir} from './helpers';

const SECRET = randomBytes(16).toString('hex');
const PASSWORDS: Record<string, string> = {acme: 'acme-cache-pw', other: 'other-cache-pw', late: 'late-cache-pw'};

let dir: string;
let cache: CacheService;
let gw: GatewayHandle;
const clients: Redis[] = [];

beforeAll(async () => {
  dir = tempDir();
  cache = await CacheService.open({stateDir: dir, regions: REGIONS, internalSecret: SECRET});
  const orgOf = new Map(Object.entries(PASSWORDS).map(([org, pw]) => [pw, org]));
  const tenants = new CacheTenants(cache, (pw) => orgOf.get(pw), (org) => org in PASSWORDS);
  gw = await startGateway({
    regions: REGIONS,
    internalSecret: SECRET,
    directory: {byPassword: (pw): Tenant | undefined => tenants.byPassword(pw), byId: (id) => tenants.byId(id)},
  });
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await gw?.close();
  await cache?.close();
  rmrf(dir);
});

function ioredis(region: string, org = 'acme', db = 0): Redis {
  const ep = gw.endpoints[region];
  const c = new Redis({host: ep.host, port: ep.port, password: PASSWORDS[org], db, maxRetriesPerRequest: 1});
  clients.push(c);
  return c;
}

function redisCli(region: string, db: number, ...args: string[]): Promise<string> {
  const ep = gw.endpoints[region];
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', ep.host, '-p', String(ep.port), '--user', 'default', '--pass', PASSWORDS.acme, '--no-auth-warning', '-n', String(db), ...args],
      {timeout: 10000},
      (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout.trim())),
    );
  });
}

test('database 0 through the gateway is region-local', async () => {
  await ioredis('mad').set('only-in-mad', '1');
  expect(await ioredis('mad').get('only-in-mad')).toBe('1');
  expect(await ioredis('ams').get('only-in-mad')).toBeNull();
  expect(await ioredis('syd').get('only-in-mad')).toBeNull();
});

test('ioredis: SELECT 1, SET gets OK, and the value appears in every region', async () => {
  const c = ioredis('ams', 'acme', 1);
  expect(await c.set('pushed', 'everywhere', 'EX', 600)).toBe('OK');
  expect(await c.del('only-in-mad')).toBe('OK' as unknown as number); // db 1 answers +OK to everything it accepts
  await c.select(0);
  await cache.waitApplied('acme');
  for (const r of REGIONS) {
    expect(await ioredis(r).get('pushed')).toBe('everywhere');
    expect(await ioredis(r).exists('only-in-mad')).toBe(0);
  }
  const expiries = await Promise.all(REGIONS.map((r) => ioredis(r).call('PEXPIRETIME', 'pushed')));
  expect(new Set(expiries).size).toBe(1);
});

test('node-redis with database 1 in the URL fans out a hash', async () => {
  const ep = gw.endpoints.syd;
  const c = createClient({url: `redis://default:${PASSWORDS.acme}@${ep.host}:${ep.port}/1`});
  await c.connect();
  try {
    expect(await c.sendCommand(['HSET', 'profile', 'name', 'Ada'])).toBe('OK');
    await expect(c.sendCommand(['HSET', 'profile', 'name'])).rejects.toThrow("wrong number of arguments for 'hset' command");
  } finally {
    await c.quit();
  }
  await cache.waitApplied('acme');
  for (const r of REGIONS) expect(await ioredis(r).hgetall('profile')).toEqual({name: 'Ada'});
});

test('redis-cli -n 1 pushes a command to every region; refused commands name themselves', async () => {
  expect(await redisCli('mad', 1, 'RPUSH', 'queue', 'a', 'b')).toBe('OK');
  expect(await redisCli('mad', 1, 'SPOP', 'set')).toContain("'SPOP'");
  expect(await redisCli('mad', 1, 'MULTI')).toBe("ERR Command is not available on the regional cache: 'MULTI'");
  expect(await redisCli('mad', 0, 'SUBSCRIBE', 'news')).toContain("'SUBSCRIBE'");
  expect(await redisCli('mad', 0, 'DBSIZE')).toContain("'DBSIZE'");
  await cache.waitApplied('acme');
  for (const r of REGIONS) expect(await redisCli(r, 0, 'LRANGE', 'queue', '0', '-1')).toBe('a\nb');
});

test('a malformed database-1 command gets an error and is not replayed', async () => {
  const before = cache.lastSeq('acme');
  const c = ioredis('mad', 'acme', 1);
  await expect(c.call('SET', 'k', 'v', 'EX', 'soon')).rejects.toThrow('value is not an integer');
  await expect(c.call('NOPE')).rejects.toThrow("unknown command 'NOPE'");
  expect(cache.lastSeq('acme')).toBe(before);
});

test('another organization sees none of it, in any region or database', async () => {
  const o = ioredis('ams', 'other', 1);
  expect(await o.set('theirs', 'x')).toBe('OK');
  await cache.waitApplied('other');
  for (const r of REGIONS) {
    expect(await ioredis(r, 'other').get('pushed')).toBeNull();
    expect(await ioredis(r, 'acme').get('theirs')).toBeNull();
    expect(await ioredis(r, 'other').get('theirs')).toBe('x');
  }
});

test('a region used for the first time starts with what database 1 pushed before', async () => {
  const mad = ioredis('mad', 'late', 1);
  for (let i = 0; i < 20; i++) expect(await mad.rpush('history', String(i))).toBe('OK' as unknown as number);
  await cache.waitApplied('late');
  expect(cache.startedRegions('late')).toEqual(['mad']);
  // No waiting: the first client in syd is served once the retained backlog is applied there.
  expect(await ioredis('syd', 'late').lrange('history', 0, -1)).toEqual(Array.from({length: 20}, (_, i) => String(i)));
});

test('a 5 MB value set through database 1 arrives intact in every region', async () => {
  const value = randomBytes(5 * 1024 * 1024);
  const sum = createHash('sha256').update(value).digest('hex');
  expect(await ioredis('ams', 'acme', 1).set('blob', value)).toBe('OK');
  await cache.waitApplied('acme');
  for (const r of REGIONS) {
    expect(createHash('sha256').update((await ioredis(r).getBuffer('blob'))!).digest('hex')).toBe(sum);
  }
});

test('every unsupported command is refused by name in database 0 and in database 1', async () => {
  const ep = gw.endpoints.ams;
  const conn = await RedisConnection.connect(ep.port, {host: ep.host});
  const before = cache.lastSeq('acme');
  try {
    expect(await conn.call('AUTH', PASSWORDS.acme)).toBe('OK');
    for (const db of ['0', '1']) {
      expect(await conn.call('SELECT', db)).toBe('OK');
      for (const name of CACHE_UNSUPPORTED) {
        // Enough arguments for any of them; refusal comes before the arity check.
        const reply = conn.call(name.toUpperCase(), 'a', 'b', 'c', 'd', 'e', 'f', 'g');
        await expect(reply).rejects.toThrow(`'${name.toUpperCase()}'`);
      }
    }
  } finally {
    conn.close();
  }
  expect(cache.lastSeq('acme')).toBe(before);
});

test("a client cannot move a region's replay cursor (COPY ... DB 1 into the hidden database)", async () => {
  const w = ioredis('mad', 'acme', 1);
  for (let i = 0; i < 10; i++) await w.incr('guarded');
  await cache.waitApplied('acme');
  // Through the gateway, database 0: plant a cursor that would replay everything again.
  const mad = ioredis('mad');
  await mad.set('fake', '0');
  await mad.call('COPY', 'fake', 'redfly:replay:cursor', 'DB', '1', 'REPLACE').catch(() => undefined);
  // Make the applier reconnect and read the cursor again.
  const {port} = cache.processOf('acme', 'mad')!;
  const admin = await RedisConnection.connect(port);
  try {
    await admin.call('AUTH', 'redfly', SECRET);
    const list = String(await admin.call('CLIENT', 'LIST'));
    for (const line of list.split('\n')) {
      const id = /^id=(\d+) .*name=redfly-applier/.exec(line);
      if (id) await admin.call('CLIENT', 'KILL', 'ID', id[1]);
    }
  } finally {
    admin.close();
  }
  await w.incr('guarded');
  await cache.waitApplied('acme');
  for (const r of REGIONS) expect(await ioredis(r).get('guarded')).toBe('11');
});

test('pipelining writers in three regions at once through the gateway: the same data everywhere', async () => {
  const writers = REGIONS.map((r) => ioredis(r, 'acme', 1));
  await Promise.all(
    writers.map(async (w, n) => {
      const p = w.pipeline();
      for (let i = 0; i < 300; i++) {
        if (i % 4 === 0) p.set(`c:${i % 7}`, `w${n}-${i}`, 'PX', 60000 + n);
        else if (i % 4 === 1) p.rpush('c:list', `w${n}-${i}`);
        else if (i % 4 === 2) p.hincrby('c:hash', `f${i % 5}`, n + 1);
        else p.zadd('c:z', i % 11, `w${n}`);
      }
      const results = await p.exec();
      expect(results!.every(([err, reply]) => err === null && reply === 'OK')).toBe(true);
    }),
  );
  await cache.waitApplied('acme');
  const direct = new Regions(cache, 'acme');
  try {
    // Earlier tests left region-local keys in database 0: compare what this test wrote.
    const digests = await direct.digests('c:*');
    expect(digests.mad).toMatch(/^10:/); // c:0..c:6, c:list, c:hash, c:z
    expect(digests.ams).toBe(digests.mad);
    expect(digests.syd).toBe(digests.mad);
    expect(await (await direct.client('syd')).llen('c:list')).toBe(225);
  } finally {
    direct.close();
  }
});
