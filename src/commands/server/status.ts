import {BaseCommand} from '../../cli/base-command';
import {bin} from '../../cli/bin';
import type {GatewayWorkerInfo} from '../../gateway/types';
import type {Host} from '../../api/types';

interface ProcessLine {
  database: string;
  region: string;
  role: string;
  port: number;
  state: string;
  restarts: number;
}

export interface ServerStatusResult {
  running: boolean;
  healthy: boolean;
  apiUrl: string | null;
  pid: number | null;
  startedAt: string | null;
  home: string;
  /** Whether the API and the gateways speak TLS (https, rediss://); null when not running. */
  tls: boolean | null;
  /** The CA that verifies them, when the server made its own or was given one (--tls-ca). */
  caFile: string | null;
  databases: number | null;
  /** The gateway's worker processes (`server start --gateway-workers N`, N > 1); null when the
   *  gateway runs inside the server process, or the server is not running. */
  gatewayWorkers: GatewayWorkerInfo[] | null;
  processes: {total: number; running: number; notRunning: ProcessLine[]} | null;
  /** The nodes of a multi-host deployment (server start --role); empty for one process, null
   *  when the server could not be asked. */
  hosts: Host[] | null;
}

/** The exit code of `server status` when the server is not running (LSB's "program is not running"). */
export const NOT_RUNNING_EXIT = 3;

// BaseCommand for its --json error shape. It talks to the local server only, with the local
// credentials and its own client: resolving a target here could autostart the server it reports on.
export default class ServerStatus extends BaseCommand<typeof ServerStatus> {
  static summary = 'Show whether the local redfly server runs, its URL, its databases and the health of their processes (and every host, with --role)';
  static description = 'Reads $REDFLY_HOME/server.json, checks the process and /healthz, then asks the API with the local credentials.';
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];
  // Without the API's global flags: this command never goes through the API target they pick.
  static baseFlags = {} as typeof BaseCommand.baseFlags;

  async run(): Promise<ServerStatusResult> {
    const {redflyHome, localServerStatus, readLocalCredentials, readGatewayWorkers} = await import('../../cli/local-server');
    const home = redflyHome();
    const s = await localServerStatus(home);
    const result: ServerStatusResult = {
      running: s.running,
      healthy: s.healthy,
      apiUrl: s.apiUrl ?? null,
      pid: s.pid ?? null,
      startedAt: s.startedAt ?? null,
      home,
      tls: s.running && s.apiUrl ? s.apiUrl.startsWith('https:') : null,
      caFile: s.caFile ?? null,
      databases: null,
      gatewayWorkers: null,
      processes: null,
      hosts: null,
    };
    if (!s.running) {
      this.log(`The redfly server is not running (state in ${home}). Start it with: ${bin()} server start`);
      // Exit 3 = "program is not running", as LSB's `status` and `systemctl status` say it, so
      // that `redfly server status || redfly server start` works; --json still prints the document.
      process.exitCode = NOT_RUNNING_EXIT;
      return result;
    }
    this.log(`${bin()} server running at ${s.apiUrl} (pid ${s.pid}, since ${s.startedAt})`);
    this.log(result.tls ? `TLS: on (https, rediss://)${s.caFile ? `, CA ${s.caFile}` : ''}` : 'TLS: off (http, redis://)');
    result.gatewayWorkers = readGatewayWorkers(home);
    if (result.gatewayWorkers === null) this.log('Gateway: in the server process');
    else {
      this.log(`Gateway workers: ${result.gatewayWorkers.filter((w) => w.state === 'ready').length} of ${result.gatewayWorkers.length} ready`);
      for (const w of result.gatewayWorkers) {
        this.log(`  worker ${w.slot}: ${w.state}${w.pid === null ? '' : `, pid ${w.pid}`}, ${w.connections} connection(s), ${w.restarts} restart(s)`);
      }
    }
    const creds = readLocalCredentials(home);
    if (!s.healthy || !creds) {
      this.log(s.healthy ? 'No local credentials found.' : 'Starting: bringing databases back...');
      return result;
    }
    const {RedflyClient} = await import('../../api/client');
    // An https server's own CA (server.json names it), as every other command trusts it.
    const client = new RedflyClient({apiUrl: s.apiUrl!, token: creds.token, caFile: s.caFile ?? undefined, userAgent: this.config.userAgent});
    try {
      const dbs = await client.listAllDatabases();
      const lines: ProcessLine[] = dbs.flatMap((d) =>
        (d.processes ?? []).map((p) => ({database: d.name, region: p.region, role: p.role, port: p.port, state: p.state, restarts: p.restarts})),
      );
      const notRunning = lines.filter((l) => l.state !== 'running');
      result.databases = dbs.length;
      result.processes = {total: lines.length, running: lines.length - notRunning.length, notRunning};
      this.log(`Databases: ${dbs.length}`);
      this.log(`Database processes: ${lines.length - notRunning.length} of ${lines.length} running`);
      for (const l of notRunning) this.log(`  ${l.database} ${l.role} in ${l.region} (port ${l.port}): ${l.state}, ${l.restarts} restart(s)`);
      result.hosts = (await client.listHosts()).hosts;
      if (result.hosts.length > 0) {
        const {hostLines} = await import('../../cli/hosts');
        this.log(`Hosts: ${result.hosts.length} (${result.hosts.filter((h) => h.up).length} up)`);
        for (const line of hostLines(result.hosts)) this.log(line);
      }
    } catch (err) {
      this.warn(`could not list databases: ${(err as Error).message}`);
    } finally {
      client.close();
    }
    return result;
  }
}
