import {BaseCommand} from '../../cli/base-command';
import {CliFailure} from '../../cli/errors';
import {bin} from '../../cli/bin';

export default class AuthToken extends BaseCommand<typeof AuthToken> {
  static summary = 'Print the access token the CLI uses';
  static description = 'For scripts: export REDFLY_ACCESS_TOKEN="$(redfly auth token)".';
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run(): Promise<{apiUrl: string; token: string}> {
    const target = await this.resolveTarget();
    if (!target.token) {
      throw new CliFailure(`No access token is configured for ${target.apiUrl}`, 'no_token', [
        `${bin()} auth login`,
      ]);
    }
    this.log(target.token);
    return {apiUrl: target.apiUrl, token: target.token};
  }
}
