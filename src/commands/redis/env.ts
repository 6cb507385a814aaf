import {Args, Flags} from '@oclif/core';
import type {Database} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';
import {databaseOrgFlag} from '../../cli/flags';
import {UsageError} from '../../cli/errors';
import {restEnv} from '../../cli/format';

export interface EnvJson {
  id: string;
  name: string;
  region: string;
  readOnly: boolean;
  env: Record<string, string>;
}

/** restEnv, with a region the database is not in as a usage error (exit 2). */
export function restEnvOrUsage(db: Database, region?: string, readOnly = false): Record<string, string> {
  try {
    return restEnv(db, region, readOnly);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export default class RedisEnv extends BaseCommand<typeof RedisEnv> {
  static summary = "Print the environment lines an app needs for the database's REST API";
  static description =
    'UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, the names @upstash/redis reads (Redis.fromEnv()), for the primary region or the one given; ready for an .env file or `export $(...)`.';
  static examples = [
    '<%= config.bin %> <%= command.id %> my-cache >> .env',
    '<%= config.bin %> <%= command.id %> my-cache --region ams --read-only',
    '<%= config.bin %> <%= command.id %> my-cache --json',
  ];

  static args = {
    database: Args.string({description: 'database id or name', required: true}),
  };

  static flags = {
    region: Flags.string({char: 'r', summary: "region of the app (default: the database's primary region)"}),
    'read-only': Flags.boolean({summary: 'the read-only token (read commands only)'}),
    org: databaseOrgFlag(),
  };

  async run(): Promise<EnvJson> {
    const db = await (await this.api()).getDatabase(this.args.database, this.flags.org);
    const region = this.flags.region ?? db.primaryRegion;
    const env = restEnvOrUsage(db, region, this.flags['read-only']);
    for (const [k, v] of Object.entries(env)) this.log(`${k}=${v}`);
    return {id: db.id, name: db.name, region, readOnly: this.flags['read-only'], env};
  }
}
