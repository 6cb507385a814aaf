import {Args, Flags} from '@oclif/core';
import type {Database} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';
import {databaseOrgFlag} from '../../cli/flags';
import {CliFailure} from '../../cli/errors';
import {bin} from '../../cli/bin';
import {endpointFor, pickDatabase} from './connect';

/** `redis proxy --json`: printed once the port listens; the command then runs until Ctrl-C. */
export interface ProxyJson {
  database: string;
  id: string;
  region: string;
  /** Where the proxy forwards to: the region's gateway (host:port). */
  remote: string;
  tls: boolean;
  localPort: number;
  /** The URL a local client uses: the database's password, the proxy's address. */
  localUrl: string;
}

export default class RedisProxy extends BaseCommand<typeof RedisProxy> {
  static summary = 'Forward a local port to a database, for tools that cannot take a URL';
  static description = `Listens on 127.0.0.1 (port 16379 by default, as flyctl's) and forwards every connection to the database's gateway in the chosen region (the primary region by default). Clients still authenticate with the database password. When the endpoint is rediss:// the proxy speaks TLS to the gateway and clients connect in plain text locally. Runs until Ctrl-C. With --json, one document is printed once the port listens.`;
  static examples = [
    '<%= config.bin %> <%= command.id %> my-cache',
    '<%= config.bin %> <%= command.id %> my-cache --region ams --port 6380',
    '<%= config.bin %> <%= command.id %> my-cache --port 0 --json',
  ];

  static args = {
    database: Args.string({description: 'database id or name (at a terminal, left out: choose from a list)'}),
  };

  static flags = {
    region: Flags.string({char: 'r', summary: 'region whose gateway to forward to (default: the primary region)'}),
    port: Flags.integer({char: 'p', summary: 'local port (0 = any free port)', default: 16379, min: 0, max: 65535}),
    org: databaseOrgFlag(),
  };

  async run(): Promise<undefined> {
    const db: Database = await pickDatabase(await this.api(), this.args.database, this.canPrompt(), this.flags.org);
    const target = endpointFor(db, this.flags.region);
    const region = this.flags.region?.trim().toLowerCase() || db.primaryRegion;
    const {startProxy} = await import('../../cli/proxy');
    const url = new URL(target);
    let proxy;
    try {
      proxy = await startProxy({
        target,
        port: this.flags.port,
        tls: (db as Database & {tls?: {caPem?: string | null; caFile?: string | null} | null}).tls,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new CliFailure(`Local port ${this.flags.port} is already in use`, 'port_in_use', [
          `${bin()} redis proxy ${db.name} --port 0 (any free port)`,
        ]);
      }
      throw error;
    }
    const local = new URL(target);
    local.protocol = 'redis:';
    local.hostname = '127.0.0.1';
    local.port = String(proxy.port);
    const doc: ProxyJson = {
      database: db.name,
      id: db.id,
      region,
      remote: url.host,
      tls: proxy.tls,
      localPort: proxy.port,
      localUrl: local.toString(),
    };
    if (this.jsonEnabled()) this.logJson(doc);
    else {
      this.log(`Proxying 127.0.0.1:${proxy.port} to ${db.name} in ${region} (${url.host}${proxy.tls ? ', TLS' : ''})`);
      this.log(`URL: ${doc.localUrl}`);
      this.logToStderr(`Connect with: redis-cli -p ${proxy.port} (then AUTH with the password), or ${bin()} redis connect ${db.name}. Ctrl-C stops.`);
    }
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await proxy.close();
    return undefined;
  }
}
