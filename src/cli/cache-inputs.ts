// Inputs shared by the `${bin()} redis cache` commands: which organization and which region.
// CLI-side only: it imports nothing of the server.
import type {CacheInfo, CacheRegionUrl} from '../api/cache';
import type {RedflyClient} from '../api/client';
import {missingFlagsError, UsageError} from './errors';
import {bin} from './bin';

export interface Asker {
  canPrompt: boolean;
  note: (line: string) => void;
}

/** --org, else the only organization of the token, else a prompt (interactive only). */
export async function resolveCacheOrg(api: RedflyClient, flag: string | undefined, ask: Asker): Promise<string> {
  if (flag) return flag;
  const orgs = await api.listOrgs();
  if (orgs.length === 1) {
    ask.note(`Automatically selected organization ${orgs[0].name} (${orgs[0].slug})`);
    return orgs[0].slug;
  }
  if (orgs.length === 0) throw new UsageError('Your token has no organization', 'no_org', [`${bin()} orgs create <slug>`]);
  if (!ask.canPrompt) throw missingFlagsError(['--org']);
  const {askOrg} = await import('./database-prompts');
  return askOrg(orgs);
}

/** The region named by --region, else a prompt (interactive only). */
export async function resolveCacheRegion(info: CacheInfo, flag: string | undefined, ask: Asker): Promise<CacheRegionUrl> {
  const codes = info.regions.map((r) => r.region);
  let wanted = flag?.trim().toLowerCase();
  if (!wanted) {
    if (!ask.canPrompt) throw missingFlagsError(['--region']);
    const prompts = await import('./prompts');
    wanted = await prompts.select({
      message: 'Select the region of the app:',
      choices: codes.map((c) => ({name: c, value: c})),
    });
  }
  const found = info.regions.find((r) => r.region === wanted);
  if (!found) {
    throw new UsageError(`Unknown region "${wanted}". Valid region codes: ${codes.join(', ')}`, 'unknown_region', [
      `${bin()} regions list`,
    ]);
  }
  return found;
}
