import {PgStore} from './postgres';
import {SqliteStore} from './sqlite';
import {Store} from './types';
import {statePaths} from '../lib/home';

export * from './types';
export {SqliteStore} from './sqlite';

/**
 * The records of one redfly node: in PostgreSQL when REDFLY_DATABASE_URL is a postgres:// or
 * postgresql:// URL (several control-plane nodes share it), else in SQLite in the redfly home.
 * Throws on another kind of URL, and (PostgreSQL) when the database cannot be reached or
 * migrated.
 */
export async function openStore(home: string, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  const url = env.REDFLY_DATABASE_URL;
  if (url) {
    if (!/^postgres(ql)?:\/\//i.test(url)) {
      throw new Error('REDFLY_DATABASE_URL must be a postgres:// or postgresql:// URL');
    }
    return PgStore.open(url);
  }
  return new SqliteStore(statePaths(home).db);
}
