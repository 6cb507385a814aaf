import {Args, Flags} from '@oclif/core';
import {ApiError} from '../../api/errors';
import type {Database, DatabaseStats, DatabaseTls} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';
import {databaseOrgFlag} from '../../cli/flags';
import {restEnvOrUsage} from './env';
import {databaseJson, type DatabaseJson, withEndpoints, eviction, lag, regionsList, statusText, usage} from '../../cli/format';

/** `redis status --json`: the database document, its processes and its usage (when reported). */
export interface StatusJson extends DatabaseJson {
  tls?: DatabaseTls;
  processes?: NonNullable<Database['processes']>;
  restEndpoints?: Record<string, string>;
  /** With --env: UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN of the primary region. */
  env?: Record<string, string>;
  usage?: Omit<DatabaseStats, 'id'>;
}

export default class RedisStatus extends BaseCommand<typeof RedisStatus> {
  static summary = 'Show a database: regions, URL, endpoints and usage against its plan';
  static description =
    'A key/value view of one database, found by id or name. Usage (connections, commands and bandwidth today, data size, replication lag) is shown when the server reports it.';
  static examples = [
    '<%= config.bin %> <%= command.id %> my-cache',
    '<%= config.bin %> <%= command.id %> my-cache --json',
    '<%= config.bin %> <%= command.id %> my-cache --env >> .env',
    '<%= config.bin %> <%= command.id %> my-cache --org acme',
  ];

  static flags = {
    env: Flags.boolean({
      summary: 'print only the UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN lines (see `redis env` for a region or the read-only token)',
    }),
    org: databaseOrgFlag(),
  };

  static args = {
    database: Args.string({description: 'database id or name', required: true}),
  };

  async run(): Promise<StatusJson> {
    const api = await this.api();
    if (this.flags.env) {
      const db = await api.getDatabase(this.args.database, this.flags.org);
      const env = restEnvOrUsage(db);
      for (const [k, v] of Object.entries(env)) this.log(`${k}=${v}`);
      return {...databaseJson(db), env};
    }
    const [db, stats] = await Promise.all([
      api.getDatabase(this.args.database, this.flags.org),
      // Usage is extra: a server that cannot give it still shows the database.
      api.getStats(this.args.database, this.flags.org).catch((error: unknown) => {
        if (error instanceof ApiError && error.status !== 401) return undefined;
        throw error;
      }),
    ]);
    const result: StatusJson = withEndpoints(db);
    if (db.tls) result.tls = db.tls;
    if (db.processes) result.processes = db.processes;
    if (db.restEndpoints && Object.keys(db.restEndpoints).length) result.restEndpoints = db.restEndpoints;
    if (stats) {
      const {id: _id, ...rest} = stats;
      result.usage = rest;
    }
    if (!this.jsonEnabled()) {
      const pairs: [string, string][] = [
        ['ID', db.id],
        ['Name', db.name],
        ['Organization', db.org],
        ['Plan', db.plan],
        ['Primary region', db.primaryRegion],
        ['Read regions', regionsList(db.readRegions)],
        ['Eviction', eviction(db.eviction)],
        ['Status', statusText(db)],
        ['Private URL', db.privateUrl],
      ];
      for (const [region, url] of Object.entries(result.endpoints ?? {})) pairs.push([`Endpoint ${region}`, url]);
      // rediss:// endpoints: the CA a client verifies them with (redis-cli --tls --cacert <file>).
      if (db.tls) pairs.push(['TLS CA', db.tls.caFile ?? (db.tls.caPem ? 'in --json (tls.caPem)' : 'a public CA')]);
      if (db.restUrl) {
        for (const [region, url] of Object.entries(result.restEndpoints ?? {})) pairs.push([`REST URL ${region}`, url]);
        pairs.push(['REST token', db.restToken ?? ''], ['Read-only REST token', db.readOnlyRestToken ?? '']);
      }
      if (stats) {
        pairs.push(
          ['Connections', usage(stats.connections)],
          ['Commands today', usage(stats.commandsToday)],
          ['Bandwidth today', usage(stats.bandwidthTodayBytes, true)],
          ['Data size', usage(stats.dataSizeBytes, true)],
          ['Replication lag', lag(stats)],
        );
      }
      pairs.push(['Created', db.createdAt], ['Updated', db.updatedAt]);
      const {keyValue} = await import('../../cli/render');
      this.log(keyValue(pairs));
    }
    return result;
  }
}

