import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../../cli/base-command';

export interface DashboardJson {
  url: string;
  expiresAt: string;
  opened: boolean;
}

export default class RedisDashboard extends BaseCommand<typeof RedisDashboard> {
  static summary = "Open a database's live dashboard (or the organization's) in a browser";
  static description =
    'The page shows ops/s, connections, memory against the plan, daily commands and bandwidth against their limits, replication lag per region, the processes and their recent events. The printed link logs the browser in once, within two minutes; it never carries your access token.';
  static examples = [
    '<%= config.bin %> <%= command.id %> my-cache',
    '<%= config.bin %> <%= command.id %> --org acme',
    '<%= config.bin %> <%= command.id %> my-cache --no-open',
  ];

  static args = {
    database: Args.string({description: "database id or name (without it: the organization's page)"}),
  };

  static flags = {
    org: Flags.string({char: 'o', summary: "organization slug, for the organization's page", env: 'REDFLY_ORG'}),
    open: Flags.boolean({summary: 'open a browser when there is one', default: true, allowNo: true}),
  };

  async run(): Promise<DashboardJson> {
    const api = await this.api();
    let target: {database: string} | {org: string};
    if (this.args.database) {
      target = {database: this.args.database};
    } else {
      const {resolveCacheInputs} = await import('../../cli/cache-inputs');
      const ask = {canPrompt: this.canPrompt(), note: (l: string) => this.note(l), retry: (a: string[]) => this.retryWith(a)};
      target = {org: (await resolveCacheInputs(api, {org: this.flags.org}, false, ask)).org};
    }
    const link = await api.createDashboardLink(target);
    let opened = false;
    if (this.flags.open && !this.jsonEnabled()) {
      const {openBrowser} = await import('../../cli/browser');
      opened = openBrowser(link.url);
    }
    this.note(opened ? 'Opening the dashboard in your browser. The link works once, within two minutes:' : 'Open this link (it works once, within two minutes):');
    this.log(link.url);
    return {url: link.url, expiresAt: link.expiresAt, opened};
  }
}
