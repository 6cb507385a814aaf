import {SqliteStore} from './sqlite';
import {Store} from './types';
import {statePaths} from '../lib/home';

export * from './types';
export {SqliteStore} from './sqlite';

/** The records of one redfly home. SQLite only for now; a REDFLY_DATABASE_URL backend would be
 *  chosen here. */
export function openStore(home: string): Store {
  return new SqliteStore(statePaths(home).db);
}
