import {Flags} from '@oclif/core';
import type {CacheInfo} from '../../../api/cache';
import {BaseCommand} from '../../../cli/base-command';
import {tlsNote} from '../../../cli/format';

export interface CacheUrlJson {
  org: string;
  region: string;
  url: string;
  /** rediss:// URLs: the CA that verifies them. */
  tls?: CacheInfo['tls'];
}

export default class RedisCacheUrl extends BaseCommand<typeof RedisCacheUrl> {
  static summary = "Print the URL of an organization's regional cache in one region";
  static description =
    'The URL an app running in that region would receive (FLY_REDIS_CACHE_URL). Database 0 is local to the region; after SELECT 1, commands are replayed in every region.';
  static examples = [
    '<%= config.bin %> <%= command.id %> --org personal --region mad',
    '<%= config.bin %> <%= command.id %> --region ams --json',
  ];

  static flags = {
    org: Flags.string({char: 'o', summary: 'organization slug', env: 'REDFLY_ORG'}),
    region: Flags.string({char: 'r', summary: 'region code of the app', env: 'REDFLY_REGION'}),
  };

  async run(): Promise<CacheUrlJson> {
    const api = await this.api();
    const {resolveCacheInputs} = await import('../../../cli/cache-inputs');
    const ask = {canPrompt: this.canPrompt(), note: (line: string) => this.note(line), retry: (a: string[]) => this.retryWith(a)};
    const {org, region: found, info} = await resolveCacheInputs(api, this.flags, true, ask);
    const region = found!;
    this.log(region.url);
    // stdout stays the URL alone, for $(redfly redis cache url)
    const note = tlsNote(region.url, info?.tls);
    if (note && !this.jsonEnabled()) this.note(note);
    return {org, region: region.region, url: region.url, ...(info?.tls ? {tls: info.tls} : {})};
  }
}
