import {chmodSync, existsSync, readFileSync, writeFileSync} from 'node:fs';
import {SlugTakenError, Store} from '../store';
import {newPassword, newTokenId, newTokenSecret, randomString, sha256} from './ids';
import {statePaths} from '../lib/home';

export const PERSONAL_ORG = 'personal';

/** Writes a file only its owner can read (secrets). */
export function writePrivateFile(file: string, content: string): void {
  writeFileSync(file, content, {mode: 0o600});
  // mode only applies when the file is created; an existing one may be wider
  chmodSync(file, 0o600);
}

/** The secret shared by the control plane and the data plane only (admin user of every redis-server). */
export function internalSecret(home: string): string {
  const file = statePaths(home).internalSecret;
  if (existsSync(file)) {
    const s = readFileSync(file, 'utf8').trim();
    if (s) return s;
  }
  const secret = randomString(48);
  writePrivateFile(file, `${secret}\n`);
  return secret;
}

/** First start: the personal organization and a token for it in local-credentials.json. Later
 *  starts keep the token (and refresh the API URL, which follows --port). */
export async function ensureLocalCredentials(store: Store, home: string, apiUrl: string, caFile?: string): Promise<void> {
  const file = statePaths(home).localCredentials;
  let token: string | undefined;
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {token?: string};
    if (saved.token && (await store.findTokenBySecretHash(sha256(saved.token)))) token = saved.token;
  } catch {
    // missing or unreadable: make a new one
  }
  if (!token) {
    try {
      await store.createOrg({
        slug: PERSONAL_ORG,
        name: 'Personal',
        type: 'personal',
        cachePassword: newPassword(),
        createdAt: new Date().toISOString(),
      });
    } catch (err) {
      // kept from an earlier start, or made meanwhile by another node of a shared store
      if (!(err instanceof SlugTakenError)) throw err;
    }
    token = newTokenSecret();
    await store.createToken({
      id: newTokenId(),
      name: 'local',
      secretSha256: sha256(token),
      orgs: [PERSONAL_ORG],
      scope: 'user',
      createdAt: new Date().toISOString(),
    });
  }
  // caFile: the CA that verifies an https API (the CLI trusts it for this server only).
  writePrivateFile(file, `${JSON.stringify({apiUrl, token, ...(caFile ? {caFile} : {})}, null, 2)}\n`);
}
