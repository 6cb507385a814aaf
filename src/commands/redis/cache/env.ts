import {Flags} from '@oclif/core';
import {BaseCommand} from '../../../cli/base-command';

export interface CacheEnvJson {
  org: string;
  region: string;
  env: Record<string, string>;
}

export default class RedisCacheEnv extends BaseCommand<typeof RedisCacheEnv> {
  static summary = 'Print the environment lines an app in a region would hold for the regional cache';
  static description =
    'FLY_REDIS_CACHE_URL (the name Fly used) and its twin REDFLY_CACHE_URL, ready for an .env file or `export $(...)`.';
  static examples = [
    '<%= config.bin %> <%= command.id %> --region mad',
    '<%= config.bin %> <%= command.id %> --region mad >> .env',
    '<%= config.bin %> <%= command.id %> --org acme --region ams --json',
  ];

  static flags = {
    org: Flags.string({char: 'o', summary: 'organization slug', env: 'REDFLY_ORG'}),
    region: Flags.string({char: 'r', summary: 'region code of the app', env: 'REDFLY_REGION'}),
  };

  async run(): Promise<CacheEnvJson> {
    const api = await this.api();
    const {resolveCacheInputs} = await import('../../../cli/cache-inputs');
    const ask = {canPrompt: this.canPrompt(), note: (line: string) => this.note(line), retry: (a: string[]) => this.retryWith(a)};
    const {org, region: found} = await resolveCacheInputs(api, this.flags, true, ask);
    const region = found!;
    for (const line of region.env) this.log(line);
    const env = Object.fromEntries(region.env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    return {org, region: region.region, env};
  }
}
