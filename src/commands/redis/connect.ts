import {Args, Flags} from '@oclif/core';
import type {Database} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';
import {databaseOrgFlag} from '../../cli/flags';
import {CliFailure, UsageError} from '../../cli/errors';
import {bin} from '../../cli/bin';
import type {RedflyClient} from '../../api/client';

export default class RedisConnect extends BaseCommand<typeof RedisConnect> {
  static enableJsonFlag = false;
  static summary = 'Open redis-cli on a database';
  static description = `Runs redis-cli against the database's endpoint in the chosen region (the primary region by default). The password goes through the REDISCLI_AUTH environment variable, not the command line. Without redis-cli, says how to install it and prints the URL.`;
  static examples = [
    '<%= config.bin %> <%= command.id %> my-cache',
    '<%= config.bin %> <%= command.id %> my-cache --region ams',
    'echo "INFO keyspace" | <%= config.bin %> <%= command.id %> my-cache',
  ];

  static args = {
    database: Args.string({description: 'database id or name (at a terminal, left out: choose from a list)'}),
  };

  static flags = {
    region: Flags.string({char: 'r', summary: 'region whose endpoint to use (default: the primary region)'}),
    org: databaseOrgFlag(),
  };

  async run(): Promise<void> {
    const db = await pickDatabase(await this.api(), this.args.database, this.canPrompt(), this.flags.org);
    const url = endpointFor(db, this.flags.region);
    const {spawn} = await import('node:child_process');
    const {args, env} = redisCliInvocation(url);
    const bin = process.env.REDFLY_REDIS_CLI || 'redis-cli';
    const code = await new Promise<number | 'missing'>((resolve, reject) => {
      const child = spawn(bin, args, {stdio: 'inherit', env: {...process.env, ...env}});
      child.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? resolve('missing') : reject(error)));
      child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
    });
    if (code === 'missing') {
      this.log(url);
      throw new CliFailure('redis-cli was not found in your PATH; the URL above works with any Redis client', 'redis_cli_missing', [
        'Debian/Ubuntu: sudo apt-get install redis-tools',
        'macOS: brew install redis',
      ]);
    }
    // redis-cli's own status, so that `echo PING | redfly redis connect db` can be scripted.
    if (code !== 0) process.exitCode = code;
  }
}

/**
 * The database named, else (a person at a terminal) one chosen from the token's databases, as
 * flyctl's `redis connect` offers; without a terminal a missing name is a usage error (exit 2).
 * Shared with `redis proxy`.
 */
export async function pickDatabase(api: RedflyClient, idOrName: string | undefined, canPrompt: boolean, org?: string): Promise<Database> {
  if (idOrName) return api.getDatabase(idOrName, org);
  if (!canPrompt) {
    throw new UsageError(
      'Missing argument: the database id or name (not running interactively, so nothing can be asked)',
      'missing_args',
      [`${bin()} redis list`],
    );
  }
  const all = await api.listAllDatabases({org});
  if (all.length === 0) throw new UsageError('You have no databases to connect to', 'no_database', [`${bin()} redis create`]);
  const prompts = await import('../../cli/prompts');
  const id = await prompts.select({
    message: 'Select a database:',
    choices: all.map((d) => ({name: `${d.name} (${d.org}, ${[d.primaryRegion, ...d.readRegions].join(',')})`, value: d.id})),
  });
  return all.find((d) => d.id === id)!;
}

/**
 * redis-cli -u <url> with the credentials taken out: the password travels in REDISCLI_AUTH
 * (not visible in `ps`, no warning printed), a user other than "default" as --user. (redis-cli
 * ignores REDISCLI_AUTH when the URL names a user, hence both are removed from the URL.)
 */
export function redisCliInvocation(url: string): {args: string[]; env: Record<string, string>} {
  const parsed = new URL(url);
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const args = ['-u', parsed.toString()];
  if (user && user !== 'default') args.push('--user', user);
  return {args, env: password ? {REDISCLI_AUTH: password} : {}};
}

/** The region gateway's URL for the database: only the gateway admits the database password
 *  (every redis-server has user default off), so a replica's own port is never an option. */
export function endpointFor(db: Database, region?: string): string {
  const wanted = region?.trim().toLowerCase() || db.primaryRegion;
  const regions = [db.primaryRegion, ...db.readRegions];
  if (!regions.includes(wanted)) {
    throw new UsageError(`${db.name} has no copy in region "${wanted}". Its regions: ${regions.join(', ')}`, 'unknown_region');
  }
  const endpoint = db.endpoints?.[wanted] || (wanted === db.primaryRegion ? db.privateUrl : '');
  if (!endpoint) {
    throw new CliFailure(`${db.name} has no endpoint in region "${wanted}" yet: the server's gateway is not serving it`, 'no_endpoint');
  }
  return endpoint;
}
