import {BaseCommand} from '../../cli/base-command';
import {missingFlagsError} from '../../cli/errors';
import * as prompts from '../../cli/prompts';

export interface LoginJson {
  apiUrl: string;
  tokenId: string;
  tokenName: string;
  orgs: string[];
  configFile: string;
}

export default class AuthLogin extends BaseCommand<typeof AuthLogin> {
  static summary = 'Save the API URL and access token to use';
  static description = `Checks the token against the API, then saves both to $REDFLY_HOME/config.json (mode 0600). Without a login the CLI uses the local server. Asks for what --api-url and --access-token do not give.`;
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --api-url https://redfly.example.com --access-token rf_xxx',
  ];

  async run(): Promise<LoginJson> {
    let apiUrl = this.flags['api-url'];
    let token = this.flags['access-token'];
    if (!this.canPrompt()) {
      const missing = [...(apiUrl ? [] : ['--api-url']), ...(token ? [] : ['--access-token'])];
      if (missing.length) throw missingFlagsError(missing, this.retryWith(missing.map((f) => `${f} <${f === '--api-url' ? 'url' : 'token'}>`)));
    }
    const credentials = await import('../../cli/credentials');
    apiUrl ??= await prompts.input({
      message: 'API URL:',
      default: credentials.readLogin()?.apiUrl,
      validate: (v) => /^https?:\/\/\S+$/.test(v.trim()) || 'an http:// or https:// URL',
    });
    apiUrl = apiUrl.trim().replace(/\/+$/, '');
    token ??= (await prompts.password({message: 'Access token:', validate: (v) => v.trim() !== '' || 'required'})).trim();
    const {RedflyClient} = await import('../../api/client');
    const me = await new RedflyClient({apiUrl, token, userAgent: this.config.userAgent}).whoami();
    const configFile = credentials.writeLogin({apiUrl, token});
    this.log(`Logged in to ${apiUrl} as ${me.tokenName} (organizations: ${me.orgs.join(', ') || 'none'}).`);
    this.log(`Saved to ${configFile}.`);
    return {apiUrl, tokenId: me.tokenId, tokenName: me.tokenName, orgs: me.orgs, configFile};
  }
}
