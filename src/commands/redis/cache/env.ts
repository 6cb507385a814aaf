import {Flags} from '@oclif/core';
import type {CacheInfo} from '../../../api/cache';
import {BaseCommand} from '../../../cli/base-command';
import {CliFailure} from '../../../cli/errors';
import {REST_ENV_NAMES, tlsNote} from '../../../cli/format';

export interface CacheEnvJson {
  org: string;
  region: string;
  env: Record<string, string>;
  /** rediss:// URLs: the CA that verifies them. */
  tls?: CacheInfo['tls'];
}

export default class RedisCacheEnv extends BaseCommand<typeof RedisCacheEnv> {
  static summary = 'Print the environment lines an app in a region would hold for the regional cache';
  static description =
    'FLY_REDIS_CACHE_URL (the name Fly used) and its twin REDFLY_CACHE_URL, ready for an .env file or `export $(...)`. With --rest: UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN of database 0 in that region, for @upstash/redis.';
  static examples = [
    '<%= config.bin %> <%= command.id %> --region mad',
    '<%= config.bin %> <%= command.id %> --region mad >> .env',
    '<%= config.bin %> <%= command.id %> --org acme --region ams --json',
    '<%= config.bin %> <%= command.id %> --region mad --rest >> .env',
  ];

  static flags = {
    org: Flags.string({char: 'o', summary: 'organization slug', env: 'REDFLY_ORG'}),
    region: Flags.string({char: 'r', summary: 'region code of the app', env: 'REDFLY_REGION'}),
    rest: Flags.boolean({summary: "the REST API's lines instead (database 0): UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN"}),
    'read-only': Flags.boolean({summary: 'with --rest: the read-only token', dependsOn: ['rest']}),
  };

  async run(): Promise<CacheEnvJson> {
    const api = await this.api();
    const {resolveCacheInputs} = await import('../../../cli/cache-inputs');
    const ask = {canPrompt: this.canPrompt(), note: (line: string) => this.note(line), retry: (a: string[]) => this.retryWith(a)};
    const {org, region: found, info} = await resolveCacheInputs(api, this.flags, true, ask);
    const region = found!;
    if (this.flags.rest) {
      const token = this.flags['read-only'] ? info?.readOnlyRestToken : info?.restToken;
      if (!region.restUrl || !token) throw new CliFailure('the server does not report a REST API for the regional cache', 'rest_unavailable');
      const env = {[REST_ENV_NAMES.url]: region.restUrl, [REST_ENV_NAMES.token]: token};
      for (const [k, v] of Object.entries(env)) this.log(`${k}=${v}`);
      return {org, region: region.region, env};
    }
    for (const line of region.env) this.log(line);
    // stdout stays the environment lines alone, for .env files and export $(...)
    const note = tlsNote(region.url, info?.tls);
    if (note && !this.jsonEnabled()) this.note(note);
    const env = Object.fromEntries(region.env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    return {org, region: region.region, env, ...(info?.tls ? {tls: info.tls} : {})};
  }
}
