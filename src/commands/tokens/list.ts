import {Flags} from '@oclif/core';
import type {Token} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';

export default class TokensList extends BaseCommand<typeof TokensList> {
  static summary = "List an organization's access tokens";
  static description = 'Shows each token\'s id, name, creation time and last use (to the minute), never its secret.';
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --org acme --json'];

  static flags = {
    org: Flags.string({char: 'o', summary: 'organization slug', env: 'REDFLY_ORG'}),
  };

  async run(): Promise<Token[]> {
    const api = await this.api();
    const {resolveCacheInputs} = await import('../../cli/cache-inputs');
    const ask = {canPrompt: this.canPrompt(), note: (l: string) => this.note(l), retry: (a: string[]) => this.retryWith(a)};
    const org = (await resolveCacheInputs(api, {org: this.flags.org}, false, ask)).org;
    const tokens = await api.listOrgTokens(org);
    if (!this.jsonEnabled()) {
      if (tokens.length === 0) {
        this.log(`No tokens for ${org}.`);
      } else {
        const {table} = await import('../../cli/render');
        this.log(
          table(tokens, [
            {header: 'ID', get: (t) => t.id},
            {header: 'NAME', get: (t) => t.name},
            {header: 'CREATED', get: (t) => t.createdAt},
            {header: 'LAST USED', get: (t) => t.lastUsedAt ?? 'never'},
          ]),
        );
      }
    }
    return tokens;
  }
}
