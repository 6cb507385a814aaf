// The REST API with the real clients, unchanged: @upstash/redis and @upstash/ratelimit against
// real redis-servers (a primary in mad, a replica in ams) behind the gateway.
import {Ratelimit} from '@upstash/ratelimit';
import {Redis} from '@upstash/redis';
import {GatewayHandle} from '../../../src/gateway';
import {RestGrant, RestHandle, startRest} from '../../../src/rest/server';
import {admin, Cluster, gateway, MemoryDirectory, startDatabase, stopDatabase, tempRoot, until} from '../gateway/harness';

let db: Cluster;
let gw: GatewayHandle;
let rest: RestHandle;
const dir = new MemoryDirectory();
const grants = new Map<string, RestGrant>([
  ['full-token', {password: 'pw-sdk', readOnly: false, maxRequestBytes: 10 * 1024 * 1024}],
  ['ro-token', {password: 'pw-sdk', readOnly: true, maxRequestBytes: 10 * 1024 * 1024}],
]);

beforeAll(async () => {
  db = await startDatabase(tempRoot(), 'sdk', 'pw-sdk', 'mad', ['ams']);
  dir.set('pw-sdk', db.tenant);
  gw = await gateway(dir, ['mad', 'ams']);
  rest = await startRest({regions: ['mad', 'ams'], gateway: gw, directory: {byToken: (t) => grants.get(t)}});
});

afterAll(async () => {
  await rest?.close();
  await gw?.close();
  await stopDatabase(db);
});

function client(region = 'mad', extra: Partial<ConstructorParameters<typeof Redis>[0]> = {}): Redis {
  return new Redis({url: rest.urls[region], token: 'full-token', retry: false, ...extra});
}

test('strings, hashes, lists, sets and sorted sets', async () => {
  const r = client();
  expect(await r.set('s:name', 'redfly')).toBe('OK');
  expect(await r.get('s:name')).toBe('redfly');
  expect(await r.set('s:obj', {a: 1, b: ['x']})).toBe('OK');
  expect(await r.get('s:obj')).toEqual({a: 1, b: ['x']});
  expect(await r.incrby('s:n', 5)).toBe(5);
  expect(await r.mget('s:name', 's:missing')).toEqual(['redfly', null]);
  expect(await r.set('s:ttl', 'v', {ex: 100})).toBe('OK');
  expect(await r.ttl('s:ttl')).toBeGreaterThan(90);

  expect(await r.hset('h', {f1: 'v1', f2: 2})).toBe(2);
  expect(await r.hgetall('h')).toEqual({f1: 'v1', f2: 2});
  expect(await r.hincrby('h', 'f2', 3)).toBe(5);

  expect(await r.rpush('l', 'a', 'b', 'c')).toBe(3);
  expect(await r.lrange('l', 0, -1)).toEqual(['a', 'b', 'c']);
  expect(await r.lpop('l')).toBe('a');

  expect(await r.sadd('set', 'x', 'y', 'x')).toBe(2);
  expect((await r.smembers('set')).sort()).toEqual(['x', 'y']);
  expect(await r.sismember('set', 'y')).toBe(1);

  expect(await r.zadd('z', {score: 2, member: 'two'}, {score: 1, member: 'one'})).toBe(2);
  expect(await r.zrange('z', 0, -1, {withScores: true})).toEqual(['one', 1, 'two', 2]);
  expect(await r.zincrby('z', 5, 'one')).toBe(6);
  expect(await r.zscore('z', 'one')).toBe(6);
  expect(await r.ping()).toBe('PONG');
});

test('scripts: EVAL, SCRIPT LOAD and EVALSHA', async () => {
  const r = client();
  expect(await r.eval("return redis.call('SET', KEYS[1], ARGV[1])", ['sc:k'], ['v1'])).toBe('OK');
  expect(await r.eval("return redis.call('GET', KEYS[1])", ['sc:k'], [])).toBe('v1');
  const sha = await r.scriptLoad('return tonumber(ARGV[1]) * 2');
  expect(await r.evalsha(sha, [], ['21'])).toBe(42);
  await expect(r.evalsha('0'.repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
});

test('a pipeline runs in order and keeps each command error to itself', async () => {
  const r = client();
  const p = r.pipeline();
  p.set('p:k', 'text');
  p.incr('p:k');
  p.set('p:n', 1);
  p.incr('p:n');
  const out = await p.exec({keepErrors: true});
  expect(out[0]).toEqual({result: 'OK', error: undefined});
  expect(out[1].error).toMatch(/^ERR value is not an integer/);
  expect(out[3].result).toBe(2);
  // Without keepErrors the SDK throws the first error.
  const q = r.pipeline();
  q.incr('p:k');
  await expect(q.exec()).rejects.toThrow(/ERR value is not an integer/);
});

test('a transaction is atomic and answers per command', async () => {
  const r = client();
  const tx = r.multi();
  tx.set('t:a', 1);
  tx.incr('t:a');
  tx.get('t:a');
  expect(await tx.exec()).toEqual(['OK', 2, 2]);
  // MULTI/EXEC is visible on the backend as one transaction: nothing in between.
  const info = String(await admin(db.primary.port).call('INFO', 'commandstats'));
  expect(info).toMatch(/cmdstat_multi:calls=\d+/);
});

test('base64 responses carry binary values exactly; the SDK round-trips any text', async () => {
  const r = client();
  const text = 'héllo ✓ \u0000 \u{1F600} "quoted" / slash';
  expect(await r.set('b:text', text)).toBe('OK');
  expect(await r.get('b:text')).toBe(text);
  // Bytes that are not UTF-8, written by a RESP client.
  const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0d, 0x0a, 0x41]);
  const a = admin(db.primary.port);
  await a.set('b:bin', bytes);
  a.disconnect();
  const res = await fetch(`${rest.urls.mad}/get/b:bin`, {headers: {Authorization: 'Bearer full-token', 'Upstash-Encoding': 'base64'}});
  const body = (await res.json()) as {result: string};
  expect(Buffer.from(body.result, 'base64')).toEqual(bytes);
  // Without base64 the invalid sequences become U+FFFD, as documented.
  const plain = (await (await fetch(`${rest.urls.mad}/get/b:bin`, {headers: {Authorization: 'Bearer full-token'}})).json()) as {result: string};
  expect(plain.result).toContain('\uFFFD');
  // A binary value posted as the body is stored as is.
  await fetch(`${rest.urls.mad}/set/b:posted`, {method: 'POST', headers: {Authorization: 'Bearer full-token'}, body: bytes});
  const b = admin(db.primary.port);
  expect(await b.getBuffer('b:posted')).toEqual(bytes);
  b.disconnect();
});

test('errors reach the SDK as UpstashError with Redis text', async () => {
  const r = client();
  await r.set('e:k', 'text');
  await expect(r.incr('e:k')).rejects.toThrow(/ERR value is not an integer or out of range/);
  // XREAD is flagged blocking by Redis but blocks only with BLOCK: without it, it runs.
  await r.xadd('e:stream', '*', {f: 'v'});
  expect(await r.xread('e:stream', '0')).toHaveLength(1);
  const ro = client('mad', {token: 'ro-token'});
  expect(await ro.get('e:k')).toBe('text');
  await expect(ro.set('e:k', 'x')).rejects.toThrow("NOPERM this user has no permissions to run the 'set' command");
  await expect(ro.keys('*')).rejects.toThrow(/NOPERM/);
  const bad = client('mad', {token: 'no-such-token'});
  await expect(bad.get('e:k')).rejects.toThrow(/WRONGPASS invalid REST token/);
});

/** Holds back replication into a replica while it keeps serving reads. */
async function holdBack(port: number, ms: number): Promise<void> {
  const a = admin(port);
  await a.call('CLIENT', 'PAUSE', String(ms), 'WRITE');
  a.disconnect();
}

async function release(port: number): Promise<void> {
  const a = admin(port);
  await a.call('CLIENT', 'UNPAUSE');
  a.disconnect();
}

test('readYourWrites: a sync token makes a replica region read the write, even while replication lags', async () => {
  const writer = client('mad');
  await writer.set('ryw', 'v1');
  const seer = client('ams', {readYourWrites: false});
  await until(async () => (await seer.get('ryw')) === 'v1');
  await holdBack(db.replicas.ams.port, 10_000);
  try {
    await writer.set('ryw', 'v2');
    // Without the token, ams reads its replica, which has not got the write.
    expect(await client('ams', {readYourWrites: false}).get('ryw')).toBe('v1');
    // With the writer's token handed over, the read sees it.
    const reader = client('ams');
    reader.readYourWritesSyncToken = writer.readYourWritesSyncToken;
    expect(reader.readYourWritesSyncToken).toMatch(/^rf1-/);
    expect(await reader.get('ryw')).toBe('v2');
    // One client in ams: its own write, then its read (the SDK carries the token itself).
    const local = client('ams');
    await local.set('ryw:own', 'mine');
    expect(await local.get('ryw:own')).toBe('mine');
    expect(await client('ams', {readYourWrites: false}).get('ryw:own')).toBeNull();
  } finally {
    await release(db.replicas.ams.port);
  }
});

test('REST-only traffic: once the replica has the write, a read with the sync token is served in its region', async () => {
  const writer = client('mad');
  await writer.set('local:k', 'x');
  const p = admin(db.primary.port);
  const a = admin(db.replicas.ams.port);
  const stat = async (c: typeof a, cmd: string) =>
    Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(String(await c.call('INFO', 'commandstats')))?.[1] ?? 0);
  try {
    await until(async () => String(await a.call('GET', 'local:k')) === 'x');
    // No client is connected and no request is running: the monitor goes on sampling after the
    // write's request (its INFO calls on the primary), so the replica is known to have it.
    // (Each look at INFO commandstats is itself one INFO call, counted after it answers.)
    const first = await stat(p, 'info');
    let looks = 1;
    await until(async () => (await stat(p, 'info')) - first - looks++ >= 3);
    await a.call('CONFIG', 'RESETSTAT');
    const reader = client('ams');
    reader.readYourWritesSyncToken = writer.readYourWritesSyncToken;
    expect(await reader.get('local:k')).toBe('x');
    expect(await stat(a, 'get')).toBe(1);
  } finally {
    p.disconnect();
    a.disconnect();
  }
});

test('SUBSCRIBE and PSUBSCRIBE as Server-Sent Events: messages arrive; the subscription is a connection until it ends', async () => {
  const r = client();
  const got: unknown[] = [];
  const counts: number[] = [];
  const sub = r.subscribe(['chat']);
  sub.on('subscribe', (n) => counts.push(n as number));
  sub.on('message', (m) => got.push(m));
  const psub = r.psubscribe(['ch*']);
  const pgot: unknown[] = [];
  psub.on('pmessage', (m) => pgot.push(m));
  await until(() => gw.usage('sdk').connections === 2);
  await until(() => counts.length === 1);
  // Publish from a RESP client and over REST: one Pub/Sub for both protocols. (The SDK parses
  // pattern messages as JSON only, hence JSON payloads.)
  const a = admin(db.primary.port);
  await until(async () => Number(await a.pubsub('NUMPAT')) === 1);
  expect(await a.publish('chat', JSON.stringify({text: 'hello'}))).toBe(2);
  expect(await r.publish('chat', {n: 2})).toBe(2);
  a.disconnect();
  await until(() => got.length === 2 && pgot.length === 2);
  expect(got).toEqual([{channel: 'chat', message: {text: 'hello'}}, {channel: 'chat', message: {n: 2}}]);
  expect(pgot).toEqual([{pattern: 'ch*', channel: 'chat', message: {text: 'hello'}}, {pattern: 'ch*', channel: 'chat', message: {n: 2}}]);
  await sub.unsubscribe();
  await psub.unsubscribe();
  await until(() => gw.usage('sdk').connections === 0);
});

test('@upstash/ratelimit: a sliding window really limits, across instances', async () => {
  const redis = client();
  const limiter = new Ratelimit({redis, limiter: Ratelimit.slidingWindow(3, '30 s'), prefix: 'rl-test'});
  const results = [];
  for (let i = 0; i < 5; i++) results.push((await limiter.limit('user-1')).success);
  expect(results).toEqual([true, true, true, false, false]);
  // Another instance (no shared in-memory cache) sees the same window in Redis.
  const other = new Ratelimit({redis: client(), limiter: Ratelimit.slidingWindow(3, '30 s'), prefix: 'rl-test', ephemeralCache: false});
  expect((await other.limit('user-1')).success).toBe(false);
  expect((await other.limit('user-2')).success).toBe(true);
});
