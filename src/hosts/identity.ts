// The id of this host in the deployment's hosts registry: made once, kept in $REDFLY_HOME, so a
// host that restarts is the same host (its copies, its row) and not a new one.
import {existsSync, readFileSync} from 'node:fs';
import {randomBytes} from 'node:crypto';
import {statePaths} from '../lib/home';
import {writePrivate} from '../lib/private-files';

/** This host's id ("h_" + 12 hex characters), made on first call. */
export function hostId(home: string): string {
  const file = statePaths(home).hostId;
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (/^h_[0-9a-f]{12}$/.test(id)) return id;
  }
  const id = `h_${randomBytes(6).toString('hex')}`;
  writePrivate(file, `${id}\n`);
  return id;
}
