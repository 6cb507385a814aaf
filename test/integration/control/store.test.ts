// The SQLite store on its own: migrations, constraints and cascades that the API relies on.
import {rmSync} from 'node:fs';
import {join} from 'node:path';
import {DatabaseRecord, NameTakenError, openStore} from '../../../src/store';
import {tempHome} from './helpers';
import {databaseRecord} from '../../fixtures/records';

const home = tempHome('store');
afterAll(() => rmSync(home, {recursive: true, force: true}));

const record = (id: string, name: string, at: string): DatabaseRecord =>
  databaseRecord({id, name, org: 'acme', password: 'secret', createdAt: at, updatedAt: at});

test('records survive a reopen; migrations run once', () => {
  const a = openStore(home);
  a.createOrg({slug: 'acme', name: 'Acme', type: 'shared', cachePassword: 'c', createdAt: new Date().toISOString()});
  a.createToken({id: 'tok_1', name: 't', secretSha256: 'h1', orgs: ['acme'], createdAt: new Date().toISOString()});
  a.insertDatabase(record('id1', 'one', '2026-01-01T00:00:00.000Z'), {key: 'k', tokenId: 'tok_1', requestSha256: 'r'});
  a.close();
  const b = openStore(join(home));
  expect(b.getDatabaseByName('one')).toMatchObject({id: 'id1', readRegions: ['ams'], processes: [{role: 'primary'}, {role: 'replica'}]});
  expect(b.findTokenBySecretHash('h1')?.orgs).toEqual(['acme']);
  expect(b.getOrg('acme')?.cachePassword).toBe('c');
  b.close();
});

test('a taken name is NameTakenError and writes nothing; delete cascades to processes and keys', () => {
  const st = openStore(home);
  expect(() => st.insertDatabase(record('id2', 'one', '2026-01-02T00:00:00.000Z'))).toThrow(NameTakenError);
  expect(st.getDatabase('id2')).toBeUndefined();
  const updated = st.updateDatabase('id1', {status: 'ready', processes: [{region: 'mad', role: 'primary', port: 21000}]});
  expect(updated).toMatchObject({status: 'ready', processes: [{port: 21000}]});
  expect(st.findIdempotency('k', 'tok_1')).toEqual({requestSha256: 'r', databaseId: 'id1'});
  st.deleteDatabase('id1');
  expect(st.getDatabase('id1')).toBeUndefined();
  expect(st.findIdempotency('k', 'tok_1')).toBeUndefined();
  expect(st.updateDatabase('id1', {status: 'failed'})).toBeUndefined();
  st.close();
});

test('tokens: listed per organization, last use kept to the interval, deletion takes grants and keys', () => {
  const dir = tempHome('store-tokens');
  const st = openStore(dir);
  st.createOrg({slug: 'acme', name: 'Acme', type: 'shared', cachePassword: 'c', createdAt: '2026-01-01T00:00:00.000Z'});
  st.createOrg({slug: 'beta', name: 'Beta', type: 'shared', cachePassword: 'd', createdAt: '2026-01-01T00:00:00.000Z'});
  st.createToken({id: 'tok_b', name: 'second', secretSha256: 'hb', orgs: ['acme'], createdAt: '2026-01-02T00:00:00.000Z'});
  st.createToken({id: 'tok_a', name: 'first', secretSha256: 'ha', orgs: ['acme', 'beta'], createdAt: '2026-01-01T00:00:00.000Z'});
  expect(st.listTokens('acme').map((t) => t.id)).toEqual(['tok_a', 'tok_b']);
  expect(st.listTokens('beta').map((t) => [t.id, t.orgs])).toEqual([['tok_a', ['acme', 'beta']]]);
  expect(st.getToken('tok_b')?.lastUsedAt).toBeNull();

  st.touchToken('tok_b', '2026-01-03T00:00:00.000Z', 60_000);
  st.touchToken('tok_b', '2026-01-03T00:00:30.000Z', 60_000); // within the minute: kept as is
  expect(st.getToken('tok_b')?.lastUsedAt).toBe('2026-01-03T00:00:00.000Z');
  st.touchToken('tok_b', '2026-01-03T00:01:01.000Z', 60_000);
  expect(st.getToken('tok_b')?.lastUsedAt).toBe('2026-01-03T00:01:01.000Z');

  st.insertDatabase(record('id9', 'nine', '2026-01-04T00:00:00.000Z'), {key: 'k9', tokenId: 'tok_b', requestSha256: 'r'});
  st.deleteToken('tok_b');
  expect(st.findTokenBySecretHash('hb')).toBeUndefined();
  expect(st.listTokens('acme').map((t) => t.id)).toEqual(['tok_a']);
  expect(st.findIdempotency('k9', 'tok_b')).toBeUndefined();
  expect(st.getDatabase('id9')).toBeDefined(); // the database stays
  st.close();
  rmSync(dir, {recursive: true, force: true});
});
