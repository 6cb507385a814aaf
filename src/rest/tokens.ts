// REST tokens of an organization's regional cache (database 0). The cache has one password,
// made with the organization and never rotated, so its two tokens are derived from it with the
// platform's internal secret (HMAC-SHA256): nothing more to store, and they would change with
// the password. A database's tokens are random and stored with its record instead
// (src/control/ids.ts, migration 002), because `redis reset` rotates them.
import {createHmac} from 'node:crypto';

/** `rfc_...` (every command) and `rfcro_...` (read commands only) for a cache password. */
export function cacheRestTokens(internalSecret: string, cachePassword: string): {token: string; readOnlyToken: string} {
  const derive = (purpose: string) =>
    createHmac('sha256', internalSecret).update(`${purpose}:${cachePassword}`).digest('base64url');
  return {token: `rfc_${derive('cache-rest')}`, readOnlyToken: `rfcro_${derive('cache-rest-read-only')}`};
}
