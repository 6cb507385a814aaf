// Schema migrations of the SQLite store: the .sql files of migrations/ and the few steps SQL
// alone cannot write (a table rebuild that must keep whatever columns earlier steps added), run
// once each, in the order of their version names, each in its own transaction.
import type Database from 'better-sqlite3';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';

const MIGRATIONS_DIR = join(__dirname, 'migrations');

/** A migration written in code; its version sorts among the .sql files' names. */
type CodeStep = (db: Database.Database) => void;

const CODE_STEPS: Record<string, CodeStep> = {
  // Database names were unique across every organization, so org B learned org A's names from
  // 409 name_taken; now they are unique within an organization (issue 10).
  '005_database_names_per_org': (db) =>
    rebuildTable(db, 'databases', (sql) => {
      const out = sql.replace(/\bname\s+TEXT\s+NOT\s+NULL\s+UNIQUE\b/i, 'name TEXT NOT NULL');
      if (out === sql) throw new Error('migration 005: column "name TEXT NOT NULL UNIQUE" not found in databases');
      const end = out.lastIndexOf(')');
      // On a line of its own: the last column may end with a -- comment.
      return `${out.slice(0, end)}\n  , UNIQUE (org_slug, name)\n${out.slice(end)}`;
    }),
};

/**
 * Applies every migration not yet recorded in schema_migrations. Foreign keys are off while
 * they run (a rebuild drops a parent table, which would otherwise cascade to its children) and
 * checked before each step commits, as https://www.sqlite.org/lang_altertable.html#otheralter
 * prescribes. Throws, and leaves the failed step undone, on any SQL error or broken reference.
 */
export function migrate(db: Database.Database, dir = MIGRATIONS_DIR, codeSteps: Record<string, CodeStep> = CODE_STEPS): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as {version: string}[]).map((r) => r.version),
  );
  const steps = new Map<string, CodeStep>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql'))) {
    steps.set(file, (d) => d.exec(readFileSync(join(dir, file), 'utf8')));
  }
  for (const [version, step] of Object.entries(codeSteps)) steps.set(version, step);
  const pending = [...steps.keys()].filter((v) => !applied.has(v)).sort();
  if (pending.length === 0) return;
  const foreignKeys = db.pragma('foreign_keys', {simple: true}) as number;
  // Has no effect inside a transaction: set here, between them.
  db.pragma('foreign_keys = OFF');
  try {
    for (const version of pending) {
      db.transaction(() => {
        steps.get(version)!(db);
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new Error(`migration ${version} breaks ${broken.length} foreign key reference(s)`);
        db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, new Date().toISOString());
      })();
    }
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
}

/**
 * Replaces a table by one made from `edit(its CREATE TABLE statement)`, keeping every column,
 * row and index: SQLite cannot drop or change a constraint in place. Run inside a transaction
 * with foreign keys off (migrate() does both). Throws when the table does not exist.
 */
export function rebuildTable(db: Database.Database, table: string, edit: (createSql: string) => string): void {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as
    | {sql: string}
    | undefined;
  if (!row) throw new Error(`no table ${table} to rebuild`);
  // Autoindexes (of UNIQUE and PRIMARY KEY) have no SQL: the new definition makes its own.
  const indexes = (
    db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").all(table) as {
      sql: string;
    }[]
  ).map((r) => r.sql);
  const temp = `${table}_rebuilt`;
  const head = new RegExp(`^CREATE TABLE\\s+("?)${table}\\1`, 'i');
  if (!head.test(row.sql)) throw new Error(`unexpected definition of ${table}: ${row.sql.slice(0, 60)}`);
  db.exec(edit(row.sql).replace(head, `CREATE TABLE "${temp}"`));
  const columns = (db.pragma(`table_info("${table}")`) as {name: string}[]).map((c) => `"${c.name}"`).join(', ');
  db.exec(`INSERT INTO "${temp}" (${columns}) SELECT ${columns} FROM "${table}"`);
  db.exec(`DROP TABLE "${table}"`);
  db.exec(`ALTER TABLE "${temp}" RENAME TO "${table}"`);
  for (const sql of indexes) db.exec(sql);
}
