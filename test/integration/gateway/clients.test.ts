// Real clients through the gateway: ioredis, node-redis (RESP2 and RESP3) and redis-cli, on a
// database with its primary in "mad" and a replica in "ams". Every test talks to the replica
// region's endpoint unless it says otherwise, so writes cross to the primary and reads stay.
import Redis from 'ioredis';
import {createClient, RESP_TYPES} from 'redis';
import {GatewayHandle} from '../../../src/gateway';
import {admin, blockedClients, Cluster, gateway, MemoryDirectory, redisCli, startDatabase, stopDatabase, tempRoot, until} from './harness';

let db: Cluster;
let gw: GatewayHandle;
let ams: number;
let mad: number;
const clients: {disconnect(): unknown}[] = [];

function io(port = ams, extra: Record<string, unknown> = {}): Redis {
  const r = new Redis({port, host: '127.0.0.1', password: 'pw-clients', maxRetriesPerRequest: 0, ...extra});
  clients.push(r);
  return r;
}

beforeAll(async () => {
  db = await startDatabase(tempRoot(), 'dbclients', 'pw-clients', 'mad', ['ams']);
  const dir = new MemoryDirectory();
  dir.set('pw-clients', db.tenant);
  gw = await gateway(dir, ['mad', 'ams']);
  ams = gw.endpoints.ams.port;
  mad = gw.endpoints.mad.port;
});

/** Until a blocking command from this file's test sits blocked on the primary or the replica. */
async function untilBlocked(): Promise<void> {
  await until(async () => (await blockedClients(db.primary.port)) + (await blockedClients(db.replicas.ams.port)) > 0);
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
});

afterAll(async () => {
  await gw?.close();
  await stopDatabase(db);
});

describe('ioredis', () => {
  test('strings, hashes, lists, sets, sorted sets', async () => {
    const r = io();
    expect(await r.set('s:1', 'hello')).toBe('OK');
    expect(await r.append('s:1', ' world')).toBe(11);
    expect(await r.get('s:1')).toBe('hello world');
    expect(await r.incrby('s:n', 5)).toBe(5);
    expect(await r.hset('h:1', {a: '1', b: '2'})).toBe(2);
    expect(await r.hgetall('h:1')).toEqual({a: '1', b: '2'});
    expect(await r.rpush('l:1', 'a', 'b', 'c')).toBe(3);
    expect(await r.lrange('l:1', 0, -1)).toEqual(['a', 'b', 'c']);
    expect(await r.sadd('set:1', 'x', 'y', 'x')).toBe(2);
    expect((await r.smembers('set:1')).sort()).toEqual(['x', 'y']);
    expect(await r.zadd('z:1', 2, 'two', 1, 'one')).toBe(2);
    expect(await r.zrange('z:1', 0, -1, 'WITHSCORES')).toEqual(['one', '1', 'two', '2']);
    const big = 'v'.repeat(300_000);
    await r.set('s:big', big);
    expect(await r.get('s:big')).toBe(big);
  });

  test('streams, including XREAD BLOCK woken by another client', async () => {
    const r = io();
    const id = await r.xadd('st:1', '*', 'f', 'v');
    expect(await r.xrange('st:1', '-', '+')).toEqual([[id, ['f', 'v']]]);
    const reader = io();
    // Reading after the known entry's id (not '$') gives the same answer whether the XADD
    // below lands before or after the read starts blocking; waiting for the server to report a
    // blocked client makes the wake-up the usual path without a fixed sleep.
    const pending = reader.xread('BLOCK', 5000, 'STREAMS', 'st:1', id!);
    await untilBlocked();
    const id2 = await r.xadd('st:1', '*', 'g', 'w');
    expect(await pending).toEqual([['st:1', [[id2, ['g', 'w']]]]]);
  });

  test('pipelines keep their order across reads and writes', async () => {
    const r = io();
    const p = r.pipeline();
    for (let i = 0; i < 200; i++) {
      p.set(`p:${i}`, String(i));
      p.get(`p:${i}`);
      p.incr('p:count');
    }
    const res = (await p.exec())!;
    for (let i = 0; i < 200; i++) {
      expect(res[i * 3]).toEqual([null, 'OK']);
      expect(res[i * 3 + 1]).toEqual([null, String(i)]);
      expect(res[i * 3 + 2]).toEqual([null, i + 1]);
    }
  });

  test('MULTI/EXEC and WATCH', async () => {
    const r = io();
    expect(await r.multi().set('t:1', '1').incr('t:1').get('t:1').exec()).toEqual([[null, 'OK'], [null, 2], [null, '2']]);
    // WATCH: a change by another client aborts the transaction.
    await r.set('t:w', 'a');
    await r.watch('t:w');
    await io().set('t:w', 'b');
    expect(await r.multi().set('t:w', 'c').exec()).toBeNull();
    expect(await r.get('t:w')).toBe('b');
    // An unchanged watched key lets it run.
    await r.watch('t:w');
    expect(await r.multi().set('t:w', 'd').exec()).toEqual([[null, 'OK']]);
    expect(await r.get('t:w')).toBe('d');
  });

  test('Lua scripts run on the primary, also from a replica region', async () => {
    const r = io();
    expect(await r.eval("redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])", 1, 'lua:1', 'x')).toBe('x');
    const sha = (await r.script('LOAD', "return redis.call('incr', KEYS[1])")) as string;
    expect(await r.evalsha(sha, 1, 'lua:n')).toBe(1);
    expect(await r.evalsha(sha, 1, 'lua:n')).toBe(2);
    expect(await r.eval("return redis.call('get', KEYS[1])", 1, 'lua:n')).toBe('2');
  });

  test('blocking pops are woken by a push from another client', async () => {
    const a = io();
    const b = io();
    const popped = a.blpop('bl:1', 5);
    await untilBlocked();
    expect(await b.rpush('bl:1', 'job')).toBe(1);
    expect(await popped).toEqual(['bl:1', 'job']);
    // The popping client keeps working normally afterwards.
    expect(await a.set('bl:after', '1')).toBe('OK');
    expect(await a.brpop('bl:empty', 0.1)).toBeNull();
  });

  test('Pub/Sub', async () => {
    const sub = io();
    const pub = io(mad);
    const got = new Promise<[string, string]>((resolve) => sub.on('message', (ch, msg) => resolve([ch, msg])));
    await sub.subscribe('news');
    expect(await pub.publish('news', 'hi')).toBe(1);
    expect(await got).toEqual(['news', 'hi']);
    await sub.unsubscribe('news');
    expect(await sub.ping()).toBe('PONG');
  });

  test('Pub/Sub: big messages, patterns, and ordered replies on the same connection afterwards', async () => {
    const sub = io();
    const pub = io(mad);
    const big = 'm'.repeat(1024 * 1024);
    const got: string[] = [];
    sub.on('message', (ch, msg) => got.push(`${ch}:${msg.length}`));
    sub.on('pmessage', (pat, ch, msg) => got.push(`${pat}|${ch}:${msg}`));
    await sub.subscribe('big', 'small');
    await sub.psubscribe('sm*');
    await pub.publish('big', big);
    await pub.publish('small', 'x');
    await until(() => got.length === 3);
    expect(got).toEqual([`big:${big.length}`, 'small:1', 'sm*|small:x']);
    // (ioredis's argument-less unsubscribe() never resolves while patterns remain, even
    // against redis-server itself, so the channels are named.)
    await sub.unsubscribe('big', 'small');
    await sub.punsubscribe('sm*');
    // Back in normal mode on the same connection: forwarded and locally answered replies keep
    // their order in one pipeline.
    await sub.set('after-sub', 'v');
    const res = (await sub.pipeline().get('after-sub').select(0).config('REWRITE').get('after-sub').exec())!;
    expect(res[0]).toEqual([null, 'v']);
    expect(res[1]).toEqual([null, 'OK']);
    expect(String(res[2][0])).toContain("Command is not available: 'CONFIG'");
    expect(res[3]).toEqual([null, 'v']);
  });
});

describe('node-redis', () => {
  test('RESP2: commands, transactions and a pipeline', async () => {
    const c = createClient({url: `redis://default:pw-clients@127.0.0.1:${ams}`, RESP: 2});
    clients.push({disconnect: () => c.destroy()});
    await c.connect();
    expect(await c.set('nr:1', 'a')).toBe('OK');
    expect(await c.get('nr:1')).toBe('a');
    expect(await c.multi().incr('nr:n').incr('nr:n').exec()).toEqual([1, 2]);
    const results = await Promise.all(Array.from({length: 100}, (_, i) => c.set(`nr:p:${i}`, String(i)).then(() => c.get(`nr:p:${i}`))));
    expect(results).toEqual(Array.from({length: 100}, (_, i) => String(i)));
  });

  test('RESP3: HELLO 3, maps and doubles come back as RESP3 types', async () => {
    const c = createClient({url: `redis://default:pw-clients@127.0.0.1:${ams}`, RESP: 3});
    clients.push({disconnect: () => c.destroy()});
    await c.connect();
    await c.hSet('nr3:h', {a: '1', b: '2'});
    expect(await c.hGetAll('nr3:h')).toEqual({a: '1', b: '2'});
    await c.zAdd('nr3:z', {score: 1.5, value: 'm'});
    expect(await c.zScore('nr3:z', 'm')).toBe(1.5);
    // Raw RESP3 types: a map reply is a Map when asked for.
    const typed = c.withTypeMapping({[RESP_TYPES.MAP]: Map});
    const m = (await typed.hGetAll('nr3:h')) as unknown as Map<string, string>;
    expect(m instanceof Map).toBe(true);
    expect(await c.sendCommand(['HELLO'])).toMatchObject({proto: 3, role: 'master', mode: 'standalone'});
    // Pub/Sub on a RESP3 connection.
    const sub = c.duplicate();
    clients.push({disconnect: () => sub.destroy()});
    await sub.connect();
    let deliver!: (msg: string) => void;
    const got = new Promise<string>((resolve) => (deliver = resolve));
    // subscribe() resolves on the server's confirmation, so the PUBLISH cannot outrun it.
    await sub.subscribe('n3', (msg) => deliver(msg));
    await c.publish('n3', 'resp3-message');
    expect(await got).toBe('resp3-message');
  });
});

test('node-redis RESP3 client-side caching: invalidation pushes reach the client', async () => {
  const cached = createClient({url: `redis://default:pw-clients@127.0.0.1:${ams}`, RESP: 3, clientSideCache: {ttl: 0, maxEntries: 0}});
  const other = createClient({url: `redis://default:pw-clients@127.0.0.1:${mad}`, RESP: 3});
  clients.push({disconnect: () => cached.destroy()}, {disconnect: () => other.destroy()});
  await cached.connect();
  await other.connect();
  await other.set('csc', '1');
  // Wait for replication on the replica itself: a read through the caching client before the
  // value arrived would cache the stale reply.
  await until(async () => {
    const replica = admin(db.replicas.ams.port);
    try {
      return (await replica.get('csc')) === '1';
    } finally {
      replica.disconnect();
    }
  });
  expect(await cached.get('csc')).toBe('1');
  expect(await cached.get('csc')).toBe('1'); // served from the client's cache
  await other.set('csc', '2');
  // The server's invalidation push (out of band) drops the cached value.
  let seen: string | null = null;
  for (let i = 0; i < 50 && seen !== '2'; i++) {
    seen = await cached.get('csc');
    if (seen !== '2') await new Promise((res) => setTimeout(res, 20));
  }
  expect(seen).toBe('2');
});

describe('redis-cli', () => {
  test('commands, a transaction piped in, RESP3 and errors', async () => {
    const auth = ['-a', 'pw-clients', '--no-auth-warning'];
    // One connection: the read in the replica region sees the write just made.
    expect((await redisCli(ams, auth, 'SET cli:1 v\nGET cli:1\n')).trim().split('\n')).toEqual(['OK', 'v']);
    const out = await redisCli(ams, auth, 'MULTI\nINCR cli:n\nINCR cli:n\nEXEC\n');
    expect(out.split('\n').map((l) => l.trim()).filter(Boolean)).toEqual(['OK', 'QUEUED', 'QUEUED', '1', '2']);
    // A RESP3 map prints as `key => value`; over RESP2 the same reply is a flat list.
    await redisCli(mad, [...auth, 'hset', 'cli:h', 'f', 'v']);
    expect(await redisCli(mad, [...auth, '-3', '--no-raw', 'hgetall', 'cli:h'])).toContain('1# "f" => "v"');
    expect(await redisCli(mad, [...auth, '--no-raw', 'hgetall', 'cli:h'])).toContain('1) "f"');
    expect((await redisCli(ams, [...auth, 'debug', 'sleep', '0'])).trim()).toBe("ERR Command is not available: 'DEBUG'");
  });
});
