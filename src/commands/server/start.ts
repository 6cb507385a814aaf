import {Flags} from '@oclif/core';
import {BaseCommand} from '../../cli/base-command';
import {CliFailure} from '../../cli/errors';
import {bin} from '../../cli/bin';

// BaseCommand for its --json error shape and failure mapping; no API client: this command is what
// makes one possible, so the global --api-url/--access-token flags do not apply.
export default class ServerStart extends BaseCommand<typeof ServerStart> {
  static summary = 'Start the local redfly server (provisioning API and redis-server processes)';
  static description =
    'Runs in the background by default and prints the API URL once it answers. State (records, data, ' +
    'logs, credentials) lives in $REDFLY_HOME (default ~/.redfly); databases recorded there get their ' +
    'processes back. With --foreground the server runs in this terminal until Ctrl-C.';
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --port 4781',
    'REDFLY_HOME=/tmp/redfly-test <%= config.bin %> <%= command.id %> --port 0 --json',
    '<%= config.bin %> <%= command.id %> --foreground',
    '<%= config.bin %> <%= command.id %> --simulate-latency',
    '<%= config.bin %> <%= command.id %> --listen 0.0.0.0 --public-host redis.example.com',
    '<%= config.bin %> <%= command.id %> --tls',
    '<%= config.bin %> <%= command.id %> --gateway-workers 4',
    'REDFLY_DATABASE_URL=postgres://redfly@db/redfly <%= config.bin %> <%= command.id %> --role control --listen 10.0.0.1',
    'REDFLY_DATABASE_URL=postgres://redfly@db/redfly <%= config.bin %> <%= command.id %> --role region --region ams --listen 10.0.1.1 --public-host ams.redfly.internal',
  ];
  // Without the API's global flags: this command never goes through the API target they pick.
  static baseFlags = {} as typeof BaseCommand.baseFlags;
  static flags = {
    port: Flags.integer({
      summary: 'port of the API on 127.0.0.1 (0 = any free port)',
      env: 'REDFLY_SERVER_PORT',
      default: 4780,
      min: 0,
      max: 65535,
    }),
    foreground: Flags.boolean({summary: 'run in this terminal instead of the background', default: false}),
    listen: Flags.string({
      summary: 'address the API and the gateways listen on (default 127.0.0.1; 0.0.0.0 = every interface)',
      description: 'Anything but loopback turns TLS on: the API speaks https and the URLs become rediss://.',
    }),
    'public-host': Flags.string({summary: 'host name that URLs and endpoints carry (default: the --listen address)'}),
    tls: Flags.boolean({
      summary: 'TLS on the API and the gateways (default: on unless --listen is loopback)',
      description:
        'Without --tls-cert, redfly makes its own CA and server certificate under $REDFLY_HOME/tls on first start; ' +
        'clients verify with $REDFLY_HOME/tls/ca.pem (shown by redis status).',
      allowNo: true,
    }),
    'tls-cert': Flags.string({summary: 'your server certificate (PEM, chain) instead of redfly\'s own', dependsOn: ['tls-key']}),
    'tls-key': Flags.string({summary: 'the private key of --tls-cert (PEM)', dependsOn: ['tls-cert']}),
    'tls-ca': Flags.string({summary: 'the CA that issued --tls-cert, shown to clients by redis status'}),
    role: Flags.string({
      summary: 'run as one node of several hosts: control (the API only) or region (one region\'s gateway and copies)',
      description:
        'Needs REDFLY_DATABASE_URL (PostgreSQL): every node reads and writes the same records. A control node runs no ' +
        'redis-server; a region host runs the copies placed in its --region and reports them. Without --role, one ' +
        'process serves every region (the default).',
      options: ['control', 'region'],
    }),
    region: Flags.string({summary: 'the region a --role region host serves', dependsOn: ['role']}),
    'simulate-latency': Flags.boolean({
      summary: 'delay traffic between regions by their distance, as on a real network',
      description:
        'Reads stay fast in a replica region while writes pay the round trip to the primary region; ' +
        'the delay is derived from the distance between the regions.',
      default: false,
    }),
    'gateway-workers': Flags.integer({
      summary: 'gateway worker processes sharing each region\'s port (default 1: the gateway runs inside the server)',
      description:
        'With N > 1 a region\'s gateway uses up to N cores: N processes share its listening port, each client ' +
        'connection lives in one of them, and usage and limits are summed across them. A worker that dies is ' +
        'replaced; `server status` lists them.',
      env: 'REDFLY_GATEWAY_WORKERS',
      min: 1,
      max: 64,
    }),
  };

  async run(): Promise<{apiUrl: string; pid: number; home: string; alreadyRunning: boolean; logFile: string}> {
    const flags = this.flags;
    const {redflyHome, startLocalServer, statePaths, LocalServerError} = await import('../../cli/local-server');
    const home = redflyHome();
    const logFile = statePaths(home).serverLog;
    try {
      const started = await startLocalServer({
        home,
        port: flags.port,
        foreground: flags.foreground,
        simulateLatency: flags['simulate-latency'],
        gatewayWorkers: flags['gateway-workers'],
        serving: {
          listen: flags.listen,
          publicHost: flags['public-host'],
          tls: flags.tls,
          tlsCert: flags['tls-cert'],
          tlsKey: flags['tls-key'],
          tlsCa: flags['tls-ca'],
        },
        ...(flags.role ? {role: {role: flags.role, region: flags.region}} : {}),
      });
      const result = {apiUrl: started.apiUrl, pid: started.pid, home, alreadyRunning: started.alreadyRunning, logFile};
      if (started.alreadyRunning) this.log(`The redfly server is already running at ${started.apiUrl} (pid ${started.pid}).`);
      else if (!flags.foreground) this.log(`${bin()} server running at ${started.apiUrl} (pid ${started.pid})`);
      if (!flags.foreground || started.alreadyRunning) {
        this.log(`State: ${home}   Log: ${logFile}   Stop it with: ${bin()} server stop`);
        return result;
      }
      this.logToStderr('Press Ctrl-C to stop.');
      const code = await started.exited!;
      if (code !== 0) this.exit(code);
      return result;
    } catch (err) {
      if (err instanceof LocalServerError) {
        throw new CliFailure(
          err.message,
          err.code,
          err.code === 'port_in_use'
            ? [`${bin()} server start --port 4781 (or set REDFLY_SERVER_PORT=4781)`]
            : [`see ${logFile}`],
        );
      }
      throw err;
    }
  }
}
