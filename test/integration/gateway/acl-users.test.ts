// A database's own users (issue 9, managed command surface): ACL SETUSER & co. through the
// gateway, scoped to the database, on every copy; a user logs in with AUTH user pass (and
// HELLO AUTH) and Redis enforces its rules with its own NOPERM errors, scripts included; the
// internal users are invisible and untouchable.
import Redis from 'ioredis';
import {GatewayHandle} from '../../../src/gateway';
import {parseCommandTable} from '../../../src/redis/command-table';
import {TENANT_USER} from '../../../src/redis/tenant-user';
import {admin, Cluster, gateway, MemoryDirectory, raw, restartRedis, startDatabase, stopDatabase, stopRedis, tempRoot} from './harness';

const root = tempRoot();
let db: Cluster;
let other: Cluster;
let gw: GatewayHandle;
const dir = new MemoryDirectory();
const clients: Redis[] = [];

function connect(region: string, opts: {username?: string; password: string}): Redis {
  const c = new Redis({port: gw.endpoints[region].port, host: '127.0.0.1', ...opts, maxRetriesPerRequest: 0,
    retryStrategy: () => null, lazyConnect: true});
  clients.push(c);
  return c;
}

beforeAll(async () => {
  db = await startDatabase(root, 'users', 'pw-users', 'mad', ['ams']);
  other = await startDatabase(root, 'other', 'pw-other', 'mad', []);
  dir.set('pw-users', db.tenant);
  dir.set('pw-other', other.tenant);
  gw = await gateway(dir, ['mad', 'ams']);
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await gw?.close();
  await stopDatabase(db);
  await stopDatabase(other);
});

test('a read-only user made with ACL SETUSER logs in and gets NOPERM for writes, in both regions', async () => {
  const owner = connect('mad', {password: 'pw-users'});
  await owner.connect();
  expect(await owner.set('k', 'v')).toBe('OK');
  expect(await owner.call('WAIT', '1', '2000')).toBe(1); // the replica has it: a new connection reads it there
  expect(await owner.call('ACL', 'SETUSER', 'reader', 'on', '>reader-pw', '+@read', '~*')).toBe('OK');
  for (const region of ['mad', 'ams']) {
    const reader = connect(region, {username: 'reader', password: 'reader-pw'});
    await reader.connect();
    expect(await reader.call('ACL', 'WHOAMI')).toBe('reader');
    expect(await reader.get('k')).toBe('v');
    await expect(reader.set('k', 'w')).rejects.toThrow("NOPERM this user has no permissions to run the 'set' command");
    // A script runs as the caller: no way around the rules.
    await expect(reader.eval("return redis.call('SET','k','w')", 0)).rejects.toThrow(/NOPERM/);
    const line = String(await reader.call('CLIENT', 'INFO'));
    expect(line).toContain('user=reader');
  }
  expect(await owner.get('k')).toBe('v');
  // The copies: Redis's own users on the primary and on the replica (ACL is not replicated).
  for (const port of [db.primary.port, db.replicas.ams.port]) {
    const a = admin(port);
    expect(await a.call('ACL', 'USERS')).toContain('reader');
    a.disconnect();
  }
  // The rules as the host keeps them, password only as a hash.
  const saved = dir.aclUsers.get('users')!;
  expect(saved).toHaveLength(1);
  expect(saved[0]).toMatch(/^user reader on #[0-9a-f]{64} /);
  expect(saved[0]).not.toContain('reader-pw');
});

test('HELLO AUTH with a database user; a wrong password or an unknown user is WRONGPASS', async () => {
  const hello = await raw(gw.endpoints.mad.port, 'HELLO 3 AUTH reader reader-pw\r\nACL WHOAMI\r\nSET x 1\r\nQUIT\r\n', (s) => s.includes('+OK'));
  expect(hello.data).toContain('reader');
  expect(hello.data).toContain("-NOPERM this user has no permissions to run the 'set' command");
  const bad = await raw(gw.endpoints.mad.port, 'AUTH reader nope\r\nAUTH nobody reader-pw\r\nAUTH redfly x\r\nQUIT\r\n', (s) => s.includes('+OK'));
  expect(bad.data.match(/-WRONGPASS/g)).toHaveLength(3);
  // Another database's clients cannot log in as this database's user with its own password.
  expect(dir.byUser('reader', 'x')).toBeUndefined();
});

test('the internal users are invisible and untouchable', async () => {
  const owner = connect('mad', {password: 'pw-users'});
  await owner.connect();
  const users = (await owner.call('ACL', 'USERS')) as string[];
  expect(users).toEqual(['default', 'reader']);
  const list = (await owner.call('ACL', 'LIST')) as string[];
  expect(list.map((l) => l.split(' ')[1])).toEqual(['default', 'reader']);
  expect(list.join('\n')).not.toMatch(/redfly/);
  for (const u of ['redfly', TENANT_USER]) {
    expect(await owner.call('ACL', 'GETUSER', u)).toBeNull();
    await expect(owner.call('ACL', 'SETUSER', u, 'on', '>x', '+@all')).rejects.toThrow(`ERR User name '${u}' is reserved`);
    expect(await owner.call('ACL', 'DELUSER', u)).toBe(0);
  }
  await expect(owner.call('ACL', 'SETUSER', 'default', '>x')).rejects.toThrow(/default/);
  await expect(owner.call('ACL', 'DELUSER', 'default')).rejects.toThrow("ERR The 'default' user cannot be removed");
  // Still in place on the backend.
  const a = admin(db.primary.port);
  expect(await a.call('ACL', 'USERS')).toEqual(expect.arrayContaining(['redfly', TENANT_USER]));
  a.disconnect();
  // The other database does not see this one's users.
  const o = connect('mad', {password: 'pw-other'});
  await o.connect();
  expect(await o.call('ACL', 'USERS')).toEqual(['default']);
});

test('a user with +@all is capped to what the service allows (ACL DRYRUN equals the tenant user)', async () => {
  const owner = connect('mad', {password: 'pw-users'});
  await owner.connect();
  expect(await owner.call('ACL', 'SETUSER', 'ops', 'on', '>ops-pw', '~*', '&*', '+@all')).toBe('OK');
  const a = admin(db.primary.port);
  const table = parseCommandTable((await a.call('COMMAND')) as never);
  const mismatch: string[] = [];
  for (const e of table.values()) {
    for (const c of e.subcommands.size > 0 ? e.subcommands.values() : [e]) {
      const words = c.name.split('|');
      while (words.length < Math.abs(c.arity)) words.push('x');
      const as = (u: string) => a.call('ACL', 'DRYRUN', u, ...words).then(String, (err: Error) => err.message.split(' ')[0]);
      const [mine, tenant] = [await as('ops'), await as(TENANT_USER)];
      if ((mine === 'OK') !== (tenant === 'OK')) mismatch.push(`${c.name}: ${mine} / ${tenant}`);
    }
  }
  a.disconnect();
  expect(mismatch).toEqual([]);
  const ops = connect('mad', {username: 'ops', password: 'ops-pw'});
  await ops.connect();
  await expect(ops.eval("return redis.call('DEBUG','SLEEP','0')", 0)).rejects.toThrow(/can't run this command|not allowed from script/);
  await expect(ops.call('ACL', 'SETUSER', 'x', 'on')).resolves.toBe('OK'); // through the gateway: scoped
  expect(await owner.call('ACL', 'DELUSER', 'x')).toBe(1);
});

test('GETUSER, CAT, GENPASS, LOG; bad rules are refused with nothing changed; DELUSER disconnects', async () => {
  const owner = connect('mad', {password: 'pw-users'});
  await owner.connect();
  const u = (await owner.call('ACL', 'GETUSER', 'reader')) as unknown[];
  expect(u[0]).toBe('flags');
  expect(u).toContain('keys');
  expect(await owner.call('ACL', 'CAT')).toContain('read');
  expect(String(await owner.call('ACL', 'GENPASS'))).toMatch(/^[0-9a-f]{64}$/);
  const reader = connect('mad', {username: 'reader', password: 'reader-pw'});
  await reader.connect();
  await expect(reader.set('k', 'w')).rejects.toThrow(/NOPERM/);
  const log = (await owner.call('ACL', 'LOG')) as unknown[][];
  expect(log.some((e) => e.includes('reader'))).toBe(true);
  expect(JSON.stringify(log)).not.toContain(TENANT_USER);
  for (const rules of [['nopass'], ['(~x +get)'], ['~a"b'], ['>p w']]) {
    await expect(owner.call('ACL', 'SETUSER', 'bad', ...rules)).rejects.toThrow(/not available/);
  }
  expect(await owner.call('ACL', 'USERS')).toEqual(['default', 'ops', 'reader']);
  // Inside MULTI: refused at queue time, EXEC aborts.
  const m = await raw(gw.endpoints.mad.port, 'AUTH pw-users\r\nMULTI\r\nACL SETUSER z on\r\nEXEC\r\nQUIT\r\n', (s) => s.includes('+OK\r\n+OK\r\n'));
  expect(m.data).toContain('-EXECABORT');
  expect(await owner.call('ACL', 'DELUSER', 'reader', 'ops')).toBe(2);
  await expect(reader.get('k')).rejects.toThrow();
  await expect(raw(gw.endpoints.mad.port, 'AUTH reader reader-pw\r\nQUIT\r\n', (s) => s.includes('+OK'))).resolves.toMatchObject({data: expect.stringContaining('-WRONGPASS')});
  const rep = admin(db.replicas.ams.port);
  expect(await rep.call('ACL', 'USERS')).not.toContain('reader');
  rep.disconnect();
});

test('a user stays on a copy after its restart when the config renders the saved lines', async () => {
  const owner = connect('mad', {password: 'pw-users'});
  await owner.connect();
  expect(await owner.call('ACL', 'SETUSER', 'keeper', 'on', '>keeper-pw', '+get', '~*')).toBe('OK');
  // The harness writes its own redis.conf: append the saved lines as provision/config.ts does.
  const fs = await import('node:fs');
  const path = await import('node:path');
  const {settingsLines} = await import('../../../src/provision/config');
  const conf = path.join(db.primary.dir, 'redis.conf');
  fs.appendFileSync(conf, `\n${settingsLines({aclUsers: dir.aclUsers.get('users')}).join('\n')}\n`);
  await stopRedis(db.primary);
  await restartRedis(db.primary);
  expect(await owner.set('k', 'v')).toBe('OK'); // the harness's servers keep no data
  const keeper = connect('mad', {username: 'keeper', password: 'keeper-pw'});
  await keeper.connect();
  expect(await keeper.get('k')).toBe('v');
  await expect(keeper.set('k', 'x')).rejects.toThrow(/NOPERM/);
});
