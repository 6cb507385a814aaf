import {BaseCommand} from '../../cli/base-command';

// BaseCommand for its --json error shape; works on local files and pids, never through the API.
export default class ServerStop extends BaseCommand<typeof ServerStop> {
  static summary = 'Stop the local redfly server and every redis-server process it started';
  static description =
    'Databases keep their records and data in $REDFLY_HOME and come back on the next server start. ' +
    'Processes left behind by a server that crashed are found through their pidfiles and stopped too.';
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];
  // Without the API's global flags: this command never goes through the API target they pick.
  static baseFlags = {} as typeof BaseCommand.baseFlags;

  async run(): Promise<{stopped: boolean; pid: number | null; orphansStopped: number; home: string}> {
    const {redflyHome, stopLocalServer} = await import('../../cli/local-server');
    const home = redflyHome();
    const r = await stopLocalServer(home);
    if (r.wasRunning) this.log(`redfly server stopped (pid ${r.pid}).`);
    else this.log('The redfly server was not running.');
    if (r.orphansStopped > 0) this.log(`Stopped ${r.orphansStopped} redis-server process(es) left behind by an earlier run.`);
    return {stopped: r.wasRunning, pid: r.pid ?? null, orphansStopped: r.orphansStopped, home};
  }
}
