import {Args, Flags} from '@oclif/core';
import type {Token} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';
import {missingFlagsError} from '../../cli/errors';
import {bin} from '../../cli/bin';

export default class TokensRevoke extends BaseCommand<typeof TokensRevoke> {
  static summary = 'Revoke an access token';
  static description =
    'The token is refused from its next request on. It asks first; without a terminal it needs --yes. Find ids with `tokens list`.';
  static examples = [
    '<%= config.bin %> <%= command.id %> tok_abc123def456',
    '<%= config.bin %> <%= command.id %> tok_abc123def456 --yes --json',
  ];

  static args = {
    id: Args.string({description: 'token id (tok_...)', required: true}),
  };

  static flags = {
    yes: Flags.boolean({char: 'y', summary: 'revoke without asking'}),
  };

  async run(): Promise<Token | undefined> {
    // Checked before any request: a script without --yes must never reach a prompt or a revoke.
    if (!this.flags.yes && !this.canPrompt()) {
      throw missingFlagsError(['--yes'], `${bin()} tokens revoke ${this.args.id} --yes`);
    }
    const api = await this.api();
    if (!this.flags.yes) {
      const prompts = await import('../../cli/prompts');
      const sure = await prompts.confirm({
        message: `Revoke token ${this.args.id}? Everything using it loses access at once.`,
        default: false,
      });
      if (!sure) {
        this.logToStderr('Nothing revoked.');
        return undefined;
      }
    }
    const token = await api.revokeToken(this.args.id);
    this.log(`Revoked token ${token.name} (${token.id}).`);
    return token;
  }
}
