// The Store contract (contract.ts) against both backends: SQLite in a temp folder, and
// PostgreSQL in one throwaway cluster for the whole file, a fresh database per case.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Client} from 'pg';
import {PgStore} from '../../../src/store/postgres';
import {SqliteStore} from '../../../src/store';
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
