// The Store contract (contract.ts) against both backends: SQLite in a temp folder, and
// PostgreSQL in one throwaway cluster for the whole file, a fresh database per case.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Client} from 'pg';
import {PgStore} from '../../../src/store/postgres';
import {SqliteStore, StoreChange} from '../../../src/store';
import {startPostgres, TestPostgres} from '../../helpers/postgres';
import {Backend, storeContract} from './contract';

let pg: TestPostgres;
let admin: Client;
let databases = 0;

beforeAll(async () => {
  pg = await startPostgres();
  admin = new Client({connectionString: pg.url});
  await admin.connect();
}, 60_000);
afterAll(async () => {
  await admin?.end();
  await pg?.stop();
});

/** A fresh database of the cluster: its URL. */
export async function freshDatabase(): Promise<{url: string; drop: () => Promise<void>}> {
  const name = `contract_${++databases}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(pg.url);
  url.pathname = `/${name}`;
  return {url: url.toString(), drop: async () => void (await admin.query(`DROP DATABASE ${name} WITH (FORCE)`))};
}

const sqlite: Backend = {
  name: 'SQLite',
  shared: false,
  place: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redfly-contract-'));
    return {
      open: async () => new SqliteStore(join(dir, 'redfly.db')),
      drop: async () => rmSync(dir, {recursive: true, force: true}),
    };
  },
};

const postgres: Backend = {
  name: 'PostgreSQL',
  shared: true,
  place: async () => {
    const db = await freshDatabase();
    return {open: () => PgStore.open(db.url), drop: db.drop};
  },
};

describe.each([sqlite, postgres])('$name store', (backend) => {
  storeContract(() => backend);
});

describe('PostgreSQL store: its LISTEN connection', () => {
  test('lost, it comes back and has every cache reread everything; then it hears other nodes again', async () => {
    const db = await freshDatabase();
    const log: string[] = [];
    const st = await PgStore.open(db.url, {log: (m) => log.push(m)});
    const other = await PgStore.open(db.url, {log: () => undefined});
    try {
      const changes: StoreChange[] = [];
      st.subscribe((c) => {
        changes.push(c);
      });
      const name = new URL(db.url).pathname.slice(1);
      // PostgreSQL restarting, a proxy dropping it...: the server ends the listening session
      const killed = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'",
        [name],
      );
      expect(killed.rowCount).toBe(2); // one per store
      await until(() => changes.some((c) => c.kind === 'all'), 'a reread of everything');
      expect(log).toEqual([
        'store: the LISTEN connection to PostgreSQL was lost; reconnecting',
        'store: listening to PostgreSQL again; rereading every record',
      ]);
      await until(async () => {
        // the other store reconnects on its own schedule: write until one is heard
        await other.createOrg({slug: `org-${changes.length}`, name: 'x', type: 'shared', cachePassword: 'c', createdAt: new Date().toISOString()}).catch(() => undefined);
        return changes.some((c) => c.kind === 'org');
      }, 'an org created by the other store');
    } finally {
      await other.close();
      await st.close();
      await db.drop();
    }
  });
});

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
