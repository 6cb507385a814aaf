// Many clients in two regions send seeded random pipelines that mix writes, reads, MULTI/EXEC,
// scripts, blocking pops and locally answered commands. Each client keeps a model of its own
// keys: every reply must be the one its position in the pipeline calls for (order) and every
// read must see the client's earlier writes (read-your-writes, also through the replica region).
import Redis from 'ioredis';
import {GatewayHandle} from '../../../src/gateway';
import {Cluster, gateway, MemoryDirectory, startDatabase, stopDatabase, tempRoot} from './harness';

let db: Cluster;
let gw: GatewayHandle;

beforeAll(async () => {
  db = await startDatabase(tempRoot(), 'mixed', 'pw-mixed', 'mad', ['ams']);
  const dir = new MemoryDirectory();
  dir.set('pw-mixed', db.tenant);
  gw = await gateway(dir, ['mad', 'ams']);
});

afterAll(async () => {
  await gw?.close();
  await stopDatabase(db);
});

test('random mixed pipelines keep their order and read their own writes', async () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const mismatches: string[] = [];
  await Promise.all(
    Array.from({length: 10}, async (_, c) => {
      const r = new Redis({port: gw.endpoints[c % 2 ? 'ams' : 'mad'].port, password: 'pw-mixed', enableAutoPipelining: c % 3 === 0});
      const model = new Map<string, number>();
      const bump = (k: string) => {
        model.set(k, (model.get(k) ?? 0) + 1);
        return model.get(k)!;
      };
      try {
        for (let round = 0; round < 60; round++) {
          const p = r.pipeline();
          const exp: unknown[] = [];
          const n = 1 + rnd(20);
          for (let i = 0; i < n; i++) {
            const k = `c${c}:k${rnd(5)}`;
            switch (rnd(7)) {
              case 0:
                p.incr(k);
                exp.push(bump(k));
                break;
              case 1:
                p.get(k);
                exp.push(model.has(k) ? String(model.get(k)) : null);
                break;
              case 2: {
                p.multi().incr(k).get(k).exec();
                const v = bump(k);
                exp.push('OK', 'QUEUED', 'QUEUED', [v, String(v)]);
                break;
              }
              case 3:
                p.eval("return redis.call('incr', KEYS[1])", 1, k);
                exp.push(bump(k));
                break;
              case 4:
                p.ping();
                exp.push('PONG');
                break;
              case 5:
                p.blpop(`c${c}:empty`, 0.01);
                exp.push(null);
                break;
              default:
                p.call('SELECT', '0');
                exp.push('OK');
            }
          }
          const res = (await p.exec())!;
          res.forEach(([err, v], i) => {
            const got = err ? String(err) : v;
            if (JSON.stringify(got) !== JSON.stringify(exp[i])) mismatches.push(`client ${c} round ${round} #${i}: ${JSON.stringify(got)} != ${JSON.stringify(exp[i])}`);
          });
        }
      } finally {
        r.disconnect();
      }
    }),
  );
  expect(mismatches).toEqual([]);
});
