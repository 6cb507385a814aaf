import {Flags} from '@oclif/core';
import type {Token} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';

export default class TokensCreate extends BaseCommand<typeof TokensCreate> {
  static summary = 'Create an access token for one organization';
  static description =
    'The secret is printed once, alone on stdout, and cannot be shown again (the server keeps only its hash). Revoke it with `tokens revoke <id>`.';
  static examples = [
    '<%= config.bin %> <%= command.id %> --org acme --name ci',
    'REDFLY_ACCESS_TOKEN="$(<%= config.bin %> <%= command.id %> -o acme -n deploy)"',
    '<%= config.bin %> <%= command.id %> -o acme -n ci --json',
  ];

  static flags = {
    org: Flags.string({char: 'o', summary: 'organization slug', env: 'REDFLY_ORG'}),
    name: Flags.string({char: 'n', summary: 'what the token is for (default: "<org> token")'}),
  };

  async run(): Promise<Token> {
    const api = await this.api();
    const {resolveCacheInputs} = await import('../../cli/cache-inputs');
    const ask = {canPrompt: this.canPrompt(), note: (l: string) => this.note(l), retry: (a: string[]) => this.retryWith(a)};
    const org = (await resolveCacheInputs(api, {org: this.flags.org}, false, ask)).org;
    const token = await api.createOrgToken(org, this.flags.name ? {name: this.flags.name} : {});
    this.note(`Created token ${token.name} (${token.id}) for ${org}. Copy it now: it is not shown again.`);
    this.log(token.token ?? '');
    return token;
  }
}
