// A server started with a flag the catalogue refuses stops before it opens anything: with
// REDFLY_DATABASE_URL set, the operator's PostgreSQL is left as it was (no migrations run).
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {Client} from 'pg';
import {startPostgres, TestPostgres} from '../../helpers/postgres';

const MAIN = resolve(__dirname, '../../../dist/control/main.js');

describe('server flags refused before anything opens', () => {
  let pg: TestPostgres;
  let home: string;
  beforeAll(async () => {
    pg = await startPostgres();
    home = mkdtempSync(join(tmpdir(), 'redfly-bad-flags-'));
  }, 30_000);
  afterAll(async () => {
    await pg?.stop();
    rmSync(home, {recursive: true, force: true});
  });

  const tables = async (): Promise<string[]> => {
    const c = new Client({connectionString: pg.url});
    await c.connect();
    try {
      const r = await c.query<{tablename: string}>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
      return r.rows.map((row) => row.tablename);
    } finally {
      await c.end();
    }
  };

  test.each([
    [['--role', 'region', '--region', 'zzz'], /unknown --region zzz; regions: .*mad/],
    [['--gateway-port-base', '65530'], /--gateway-port-base 65530 leaves no room for \d+ regions/],
  ])('%j: exit 2, the reason, and the database untouched', async (flags, message) => {
    const r = spawnSync(process.execPath, [MAIN, '--port', '0', '--home', home, ...flags], {
      encoding: 'utf8',
      env: {...process.env, REDFLY_DATABASE_URL: pg.url},
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(await tables()).toEqual([]);
    expect(existsSync(join(home, 'server.json'))).toBe(false);
  });
});
