import {BaseCommand} from '../../cli/base-command';

export default class AuthWhoami extends BaseCommand<typeof AuthWhoami> {
  static summary = 'Show which API and token the CLI uses';
  static description = 'The API URL, the token name and the organizations it can see.';
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run(): Promise<{apiUrl: string; tokenId: string; tokenName: string; orgs: string[]}> {
    const api = await this.api();
    const me = await api.whoami();
    this.log(`API: ${api.apiUrl}`);
    this.log(`Token: ${me.tokenName} (${me.tokenId})`);
    this.log(`Organizations: ${me.orgs.join(', ') || 'none'}`);
    return {apiUrl: api.apiUrl, tokenId: me.tokenId, tokenName: me.tokenName, orgs: me.orgs};
  }
}
