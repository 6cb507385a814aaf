// Inputs shared by the `${bin()} redis cache` commands: which organization and which region.
// CLI-side only: it imports nothing of the server.
import type {CacheInfo, CacheRegionUrl} from '../api/cache';
import type {RedflyClient} from '../api/client';
import {missingFlagsError, UsageError} from './errors';
import {bin} from './bin';

export interface Asker {
  canPrompt: boolean;
  note: (line: string) => void;
  /** The command as typed plus the given flags, for the "Try this" line (BaseCommand.retryWith). */
  retry: (additions: string[]) => string;
}

export interface CacheInputs {
  org: string;
  /** The region's URL and env lines; only when `region` was asked for. */
  region?: CacheRegionUrl;
  /** What the server said of the cache (every region, TLS); only when `region` was asked for. */
  info?: CacheInfo;
}

/**
 * The organization (--org, else the token's only one, else a prompt) and, when `wantRegion`,
 * the region (--region, else a prompt listing region names nearest first, as `redis create`
 * does). Without a terminal every missing one is named in one error, exit 2.
 */
export async function resolveCacheInputs(
  api: RedflyClient,
  flags: {org?: string; region?: string},
  wantRegion: boolean,
  ask: Asker,
): Promise<CacheInputs> {
  let org = flags.org;
  if (!org) {
    const orgs = await api.listOrgs();
    if (orgs.length === 0) throw new UsageError('Your token has no organization', 'no_org', [`${bin()} orgs create <slug>`]);
    if (orgs.length === 1) {
      ask.note(`Automatically selected organization ${orgs[0].name} (${orgs[0].slug})`);
      org = orgs[0].slug;
    } else if (ask.canPrompt) {
      const {askOrg} = await import('./database-prompts');
      org = await askOrg(orgs);
    } else {
      const example = orgs.find((o) => o.type === 'personal') ?? orgs[0];
      const missing = wantRegion && !flags.region?.trim() ? ['--org', '--region'] : ['--org'];
      throw missingFlagsError(missing, ask.retry([`--org ${example.slug}`, ...(missing.length > 1 ? ['--region <code>'] : [])]));
    }
  }
  if (!wantRegion) return {org};
  const info = await api.getCacheInfo(org);
  return {org, info, region: await resolveCacheRegion(api, info, flags.region, ask)};
}

/** The region named by --region, else a prompt (interactive only). */
async function resolveCacheRegion(api: RedflyClient, info: CacheInfo, flag: string | undefined, ask: Asker): Promise<CacheRegionUrl> {
  const codes = info.regions.map((r) => r.region);
  let wanted = flag?.trim().toLowerCase();
  if (!wanted) {
    if (!ask.canPrompt) throw missingFlagsError(['--region'], ask.retry(['--region <code>']));
    const [{askRegion}, regions] = await Promise.all([import('./database-prompts'), api.listRegions()]);
    const {readState} = await import('./state');
    wanted = await askRegion(
      regions.filter((r) => codes.includes(r.code)),
      'Select the region of the app:',
      readState().lastRegion,
    );
  }
  const found = info.regions.find((r) => r.region === wanted);
  if (!found) {
    throw new UsageError(`Unknown region "${wanted}". Valid region codes: ${codes.join(', ')}`, 'unknown_region', [
      `${bin()} regions list`,
    ]);
  }
  return found;
}
