// The SQLite store on its own: migrations, constraints and cascades that the API relies on.
import {copyFileSync, mkdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import Database from 'better-sqlite3';
import {DatabaseRecord, NameTakenError, openStore} from '../../../src/store';
import {migrate} from '../../../src/store/migrate';
import {tempHome} from './helpers';
import {databaseRecord} from '../../fixtures/records';

const home = tempHome('store');
afterAll(() => rmSync(home, {recursive: true, force: true}));

const record = (id: string, name: string, at: string): DatabaseRecord =>
  databaseRecord({id, name, org: 'acme', password: 'secret', createdAt: at, updatedAt: at});

test('records survive a reopen; migrations run once', async () => {
  const a = openStore(home);
  await a.createOrg({slug: 'acme', name: 'Acme', type: 'shared', cachePassword: 'c', createdAt: new Date().toISOString()});
  await a.createToken({id: 'tok_1', name: 't', secretSha256: 'h1', orgs: ['acme'], scope: 'org', createdAt: new Date().toISOString()});
  await a.insertDatabase(record('id1', 'one', '2026-01-01T00:00:00.000Z'), {key: 'k', tokenId: 'tok_1', requestSha256: 'r'});
  await a.close();
  const b = openStore(join(home));
  expect((await b.findDatabasesByName('one', ['acme']))[0]).toMatchObject({id: 'id1', readRegions: ['ams'], processes: [{role: 'primary'}, {role: 'replica'}]});
  expect((await b.findTokenBySecretHash('h1'))?.orgs).toEqual(['acme']);
  expect((await b.getOrg('acme'))?.cachePassword).toBe('c');
  await b.close();
});

test('a taken name is NameTakenError and writes nothing; delete cascades to processes and keys', async () => {
  const st = openStore(home);
  await expect(st.insertDatabase(record('id2', 'one', '2026-01-02T00:00:00.000Z'))).rejects.toThrow(NameTakenError);
  expect(await st.getDatabase('id2')).toBeUndefined();
  const updated = await st.updateDatabase('id1', {status: 'ready', processes: [{region: 'mad', role: 'primary', port: 21000}]});
  expect(updated).toMatchObject({status: 'ready', processes: [{port: 21000}]});
  expect(await st.findIdempotency('k', 'tok_1')).toEqual({requestSha256: 'r', databaseId: 'id1'});
  await st.deleteDatabase('id1');
  expect(await st.getDatabase('id1')).toBeUndefined();
  expect(await st.findIdempotency('k', 'tok_1')).toBeUndefined();
  expect(await st.updateDatabase('id1', {status: 'failed'})).toBeUndefined();
  await st.close();
});

test('tokens: listed per organization, last use kept to the interval, deletion takes grants and keys', async () => {
  const dir = tempHome('store-tokens');
  const st = openStore(dir);
  await st.createOrg({slug: 'acme', name: 'Acme', type: 'shared', cachePassword: 'c', createdAt: '2026-01-01T00:00:00.000Z'});
  await st.createOrg({slug: 'beta', name: 'Beta', type: 'shared', cachePassword: 'd', createdAt: '2026-01-01T00:00:00.000Z'});
  await st.createToken({id: 'tok_b', name: 'second', secretSha256: 'hb', orgs: ['acme'], scope: 'org', createdAt: '2026-01-02T00:00:00.000Z'});
  await st.createToken({id: 'tok_a', name: 'first', secretSha256: 'ha', orgs: ['acme', 'beta'], scope: 'user', createdAt: '2026-01-01T00:00:00.000Z'});
  expect((await st.listTokens('acme')).map((t) => t.id)).toEqual(['tok_a', 'tok_b']);
  expect((await st.listTokens('beta')).map((t) => [t.id, t.orgs])).toEqual([['tok_a', ['acme', 'beta']]]);
  expect((await st.getToken('tok_b'))?.lastUsedAt).toBeNull();

  await st.touchToken('tok_b', '2026-01-03T00:00:00.000Z', 60_000);
  await st.touchToken('tok_b', '2026-01-03T00:00:30.000Z', 60_000); // within the minute: kept as is
  expect((await st.getToken('tok_b'))?.lastUsedAt).toBe('2026-01-03T00:00:00.000Z');
  await st.touchToken('tok_b', '2026-01-03T00:01:01.000Z', 60_000);
  expect((await st.getToken('tok_b'))?.lastUsedAt).toBe('2026-01-03T00:01:01.000Z');

  await st.insertDatabase(record('id9', 'nine', '2026-01-04T00:00:00.000Z'), {key: 'k9', tokenId: 'tok_b', requestSha256: 'r'});
  await st.deleteToken('tok_b');
  expect(await st.findTokenBySecretHash('hb')).toBeUndefined();
  expect((await st.listTokens('acme')).map((t) => t.id)).toEqual(['tok_a']);
  expect(await st.findIdempotency('k9', 'tok_b')).toBeUndefined();
  expect(await st.getDatabase('id9')).toBeDefined(); // the database stays
  await st.close();
  rmSync(dir, {recursive: true, force: true});
});

test('names are unique per organization: the same name in two, NameTakenError within one', async () => {
  const st = openStore(home);
  await st.createOrg({slug: 'beta', name: 'Beta', type: 'shared', cachePassword: 'b', createdAt: new Date().toISOString()});
  await st.insertDatabase(record('id3', 'same', '2026-01-03T00:00:00.000Z'));
  await st.insertDatabase({...record('id4', 'same', '2026-01-04T00:00:00.000Z'), org: 'beta'});
  await expect(st.insertDatabase(record('id5', 'same', '2026-01-05T00:00:00.000Z'))).rejects.toThrow(NameTakenError);
  expect([await st.nameExists('acme', 'same'), await st.nameExists('beta', 'same'), await st.nameExists('beta', 'other')]).toEqual([true, true, false]);
  expect((await st.findDatabasesByName('same', ['beta', 'acme'])).map((d) => [d.org, d.id])).toEqual([['acme', 'id3'], ['beta', 'id4']]);
  expect((await st.findDatabasesByName('same', ['beta'])).map((d) => d.id)).toEqual(['id4']);
  expect(await st.findDatabasesByName('same', [])).toEqual([]);
  await st.close();
});

test('migrations 005 and 006 keep every row, column and index of a store made before them, and its cascades', async () => {
  const dir = join(home, 'v1');
  mkdirSync(dir);
  const file = join(dir, 'redfly.db');
  // A store as the previous release left it: 001 only, plus a column a step of its own added.
  const only001 = join(dir, 'migrations');
  mkdirSync(only001);
  copyFileSync(join(__dirname, '../../../src/store/migrations/001_initial.sql'), join(only001, '001_initial.sql'));
  const old = new Database(file);
  old.pragma('foreign_keys = ON');
  migrate(old, only001, {});
  old.exec("ALTER TABLE databases ADD COLUMN extra TEXT NOT NULL DEFAULT 'kept'");
  old.exec(`INSERT INTO organizations VALUES ('acme', 'Acme', 'shared', 'c', '2026-01-01T00:00:00.000Z');
    INSERT INTO organizations VALUES ('personal', 'Personal', 'personal', 'p', '2026-01-01T00:00:00.000Z');
    INSERT INTO tokens VALUES ('tok_1', 't', 'h1', '2026-01-01T00:00:00.000Z');
    INSERT INTO tokens VALUES ('tok_local', 'local', 'h2', '2026-01-01T00:00:00.000Z');
    INSERT INTO tokens VALUES ('tok_p', 'personal token', 'h3', '2026-01-01T00:00:00.000Z');
    INSERT INTO token_orgs VALUES ('tok_1', 'acme'), ('tok_local', 'personal'), ('tok_local', 'acme'), ('tok_p', 'personal');
    INSERT INTO databases (id, name, org_slug, plan, primary_region, status, password, created_at, updated_at, extra)
      VALUES ('id1', 'one', 'acme', 'free', 'mad', 'ready', 'pw', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'mine');
    INSERT INTO database_processes VALUES ('id1', 'mad', 'primary', 21000);
    INSERT INTO idempotency_keys VALUES ('k', 'tok_1', 'r', 'id1', '2026-01-01T00:00:00.000Z');`);
  old.close();

  const st = openStore(dir);
  expect((await st.findDatabasesByName('one', ['acme']))[0]).toMatchObject({id: 'id1', password: 'pw', processes: [{port: 21000}]});
  expect(await st.findIdempotency('k', 'tok_1')).toEqual({requestSha256: 'r', databaseId: 'id1'});
  // 003: the first start's token is the user's; every other token was made for an organization
  expect(await Promise.all(['h1', 'h2', 'h3'].map(async (h) => (await st.findTokenBySecretHash(h))?.scope))).toEqual(['org', 'user', 'org']);
  await st.createOrg({slug: 'beta', name: 'Beta', type: 'shared', cachePassword: 'b', createdAt: new Date().toISOString()});
  await st.insertDatabase({...record('id2', 'one', '2026-01-02T00:00:00.000Z'), org: 'beta'});
  await expect(st.insertDatabase(record('id3', 'one', '2026-01-03T00:00:00.000Z'))).rejects.toThrow(NameTakenError);
  await st.deleteDatabase('id1');
  expect(await st.findIdempotency('k', 'tok_1')).toBeUndefined();
  await st.close();

  const raw = new Database(file, {readonly: true});
  expect(raw.prepare("SELECT extra FROM databases WHERE id = 'id2'").get()).toEqual({extra: 'kept'});
  expect(raw.prepare('SELECT COUNT(*) AS n FROM database_processes').get()).toEqual({n: 2}); // id2's primary and replica
  const indexes = (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'databases' AND sql IS NOT NULL").all() as {name: string}[]).map((r) => r.name);
  expect(indexes.sort()).toEqual(['databases_page', 'databases_page_by_org']);
  expect((raw.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {version: string}[]).map((r) => r.version)).toEqual([
    '001_initial.sql',
    '002_rest_tokens.sql',
    '003_redis_settings.sql',
    '004_token_use.sql',
    '005_database_names_per_org',
    '006_token_scope.sql',
    '007_hosts.sql',
  ]);
  expect(raw.pragma('foreign_key_check')).toEqual([]);
  raw.close();
});
