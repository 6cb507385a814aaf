// The Store contract: what every backend (SQLite, PostgreSQL) must do the same way, as the API
// relies on it. store.test.ts runs these cases against each backend.
import {DatabaseRecord, HostRecord, NameTakenError, SlugTakenError, Store, StoreChange} from '../../../src/store';
import {databaseRecord} from '../../fixtures/records';

/** An empty place for records (a SQLite file, a PostgreSQL database): open() gives a Store on
 *  it, several at once if asked. */
export interface Place {
  open(): Promise<Store>;
  drop(): Promise<void>;
}

export interface Backend {
  name: string;
  place(): Promise<Place>;
  /** Whether a second Store on the same place hears the first's writes (PostgreSQL's NOTIFY). */
  shared: boolean;
}

const record = (id: string, name: string, at: string, over: Partial<DatabaseRecord> = {}): DatabaseRecord =>
  databaseRecord({id, name, org: 'acme', password: 'secret', createdAt: at, updatedAt: at, ...over});

const org = (slug: string) => ({slug, name: slug.toUpperCase(), type: 'shared' as const, cachePassword: `c-${slug}`, createdAt: '2026-01-01T00:00:00.000Z'});

const host = (over: Partial<HostRecord> = {}): HostRecord => ({
  id: 'host-a',
  role: 'region',
  region: 'mad',
  address: 'mad.example',
  apiUrl: null,
  gatewayPort: 6380,
  restPort: 8080,
  pid: 4242,
  startedAt: '2026-01-01T00:00:00.000Z',
  lastSeenAt: '2026-01-01T00:00:05.000Z',
  report: {processes: 2, versions: {redis: '7.0'}},
  ...over,
});

/** Resolves once `changes` holds something matching `pred` (or fails after 5 s). */
async function heard(changes: StoreChange[], pred: (c: StoreChange) => boolean, what: string): Promise<void> {
  const until = Date.now() + 5000;
  while (!changes.some(pred)) {
    if (Date.now() > until) throw new Error(`never announced: ${what}; heard ${JSON.stringify(changes)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function storeContract(getBackend: () => Backend): void {
  let place: Place;
  let st: Store;
  const opened: Store[] = [];
  const open = async () => {
    const s = await place.open();
    opened.push(s);
    return s;
  };

  beforeEach(async () => {
    place = await getBackend().place();
    st = await open();
    await st.createOrg(org('acme'));
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    await place.drop();
  });

  test('records survive a reopen; a second open migrates nothing away', async () => {
    await st.createToken({id: 'tok_1', name: 't', secretSha256: 'h1', orgs: ['acme'], scope: 'org', createdAt: '2026-01-01T00:00:00.000Z'});
    await st.insertDatabase(record('id1', 'one', '2026-01-01T00:00:00.000Z', {eviction: true, redisSettings: {notifyKeyspaceEvents: 'Ex'}}), {
      key: 'k',
      tokenId: 'tok_1',
      requestSha256: 'r',
    });
    await st.close();
    opened.splice(0);
    const b = await open();
    expect((await b.findDatabasesByName('one', ['acme']))[0]).toMatchObject({
      id: 'id1',
      readRegions: ['ams'],
      eviction: true,
      redisSettings: {notifyKeyspaceEvents: 'Ex'},
      processes: [{role: 'primary'}, {role: 'replica'}],
    });
    expect((await b.findTokenBySecretHash('h1'))?.orgs).toEqual(['acme']);
    expect((await b.getOrg('acme'))?.cachePassword).toBe('c-acme');
    expect(await b.findIdempotency('k', 'tok_1')).toEqual({requestSha256: 'r', databaseId: 'id1'});
  });

  test('a taken name is NameTakenError and writes nothing; delete cascades to processes and keys', async () => {
    await st.createToken({id: 'tok_1', name: 't', secretSha256: 'h1', orgs: ['acme'], scope: 'org', createdAt: '2026-01-01T00:00:00.000Z'});
    await st.insertDatabase(record('id1', 'one', '2026-01-01T00:00:00.000Z'), {key: 'k', tokenId: 'tok_1', requestSha256: 'r'});
    await expect(st.insertDatabase(record('id2', 'one', '2026-01-02T00:00:00.000Z'))).rejects.toThrow(NameTakenError);
    expect(await st.getDatabase('id2')).toBeUndefined();
    const updated = await st.updateDatabase('id1', {status: 'ready', processes: [{region: 'mad', role: 'primary', port: 21000}]});
    expect(updated).toMatchObject({status: 'ready', processes: [{port: 21000}]});
    expect(await st.getDatabase('id1')).toEqual(updated);
    await st.deleteDatabase('id1');
    expect(await st.getDatabase('id1')).toBeUndefined();
    expect(await st.findIdempotency('k', 'tok_1')).toBeUndefined();
    expect(await st.updateDatabase('id1', {status: 'failed'})).toBeUndefined();
  });

  test('organizations: a taken slug is SlugTakenError; listed in the order asked, all by slug', async () => {
    await expect(st.createOrg({...org('acme'), name: 'Other'})).rejects.toThrow(SlugTakenError);
    expect((await st.getOrg('acme'))?.name).toBe('ACME');
    await st.createOrg(org('beta'));
    expect((await st.listOrgs(['beta', 'nope', 'acme'])).map((o) => o.slug)).toEqual(['beta', 'acme']);
    expect((await st.allOrgs()).map((o) => o.slug)).toEqual(['acme', 'beta']);
  });

  test('tokens: listed per organization, last use kept to the interval, deletion takes grants and keys', async () => {
    await st.createOrg(org('beta'));
    await st.createToken({id: 'tok_b', name: 'second', secretSha256: 'hb', orgs: ['acme'], scope: 'org', createdAt: '2026-01-02T00:00:00.000Z'});
    await st.createToken({id: 'tok_a', name: 'first', secretSha256: 'ha', orgs: ['beta', 'acme'], scope: 'user', createdAt: '2026-01-01T00:00:00.000Z'});
    expect((await st.listTokens('acme')).map((t) => t.id)).toEqual(['tok_a', 'tok_b']);
    expect((await st.listTokens('beta')).map((t) => [t.id, t.orgs, t.scope])).toEqual([['tok_a', ['acme', 'beta'], 'user']]);
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
  });

  test('names are unique per organization: the same name in two, NameTakenError within one', async () => {
    await st.createOrg(org('beta'));
    await st.insertDatabase(record('id3', 'same', '2026-01-03T00:00:00.000Z'));
    await st.insertDatabase(record('id4', 'same', '2026-01-04T00:00:00.000Z', {org: 'beta'}));
    await expect(st.insertDatabase(record('id5', 'same', '2026-01-05T00:00:00.000Z'))).rejects.toThrow(NameTakenError);
    expect([await st.nameExists('acme', 'same'), await st.nameExists('beta', 'same'), await st.nameExists('beta', 'other')]).toEqual([true, true, false]);
    expect((await st.findDatabasesByName('same', ['beta', 'acme'])).map((d) => [d.org, d.id])).toEqual([['acme', 'id3'], ['beta', 'id4']]);
    expect((await st.findDatabasesByName('same', ['beta'])).map((d) => d.id)).toEqual(['id4']);
    expect(await st.findDatabasesByName('same', [])).toEqual([]);
  });

  test('one idempotency key, two inserts at once: exactly one is written, and the key names it', async () => {
    await st.createToken({id: 'tok_1', name: 't', secretSha256: 'h1', orgs: ['acme'], scope: 'org', createdAt: '2026-01-01T00:00:00.000Z'});
    const key = {key: 'same-key', tokenId: 'tok_1', requestSha256: 'r'};
    const results = await Promise.allSettled([
      st.insertDatabase(record('race1', 'race-one', '2026-01-01T00:00:00.000Z'), key),
      st.insertDatabase(record('race2', 'race-two', '2026-01-01T00:00:00.000Z'), key),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const winner = results[0].status === 'fulfilled' ? 'race1' : 'race2';
    expect(await st.findIdempotency('same-key', 'tok_1')).toEqual({requestSha256: 'r', databaseId: winner});
    expect((await st.allDatabases()).map((d) => d.id)).toEqual([winner]);
  });

  test('paging: (createdAt, id) order with ties, per organization and across them; counts', async () => {
    await st.createOrg(org('beta'));
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const id = `page${String(i).padStart(3, '0')}`;
      ids.push(id);
      // ties on createdAt, and ids inserted out of order within a tie
      const at = new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 3))).toISOString();
      await st.insertDatabase(record(id, `db-${i}`, at, {org: i % 2 ? 'beta' : 'acme', processes: []}));
    }
    const walk = async (orgs: string[]) => {
      const seen: string[] = [];
      let after: {createdAt: string; id: string} | undefined;
      for (;;) {
        const rows = await st.listDatabases({orgs, limit: 4, after});
        const page = rows.slice(0, 4);
        seen.push(...page.map((r) => r.id));
        if (rows.length <= 4) return seen;
        after = {createdAt: page[3].createdAt, id: page[3].id};
      }
    };
    expect(await walk(['acme', 'beta'])).toEqual(ids);
    expect(await walk(['beta'])).toEqual(ids.filter((_, i) => i % 2));
    expect(await walk([])).toEqual([]);
    expect(await st.countDatabases(['acme'])).toBe(13);
    expect(await st.countDatabases(['acme', 'beta'])).toBe(25);
    expect(await st.countDatabases([])).toBe(0);
    expect((await st.allDatabases()).map((d) => d.id)).toEqual(ids);
  });

  test('hosts: upserted, listed by role, region and address, deleted; a process names its host', async () => {
    await st.upsertHost(host());
    await st.upsertHost(host({id: 'host-c', role: 'control', region: null, address: 'ctl.example', apiUrl: 'https://ctl.example:8443', gatewayPort: null, restPort: null}));
    await st.upsertHost(host({id: 'host-b', region: 'ams', address: 'ams.example'}));
    await st.upsertHost(host({lastSeenAt: '2026-01-01T00:00:10.000Z', report: {processes: 3}}));
    expect(await st.getHost('host-a')).toEqual(host({lastSeenAt: '2026-01-01T00:00:10.000Z', report: {processes: 3}}));
    expect((await st.listHosts()).map((h) => h.id)).toEqual(['host-c', 'host-b', 'host-a']);
    await st.deleteHost('host-b');
    expect(await st.getHost('host-b')).toBeUndefined();
    expect((await st.listHosts()).map((h) => h.id)).toEqual(['host-c', 'host-a']);

    await st.insertDatabase(record('idh', 'hosted', '2026-01-01T00:00:00.000Z', {processes: [{region: 'mad', role: 'primary', port: 7000, host: 'host-a'}]}));
    expect((await st.getDatabase('idh'))?.processes).toEqual([{region: 'mad', role: 'primary', port: 7000, host: 'host-a'}]);
    await st.updateDatabase('idh', {processes: [{region: 'mad', role: 'primary', port: 7001}]});
    expect((await st.getDatabase('idh'))?.processes).toEqual([{region: 'mad', role: 'primary', port: 7001}]);
  });

  test('every write is announced once, and resolves after its listeners', async () => {
    const changes: StoreChange[] = [];
    let slowDone = false;
    const off = st.subscribe((c) => {
      changes.push(c);
    });
    const offSlow = st.subscribe(async (c) => {
      if (c.kind === 'database' && c.id === 'ann1') {
        await new Promise((r) => setTimeout(r, 50));
        slowDone = true;
      }
    });
    await st.insertDatabase(record('ann1', 'announced', '2026-01-01T00:00:00.000Z'));
    expect(slowDone).toBe(true);
    await st.updateDatabase('ann1', {status: 'ready'});
    await st.createOrg(org('gamma'));
    await st.upsertHost(host());
    await st.deleteHost('host-a');
    await st.deleteDatabase('ann1');
    offSlow();
    // a failing listener does not fail the write
    const offBad = st.subscribe(() => {
      throw new Error('listener broke');
    });
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    await st.createOrg(org('delta'));
    errors.mockRestore();
    offBad();
    // let any echo of this store's own writes arrive (PostgreSQL's NOTIFY comes back to it)
    await new Promise((r) => setTimeout(r, 300));
    off();
    expect(changes).toEqual([
      {kind: 'database', id: 'ann1'},
      {kind: 'database', id: 'ann1'},
      {kind: 'org', slug: 'gamma'},
      {kind: 'host', id: 'host-a'},
      {kind: 'host', id: 'host-a'},
      {kind: 'database', id: 'ann1'},
      {kind: 'org', slug: 'delta'},
    ]);
  });

  test('a write through a second store on the same records is announced to the first (when shared)', async () => {
    if (!getBackend().shared) return; // SQLite: one process owns the file
    const changes: StoreChange[] = [];
    st.subscribe((c) => {
      changes.push(c);
    });
    const other = await open();
    await other.insertDatabase(record('far1', 'far-away', '2026-01-01T00:00:00.000Z'));
    await heard(changes, (c) => c.kind === 'database' && c.id === 'far1', 'the other store insert');
    expect((await st.getDatabase('far1'))?.name).toBe('far-away');
    await other.createOrg(org('far'));
    await heard(changes, (c) => c.kind === 'org' && c.slug === 'far', 'the other store org');
    await other.upsertHost(host({id: 'far-host'}));
    await heard(changes, (c) => c.kind === 'host' && c.id === 'far-host', 'the other store host');
    expect(changes).toEqual([
      {kind: 'database', id: 'far1'},
      {kind: 'org', slug: 'far'},
      {kind: 'host', id: 'far-host'},
    ]);
  });
}
