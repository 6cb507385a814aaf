import {BaseCommand} from '../../cli/base-command';

export default class AuthLogout extends BaseCommand<typeof AuthLogout> {
  static summary = 'Forget the saved API URL and token';
  static description = 'Removes $REDFLY_HOME/config.json; the CLI then uses the local server again.';
  static examples = ['<%= config.bin %> <%= command.id %>'];

  async run(): Promise<{loggedOut: boolean}> {
    const {loginFile, removeLogin} = await import('../../cli/credentials');
    const file = loginFile();
    const loggedOut = removeLogin();
    this.log(loggedOut ? `Logged out (removed ${file}).` : `Not logged in (no ${file}).`);
    return {loggedOut};
  }
}
