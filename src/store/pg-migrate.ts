// Schema migrations of the PostgreSQL store: the .sql files of migrations/postgres/, run once
// each in the order of their names, each in its own transaction, recorded in schema_migrations
// as the SQLite store records its own. Nodes starting at once take turns on an advisory lock.
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import type {Pool} from 'pg';

export const PG_MIGRATIONS_DIR = join(__dirname, 'migrations', 'postgres');

/** The advisory lock key migrations hold (any constant bigint; "redfly" in ASCII). */
const MIGRATION_LOCK = 0x726564666c79;

/**
 * Applies every migration of `dir` not yet in schema_migrations, holding the advisory lock
 * MIGRATION_LOCK for the whole run (a second node waits, then finds nothing left to do).
 * Throws the failed step's error and leaves that step undone.
 */
export async function pgMigrate(pool: Pool, dir = PG_MIGRATIONS_DIR): Promise<void> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  await pgMigrateSteps(
    pool,
    files.map((version) => ({version, sql: () => readFileSync(join(dir, version), 'utf8')})),
  );
}

/** One migration: `version` is its name in schema_migrations (unique across every caller). */
export interface PgMigrationStep {
  version: string;
  sql: () => string;
}

/** pgMigrate's engine for steps that are not files (the regional cache's log keeps its schema
 *  in code, since it is also bundled into tests and benchmarks): same table, same lock. */
export async function pgMigrateSteps(pool: Pool, steps: PgMigrationStep[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
      const applied = new Set((await client.query<{version: string}>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const {version, sql} of steps.filter((step) => !applied.has(step.version))) {
        await client.query('BEGIN');
        try {
          await client.query(sql());
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, new Date().toISOString()]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${version} failed: ${(err as Error).message}`);
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
