// The SQLite store's own migrations. What every backend must do alike (constraints, cascades,
// paging, announcements) is the contract in test/integration/store.
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

  const st = await openStore(dir);
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
