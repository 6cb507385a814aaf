// Databases created before the REST API get their two tokens when the server first starts with
// it (migration 002): distinct, of the same form as new ones, never ''.
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {migrate, SqliteStore} from '../../../src/store/sqlite';

test('migration 002 gives every existing database a full and a read-only REST token', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-mig-'));
  try {
    const only001 = path.join(dir, 'migrations');
    fs.mkdirSync(only001);
    fs.copyFileSync(path.join(__dirname, '../../../src/store/migrations/001_initial.sql'), path.join(only001, '001_initial.sql'));
    const file = path.join(dir, 'redfly.db');
    const db = new Database(file);
    migrate(db, only001);
    db.prepare("INSERT INTO organizations VALUES ('personal', 'Personal', 'personal', 'cpw', '2026-01-01T00:00:00.000Z')").run();
    for (const id of ['a', 'b']) {
      db.prepare(`INSERT INTO databases (id, name, org_slug, plan, primary_region, status, password, created_at, updated_at)
        VALUES (?, ?, 'personal', 'free', 'mad', 'ready', 'pw', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`).run(id, `db-${id}`);
    }
    db.close();
    const store = new SqliteStore(file);
    const [a, b] = [(await store.getDatabase('a'))!, (await store.getDatabase('b'))!];
    await store.close();
    expect(a.restToken).toMatch(/^rfr_[0-9a-f]{44}$/);
    expect(a.readOnlyRestToken).toMatch(/^rfro_[0-9a-f]{44}$/);
    expect(new Set([a.restToken, a.readOnlyRestToken, b.restToken, b.readOnlyRestToken]).size).toBe(4);
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
});
