// The gateway's directory against the real store (SQLite in a temp folder): every write to
// the store is visible to the next AUTH, and a changed or removed password is revoked.
import {rmSync} from 'node:fs';
import {loadCatalogue} from '../../../src/control/catalogue';
import {TenantDirectory} from '../../../src/control/directory';
import {passwordHash} from '../../../src/redis/acl-users';
import {DatabaseRecord, openStore, Store} from '../../../src/store';
import {tempHome} from './helpers';
import {databaseRecord} from '../../fixtures/records';

const home = tempHome('directory');
let raw: Store;
let store: Store;
let dir: TenantDirectory;
const revoked: string[] = [];

beforeAll(async () => {
  raw = await openStore(home);
  await raw.createOrg({slug: 'early', name: 'Early', type: 'shared', cachePassword: 'c'.repeat(32), createdAt: new Date().toISOString()});
  dir = new TenantDirectory(raw, loadCatalogue(home));
  dir.onRevoked = (id) => revoked.push(id);
  await dir.load();
  // the directory follows the store's announcements: writes go to the store itself
  store = raw;
});
afterAll(async () => {
  await raw.close();
  rmSync(home, {recursive: true, force: true});
});

const now = new Date().toISOString();
const record = (over: Partial<DatabaseRecord> = {}): DatabaseRecord =>
  databaseRecord({id: 'dir000000000001', name: 'dir-db', org: 'early', password: 'a'.repeat(32), createdAt: now, updatedAt: now, ...over});

test('organizations present at start and created later are found by their cache password', async () => {
  expect(dir.orgOfCachePassword('c'.repeat(32))).toBe('early');
  await store.createOrg({slug: 'later', name: 'Later', type: 'shared', cachePassword: 'l'.repeat(32), createdAt: now});
  expect(dir.orgOfCachePassword('l'.repeat(32))).toBe('later');
  expect(dir.orgOfCachePassword('x'.repeat(32))).toBeUndefined();
});

test('a database is reachable once its primary has a port, with its plan and replicas', async () => {
  await store.insertDatabase(record());
  expect(dir.byPassword('a'.repeat(32))).toBeUndefined();
  await store.updateDatabase('dir000000000001', {
    status: 'ready',
    processes: [
      {region: 'mad', role: 'primary', port: 41001},
      {region: 'ams', role: 'replica', port: 41002},
    ],
  });
  expect(dir.byPassword('a'.repeat(32))).toMatchObject({
    kind: 'managed',
    id: 'dir000000000001',
    primaryRegion: 'mad',
    primary: {port: 41001},
    replicas: {ams: {port: 41002}},
    plan: {maxDailyCommands: 10000},
  });
  expect(revoked).toEqual([]);
});

test('a process moved by supervision, and a plan change, reach the directory', async () => {
  await store.updateDatabase('dir000000000001', {
    plan: '200mb',
    eviction: true,
    processes: [
      {region: 'mad', role: 'primary', port: 41001},
      {region: 'ams', role: 'replica', port: 41999},
    ],
  });
  const t = dir.byId('dir000000000001')!;
  expect(t.replicas.ams.port).toBe(41999);
  expect(t.eviction).toBe(true);
  expect(t.plan.maxDataSizeBytes).toBe(200 * 1024 * 1024);
  expect(revoked).toEqual([]);
});

test("a database's own users are found by name and password hash, and survive a reopen of the store", async () => {
  const sha = passwordHash('reader-pw');
  const line = `user reader on #${sha} ~* resetchannels -@all +@read`;
  await store.updateDatabase('dir000000000001', {redisSettings: {aclUsers: [line], notifyKeyspaceEvents: 'Ex'}});
  expect(dir.byUser('reader', sha)?.id).toBe('dir000000000001');
  expect(dir.byUser('reader', passwordHash('other'))).toBeUndefined();
  expect(dir.byUser('writer', sha)).toBeUndefined();
  const again = await openStore(home);
  expect((await again.getDatabase('dir000000000001'))?.redisSettings).toEqual({aclUsers: [line], notifyKeyspaceEvents: 'Ex'});
  await again.close();
  await store.updateDatabase('dir000000000001', {redisSettings: {aclUsers: []}});
  expect(dir.byUser('reader', sha)).toBeUndefined();
  expect(revoked).toEqual([]);
});

test('a new password replaces the old one at once and revokes its connections', async () => {
  await store.updateDatabase('dir000000000001', {password: 'b'.repeat(32)});
  expect(dir.byPassword('a'.repeat(32))).toBeUndefined();
  expect(dir.byPassword('b'.repeat(32))?.id).toBe('dir000000000001');
  expect(revoked).toEqual(['dir000000000001']);
});

test('a delete accepted (status deleting) removes the database before its record is gone', async () => {
  await store.updateDatabase('dir000000000001', {status: 'deleting'});
  expect(dir.byPassword('b'.repeat(32))).toBeUndefined();
  expect(dir.byId('dir000000000001')).toBeUndefined();
  expect(revoked).toEqual(['dir000000000001', 'dir000000000001']);
  await store.deleteDatabase('dir000000000001');
  expect(revoked.length).toBe(2);
});
