// Differential conformance corpus: every conversation runs against a direct redis-server (a
// plain password-protected one, the same version) and against the gateway, and the replies
// must be the same bytes, up to the intended differences in conformance.ts. The faults of issue
// 9 are conversations here; the rest come from Redis's documentation of connection semantics
// (MULTI/EXEC, WATCH, Pub/Sub in RESP2 and RESP3, CLIENT REPLY, RESET, HELLO, QUIT).
import Redis from 'ioredis';
import {GatewayHandle} from '../../../src/gateway';
import {cmd, Conversation, normalize, play} from './conformance';
import {admin, Cluster, gateway, MemoryDirectory, RedisProc, startDatabase, startRedis, stopDatabase, stopRedis, tempRoot, until} from './harness';

const PW = 'conformance-pw';
const root = tempRoot();
let direct: RedisProc;
let db: Cluster;
let gw: GatewayHandle;

beforeAll(async () => {
  direct = await startRedis(root, {password: PW, defaultRules: '~* &* +@all'});
  db = await startDatabase(root, 'conf', PW, 'mad', ['ams']);
  const dir = new MemoryDirectory();
  dir.set(PW, db.tenant);
  gw = await gateway(dir, ['mad', 'ams']);
});

afterAll(async () => {
  await gw?.close();
  await stopDatabase(db);
  if (direct) await stopRedis(direct);
});

const AUTH = cmd('AUTH', 'default', PW);

async function flushBoth(): Promise<void> {
  for (const port of [direct.port, db.primary.port]) {
    const a = admin(port);
    await a.call('FLUSHALL');
    await a.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    a.disconnect();
  }
  // The replica region must not serve the previous conversation's keys.
  const r = admin(db.replicas.ams.port);
  await until(async () => Number(await r.call('DBSIZE')) === 0);
  r.disconnect();
}

/** Plays `conv` on both and expects the same bytes; `region` picks the gateway listener. */
async function same(conv: Conversation, region: 'mad' | 'ams' = 'mad'): Promise<string> {
  await flushBoth();
  const want = await play(direct.port, conv);
  await flushBoth();
  const got = await play(gw.endpoints[region].port, conv);
  expect(normalize(got.data)).toBe(normalize(want.data));
  expect(got.closed).toBe(want.closed);
  return want.data;
}

const conv = (name: string, ...steps: Conversation['steps']): Conversation => ({name, steps});

describe('issue 9: the failing inputs', () => {
  test('1. a nested MULTI after a queue-time error: EXEC aborts, nothing is applied', async () => {
    const out = await same(conv('nested multi', AUTH, cmd('MULTI'), cmd('SET', 'a', '1'), cmd('SELECT'), cmd('MULTI'), cmd('EXEC'), cmd('GET', 'a')));
    expect(out).toContain('-EXECABORT');
    expect(out.endsWith('$-1\r\n')).toBe(true);
  });

  test('2. a reply shaped like a Pub/Sub message after UNSUBSCRIBE (RESP2)', async () => {
    const out = await same(conv('pubsub lookalike', AUTH, cmd('RPUSH', 'l', 'message', 'x', 'y'), cmd('SUBSCRIBE', 'ch'),
      cmd('UNSUBSCRIBE', 'ch'), cmd('LRANGE', 'l', '0', '-1'), cmd('GET', 'nokey'), cmd('DEL', 'l'), cmd('SELECT', '0'), cmd('PING')));
    expect(out.endsWith('+OK\r\n+PONG\r\n')).toBe(true);
  });

  test('2. the same while still subscribed, in RESP3', async () => {
    const out = await same(conv('pubsub lookalike resp3', cmd('HELLO', '3', 'AUTH', 'default', PW), cmd('RPUSH', 'l', 'message', 'x', 'y'),
      cmd('SUBSCRIBE', 'ch'), cmd('LRANGE', 'l', '0', '-1'), cmd('SELECT', '0'), cmd('PING')));
    expect(out.endsWith('+OK\r\n+PONG\r\n')).toBe(true);
  });

  test('4. CONFIG SET notify-keyspace-events, then an expired event arrives (RESP3)', async () => {
    const out = await same(conv('keyspace events', cmd('HELLO', '3', 'AUTH', 'default', PW),
      cmd('CONFIG', 'SET', 'notify-keyspace-events', 'Ex'), cmd('CONFIG', 'GET', 'notify-keyspace-events'),
      cmd('SUBSCRIBE', '__keyevent@0__:expired'), cmd('SET', 'ek', 'v', 'PX', '20'), {pause: 400}, cmd('GET', 'ek')));
    expect(out).toContain('$22\r\n__keyevent@0__:expired\r\n$2\r\nek\r\n');
  });

  test('3. SCAN through a replica region, deleting what each call returns: nothing is skipped', async () => {
    await flushBoth();
    const r = new Redis({port: gw.endpoints.ams.port, host: '127.0.0.1', password: PW, maxRetriesPerRequest: 0, retryStrategy: () => null});
    try {
      const load = r.pipeline();
      for (let i = 0; i < 3000; i++) load.set(`sk:${i}`, 'v');
      await load.exec();
      // Let the replica catch up, and between calls too (the monitor samples every 50 ms), so
      // that reads alternate between the copies as they would over a real network.
      const rep = admin(db.replicas.ams.port);
      await until(async () => Number(await rep.call('DBSIZE')) >= 3000);
      rep.disconnect();
      // Every other call waits for the replica, so calls alternate between the two copies.
      let turn = 0;
      const settle = () => (turn++ % 2 === 0 ? new Promise((res) => setTimeout(res, 100)) : Promise.resolve());
      await new Promise((res) => setTimeout(res, 100));
      const seen = new Map<string, number>();
      let cursor = '0';
      do {
        const [next, keys] = (await r.scan(cursor, 'MATCH', 'sk:*', 'COUNT', 100)) as [string, string[]];
        for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
        await r.set('progress', next);
        await settle();
        cursor = next;
      } while (cursor !== '0');
      expect(seen.size).toBe(3000);
      expect([...seen.values()].filter((n) => n > 1).length).toBe(0);
      cursor = '0';
      do {
        const [next, keys] = (await r.scan(cursor, 'MATCH', 'sk:*', 'COUNT', 100)) as [string, string[]];
        if (keys.length > 0) await r.del(...keys);
        await settle();
        cursor = next;
      } while (cursor !== '0');
      const a = admin(db.primary.port);
      expect((await a.keys('sk:*')).length).toBe(0);
      a.disconnect();
      // The same for a hash, continued on its copy while the client writes elsewhere.
      await r.hset('h', Object.fromEntries(Array.from({length: 600}, (_, i) => [`f${i}`, 'v'])));
      await settle();
      const fields = new Set<string>();
      cursor = '0';
      do {
        const [next, kv] = (await r.hscan('h', cursor, 'COUNT', 50)) as [string, string[]];
        for (let i = 0; i < kv.length; i += 2) fields.add(kv[i]);
        await r.set('progress', next);
        await settle();
        cursor = next;
      } while (cursor !== '0');
      expect(fields.size).toBe(600);
    } finally {
      r.disconnect();
    }
  });

  test('5. a half-close after AUTH, SET, GET on the replica region: every reply', async () => {
    const out = await same(conv('half-close', AUTH, cmd('SET', 'hx', '1'), cmd('GET', 'hx')), 'ams');
    expect(out).toBe('+OK\r\n+OK\r\n$1\r\n1\r\n');
  });

  test('5. 2,000 pipelined INCR then a half-close: all executed, all answered', async () => {
    const burst = AUTH + cmd('INCR', 'hc').repeat(2000) + cmd('GET', 'hc');
    const out = await same(conv('burst half-close', burst), 'ams');
    expect(out.endsWith(':2000\r\n$4\r\n2000\r\n')).toBe(true);
  });

  test('6. RESET logs the connection out', async () => {
    const out = await same(conv('reset', AUTH, cmd('SET', 'rk', '1'), cmd('RESET'), cmd('GET', 'rk')));
    expect(out).toBe('+OK\r\n+OK\r\n+RESET\r\n-NOAUTH Authentication required.\r\n');
  });
});

describe('issue 9: nothing of the platform leaks', () => {
  test('9. INFO, ROLE, CLIENT INFO/ID/LIST show the tenant its own connection and nothing else', async () => {
    const backendPorts = [db.primary.port, db.replicas.ams.port].map(String);
    for (const region of ['mad', 'ams'] as const) {
      const r = new Redis({port: gw.endpoints[region].port, host: '127.0.0.1', password: PW, maxRetriesPerRequest: 0, retryStrategy: () => null});
      const other = new Redis({port: gw.endpoints[region].port, host: '127.0.0.1', password: PW, maxRetriesPerRequest: 0, retryStrategy: () => null});
      try {
        const info = String(await r.info());
        expect(info).toContain('redis_version:7.0');
        expect(info).toContain('# Keyspace');
        for (const leak of ['config_file:', 'executable:', 'tcp_port:', 'process_id:', 'slave0:', root]) expect(info).not.toContain(leak);
        for (const port of backendPorts) expect(info).not.toContain(port);
        const role = (await r.call('ROLE')) as unknown[];
        expect(role[0]).toBe('master');
        expect(role[2]).toEqual([]);
        const hello = (await r.call('HELLO', '2')) as unknown[];
        const id = hello[hello.indexOf('id') + 1];
        expect(await r.client('ID')).toBe(id);
        await r.watch('w'); // a pinned connection behind it: still the client's own view
        const ci = String(await r.client('INFO'));
        expect(ci).toMatch(new RegExp(`^id=${id} addr=127\\.0\\.0\\.1:${(r as any).stream.localPort} laddr=127\\.0\\.0\\.1:${gw.endpoints[region].port} `));
        expect(ci).toContain(' user=default ');
        expect(ci).not.toContain('redfly');
        await r.unwatch();
        await other.client('SETNAME', 'second');
        const list = String(await r.client('LIST')).trim().split('\n');
        expect(list.length).toBe(2);
        expect(list.some((l) => l.includes(' name=second '))).toBe(true);
        for (const port of backendPorts) expect(list.join()).not.toContain(`:${port} `);
        const otherId = Number(await other.client('ID'));
        expect(await r.client('KILL', 'ID', String(otherId))).toBe(1);
        await until(() => other.status !== 'ready');
      } finally {
        r.disconnect();
        other.disconnect();
      }
    }
  });
});

describe('issue 9: inside MULTI, the same view as outside', () => {
  test('INFO filtered, ROLE, ACL WHOAMI, CLIENT ID and CLIENT INFO in an EXEC reply answer as outside MULTI', async () => {
    for (const region of ['mad', 'ams'] as const) {
      {
        const r = new Redis({port: gw.endpoints[region].port, host: '127.0.0.1', password: PW, maxRetriesPerRequest: 0, retryStrategy: () => null});
        try {
          const hello = (await r.call('HELLO', '2')) as unknown[];
          const id = Number(hello[hello.indexOf('id') + 1]);
          const out = (await r.multi().set('mk', '1').call('CLIENT', 'ID').call('INFO', 'server').call('ROLE')
            .call('ACL', 'WHOAMI').call('CLIENT', 'INFO').get('mk').exec()) as [Error | null, unknown][];
          expect(out.map((e) => e[0])).toEqual(Array(7).fill(null));
          const [, cid, info, role, who, ci, mk] = out.map((e) => e[1]);
          expect(cid).toBe(id);
          expect(cid).toBe(await r.client('ID'));
          for (const leak of ['config_file:', 'executable:', 'tcp_port:', 'process_id:', root]) expect(String(info)).not.toContain(leak);
          expect(String(info)).toContain('redis_version:7.0');
          expect((role as unknown[])[0]).toBe('master');
          expect((role as unknown[])[2]).toEqual([]);
          expect(who).toBe('default');
          expect(String(ci)).toMatch(new RegExp(`^id=${id} addr=127\\.0\\.0\\.1:${(r as any).stream.localPort} `));
          expect(String(ci)).toContain(' user=default ');
          expect(mk).toBe('1');
          // A WATCH or nested MULTI inside MULTI is not queued: positions still line up.
          const raw = (await r.multi().call('WATCH', 'x').call('CLIENT', 'ID').exec()) as [Error | null, unknown][];
          expect(raw[raw.length - 1][1]).toBe(id);
        } finally {
          r.disconnect();
        }
      }
      // RESP3 (raw bytes: ioredis speaks RESP2): the verbatim INFO is filtered too.
      const out = (await play(gw.endpoints[region].port, conv('multi resp3', cmd('HELLO', '3', 'AUTH', 'default', PW), cmd('MULTI'),
        cmd('CLIENT', 'ID'), cmd('INFO', 'server'), cmd('CLIENT', 'INFO'), cmd('EXEC'), cmd('CLIENT', 'ID')))).data;
      const id = /\$2\r\nid\r\n:(\d+)\r\n/.exec(out)![1];
      expect(out).toMatch(new RegExp(`\\*3\\r\\n:${id}\\r\\n=\\d+\\r\\ntxt:# Server`));
      expect(out).toMatch(new RegExp(`=\\d+\\r\\ntxt:id=${id} addr=`));
      expect(out.endsWith(`:${id}\r\n`)).toBe(true);
      for (const leak of ['config_file:', 'tcp_port:', 'process_id:']) expect(out).not.toContain(leak);
    }
  });
});

describe('client-side caching (CLIENT TRACKING)', () => {
  test('RESP3: invalidation pushes for keys read, OPTIN with CACHING yes, off again', () =>
    same(conv('tracking resp3', cmd('HELLO', '3', 'AUTH', 'default', PW), cmd('CLIENT', 'TRACKING', 'on'), cmd('GET', 'tk'),
      cmd('SET', 'tk', '1'), {pause: 100}, cmd('GET', 'tk'), cmd('CLIENT', 'TRACKINGINFO'), cmd('CLIENT', 'TRACKING', 'off'),
      cmd('CLIENT', 'TRACKING', 'on', 'OPTIN'), cmd('GET', 'tk'), cmd('SET', 'tk', '2'), cmd('CLIENT', 'CACHING', 'yes'), cmd('GET', 'tk'),
      cmd('SET', 'tk', '3'), {pause: 100}, cmd('CLIENT', 'GETREDIR'), cmd('PING'))));
  test('RESP3: BCAST with a prefix, NOLOOP', () =>
    same(conv('tracking bcast', cmd('HELLO', '3', 'AUTH', 'default', PW), cmd('CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'b:'),
      // BCAST pushes go out when Redis's event loop turns: a pause keeps them in one place.
      cmd('SET', 'b:1', 'x'), {pause: 100}, cmd('SET', 'c:1', 'x'), {pause: 100}, cmd('CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'b:', 'NOLOOP'),
      cmd('CLIENT', 'TRACKING', 'off'), cmd('CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'b:', 'NOLOOP'), cmd('SET', 'b:2', 'y'),
      {pause: 100}, cmd('PING'))));
  test('RESP2: tracking without REDIRECT is refused as Redis refuses it', () =>
    same(conv('tracking resp2', AUTH, cmd('CLIENT', 'TRACKING', 'on'), cmd('GET', 'tk'), cmd('CLIENT', 'TRACKING', 'off'), cmd('PING'))));
});

describe('connection semantics from the Redis documentation', () => {
  test('MULTI/EXEC with a queue-time unknown command aborts', () =>
    same(conv('multi unknown', AUTH, cmd('MULTI'), cmd('SET', 'k', '1'), cmd('NOSUCH', 'x'), cmd('EXEC'), cmd('GET', 'k'))));
  test('MULTI/EXEC with a run-time error still applies the rest', () =>
    same(conv('multi runtime', AUTH, cmd('SET', 's', 'str'), cmd('MULTI'), cmd('INCR', 's'), cmd('SET', 'k', '1'), cmd('EXEC'), cmd('GET', 'k'))));
  test('EXEC / DISCARD without MULTI, nested MULTI without errors', () =>
    same(conv('multi misuse', AUTH, cmd('EXEC'), cmd('DISCARD'), cmd('MULTI'), cmd('MULTI'), cmd('SET', 'k', '1'), cmd('EXEC'), cmd('GET', 'k'))));
  test('WATCH: a change by another connection aborts EXEC (nil)', () =>
    same(conv('watch', AUTH, cmd('SET', 'w', '1'), cmd('WATCH', 'w'), cmd('SET', 'w', '2'), cmd('MULTI'), cmd('INCR', 'w'), cmd('EXEC'), cmd('GET', 'w'))));
  test('WATCH inside MULTI, UNWATCH outside', () =>
    same(conv('watch misuse', AUTH, cmd('UNWATCH'), cmd('MULTI'), cmd('WATCH', 'x'), cmd('DISCARD'))));
  test('wrong arity inside MULTI aborts', () =>
    same(conv('multi arity', AUTH, cmd('MULTI'), cmd('GET'), cmd('SET', 'k', 'v'), cmd('EXEC'), cmd('EXISTS', 'k'))));
  test('SELECT inside MULTI', () =>
    same(conv('multi select', AUTH, cmd('MULTI'), cmd('SELECT', '0'), cmd('SELECT', '5'), cmd('PING'), cmd('EXEC'))));
  test('RESP2 subscribed mode: only the subscribe family and PING', () =>
    same(conv('subscribed resp2', AUTH, cmd('SUBSCRIBE', 'a', 'b'), cmd('PSUBSCRIBE', 'p*'), cmd('PING'), cmd('PING', 'hi'), cmd('GET', 'x'),
      cmd('UNSUBSCRIBE', 'b'), cmd('UNSUBSCRIBE', 'a'), cmd('PUNSUBSCRIBE'), cmd('PING'), cmd('UNSUBSCRIBE'))));
  test('RESP3: commands and pushes interleave while subscribed', () =>
    same(conv('subscribed resp3', cmd('HELLO', '3', 'AUTH', 'default', PW), cmd('SUBSCRIBE', 'a'), cmd('SET', 'k', 'v'), cmd('GET', 'k'),
      cmd('PUBLISH', 'a', 'hello'), cmd('UNSUBSCRIBE', 'a'), cmd('PING'))));
  test('CLIENT REPLY OFF / SKIP / ON', () =>
    same(conv('client reply', AUTH, cmd('CLIENT', 'REPLY', 'OFF'), cmd('SET', 'k', '1'), cmd('CLIENT', 'REPLY', 'ON'), cmd('CLIENT', 'REPLY', 'SKIP'),
      cmd('INCR', 'k'), cmd('GET', 'k'))));
  test('HELLO: versions, errors, back to RESP2', () =>
    same(conv('hello', AUTH, cmd('HELLO', '4'), cmd('HELLO', 'x'), cmd('HELLO', '3'), cmd('HGETALL', 'none'), cmd('GET', 'none'),
      cmd('HELLO', '2'), cmd('GET', 'none'))));
  test('before AUTH: NOAUTH, then a wrong password, then QUIT closes', () =>
    same(conv('noauth', cmd('GET', 'k'), cmd('AUTH', 'default', 'wrong'), cmd('PING'), cmd('QUIT'), cmd('PING'))));
  test('RESET ends a transaction, a subscription and RESP3', () =>
    same(conv('reset all', cmd('HELLO', '3', 'AUTH', 'default', PW), cmd('SUBSCRIBE', 'c'), cmd('RESET'), AUTH, cmd('MULTI'), cmd('SET', 'k', '1'),
      cmd('RESET'), AUTH, cmd('GET', 'k'), cmd('EXEC'))));
  test('inline commands and a pipelined burst of mixed commands', () =>
    same(conv('inline', 'AUTH default ' + PW + '\r\nPING\r\nSET k "a b"\r\nGET k\r\n', cmd('LPUSH', 'q', 'x').repeat(50) + cmd('LLEN', 'q'))));
  test('a blocking pop times out, later commands of the pipeline wait for it', () =>
    same({name: 'blpop', steps: [AUTH, cmd('BLPOP', 'nolist', '0.1'), cmd('RPUSH', 'nolist', 'a'), cmd('BLPOP', 'nolist', '0')], end: 'close', waitMs: 500}));
  test('SELECT and QUIT', () => same(conv('select quit', AUTH, cmd('SELECT', '1'), cmd('SELECT', '0'), cmd('QUIT'), cmd('PING'))));
});
