// The refusal policy checked against the installed redis-server's own COMMAND table (flags and
// ACL categories), not against the lists under test; and the same refusals enforced by Redis's
// ACL on the backend user tenant traffic runs as, so scripts cannot escape them (issue 9, 7-8).
import Redis from 'ioredis';
import {GatewayHandle} from '../../../src/gateway';
import {CommandEntry, parseCommandTable} from '../../../src/redis/command-table';
import {cacheRefusal, managedRefusal} from '../../../src/redis/refusals';
import {TENANT_USER} from '../../../src/redis/tenant-user';
import {admin, Cluster, gateway, MemoryDirectory, startDatabase, stopDatabase, tempRoot} from './harness';

const root = tempRoot();
let db: Cluster;
let gw: GatewayHandle;
let entries: CommandEntry[] = [];
let r: Redis;
let dir: MemoryDirectory;

// The documented managed surface (docs/command-surface.md): admin-flagged, yet served.
const DATABASE_USERS = ['acl|setuser', 'acl|deluser', 'acl|getuser', 'acl|list', 'acl|users', 'acl|log'];
const CLIENTS = ['client|list', 'client|kill', 'client|unblock', 'client|no-evict'];
const SURFACE = new Set(['config|get', 'config|set', 'config|resetstat', ...CLIENTS, ...DATABASE_USERS]);
// Answered by the gateway itself, so the backend user need not be allowed them.
const GATEWAY_ANSWERS = new Set([...CLIENTS, ...DATABASE_USERS]);

beforeAll(async () => {
  db = await startDatabase(root, 'refusals', 'pw-ref', 'mad', []);
  dir = new MemoryDirectory();
  dir.set('pw-ref', db.tenant);
  gw = await gateway(dir, ['mad']);
  const a = admin(db.primary.port);
  const table = parseCommandTable((await a.call('COMMAND')) as never);
  a.disconnect();
  for (const e of table.values()) {
    entries.push(e);
    for (const s of e.subcommands.values()) entries.push(s);
  }
  r = new Redis({port: gw.endpoints.mad.port, host: '127.0.0.1', password: 'pw-ref', maxRetriesPerRequest: 0, retryStrategy: () => null});
});

afterAll(async () => {
  r?.disconnect();
  await gw?.close();
  await stopDatabase(db);
});

test('every admin-flagged command is refused unless it is on the documented surface', () => {
  expect(entries.length).toBeGreaterThan(300);
  const wrong = entries.filter((e) => e.flags.has('admin') && (managedRefusal(e) === null) !== SURFACE.has(e.name));
  expect(wrong.map((e) => e.name)).toEqual([]);
});

// A managed database has one database: moving a key to another is refused (intended difference).
const SINGLE_DATABASE = new Set(['move']);

test('data commands (readonly, or write and not dangerous) are never refused on a managed database', () => {
  const wrong = entries.filter((e) => !e.flags.has('admin') && !SINGLE_DATABASE.has(e.name) &&
    (e.flags.has('readonly') || (e.flags.has('write') && !e.categories.has('@dangerous'))) && managedRefusal(e) !== null);
  expect(wrong.map((e) => e.name)).toEqual([]);
});

test('the cache refuses every Pub/Sub, script, transaction and GEO command, and all a managed database refuses', () => {
  const families = ['@scripting', '@transaction', '@geo'];
  const wrong = entries.filter((e) => (e.flags.has('pubsub') || families.some((c) => e.categories.has(c))) && cacheRefusal(e) === null);
  expect(wrong.map((e) => e.name)).toEqual([]);
  expect(entries.filter((e) => managedRefusal(e) !== null && cacheRefusal(e) === null).map((e) => e.name)).toEqual([]);
});

test("Redis's ACL for the tenant user allows exactly what the gateway forwards (ACL DRYRUN)", async () => {
  const a = admin(db.primary.port);
  const mismatch: string[] = [];
  try {
    for (const e of entries) {
      if (GATEWAY_ANSWERS.has(e.name) || e.subcommands.size > 0) continue; // containers: by subcommand
      const words = e.name.split('|');
      const n = Math.abs(e.arity);
      while (words.length < n) words.push('x');
      const res = await a.call('ACL', 'DRYRUN', TENANT_USER, ...words).then(String, (err: Error) => err.message);
      const allowed = res === 'OK';
      if (allowed !== (managedRefusal(e) === null)) mismatch.push(`${e.name}: ${res}`);
    }
  } finally {
    a.disconnect();
  }
  expect(mismatch).toEqual([]);
});

test('8. scripts and functions cannot run what the gateway refuses', async () => {
  await expect(r.call('PFSELFTEST')).rejects.toThrow("ERR Command is not available: 'PFSELFTEST'");
  for (const body of ["return redis.call('SLOWLOG','RESET')", "return redis.call('PFSELFTEST')", "return redis.call('PFDEBUG','GETREG','k')",
    "return redis.call('CONFIG','SET','maxmemory','0')", "return redis.call('BGSAVE')"]) {
    await expect(r.eval(body, 0)).rejects.toThrow(/can't run this command|This Redis command is not allowed from script/);
  }
  await expect(r.call('FUNCTION', 'LOAD', "#!lua name=lib\nredis.register_function('f', function() return redis.call('DEBUG','SLEEP','0') end)")).resolves.toBe('lib');
  await expect(r.call('FCALL', 'f', '0')).rejects.toThrow(/can't run this command|not allowed from script/);
  // What the service runs still runs from a script.
  expect(await r.eval("redis.call('SET','k','v'); return redis.call('GET','k')", 0)).toBe('v');
});

test('4. CONFIG SET only of notify-keyspace-events; CONFIG GET only of the safe set', async () => {
  expect(await r.config('SET', 'notify-keyspace-events', 'KEA')).toBe('OK');
  expect(await r.config('GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', 'AKE']);
  // Kept with the record for the next start (test/integration/control/client-settings.test.ts);
  // a value Redis refuses is not kept.
  expect(dir.notify.get('refusals')).toBe('KEA');
  await expect(r.config('SET', 'notify-keyspace-events', 'Q')).rejects.toThrow(/Invalid event class character/);
  expect(dir.notify.get('refusals')).toBe('KEA');
  await expect(r.config('SET', 'maxmemory', '0')).rejects.toThrow("ERR Command is not available: 'CONFIG'");
  const all = (await r.config('GET', '*')) as string[];
  expect(all).toContain('maxmemory-policy');
  for (const hidden of ['dir', 'logfile', 'port', 'masterauth', 'requirepass', 'aclfile']) expect(all).not.toContain(hidden);
  expect(await r.config('GET', 'dir')).toEqual([]);
  expect(await r.call('CONFIG', 'RESETSTAT')).toBe('OK');
});
