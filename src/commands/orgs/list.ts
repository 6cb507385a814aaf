import type {Organization} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';

export default class OrgsList extends BaseCommand<typeof OrgsList> {
  static summary = 'List the organizations your token can use';
  static description = 'Databases belong to an organization; a token sees only the databases of its organizations.';
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run(): Promise<Organization[]> {
    const orgs = await (await this.api()).listOrgs();
    if (!this.jsonEnabled()) {
      if (orgs.length === 0) {
        this.log('No organizations found.');
      } else {
        const {table} = await import('../../cli/render');
        this.log(
          table(orgs, [
            {header: 'SLUG', get: (o) => o.slug, keep: true},
            {header: 'NAME', get: (o) => o.name},
            {header: 'TYPE', get: (o) => o.type},
            {header: 'CREATED', get: (o) => o.createdAt, keep: true, drop: 1},
          ]),
        );
      }
    }
    return orgs;
  }
}
