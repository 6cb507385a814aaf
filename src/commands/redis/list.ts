import {Flags} from '@oclif/core';
import {BaseCommand} from '../../cli/base-command';
import {databaseJson, type DatabaseJson, eviction, regionsList, statusText} from '../../cli/format';

export default class RedisList extends BaseCommand<typeof RedisList> {
  static aliases = ['redis:ls'];
  static summary = 'List managed Redis databases';
  static description = 'Every database your token can see, or those of one organization with --org.';
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --org personal',
    '<%= config.bin %> <%= command.id %> --json',
  ];

  static flags = {
    org: Flags.string({char: 'o', summary: 'only the databases of this organization', env: 'REDFLY_ORG'}),
  };

  async run(): Promise<DatabaseJson[]> {
    const api = await this.api();
    const databases = await api.listAllDatabases({org: this.flags.org});
    if (!this.jsonEnabled()) {
      if (databases.length === 0) {
        this.log('No databases found.');
      } else {
        const {table} = await import('../../cli/render');
        this.log(
          table(databases, [
            {header: 'ID', get: (d) => d.id, keep: true},
            {header: 'NAME', get: (d) => d.name},
            {header: 'ORG', get: (d) => d.org, drop: 4},
            {header: 'PLAN', get: (d) => d.plan, drop: 3},
            {header: 'PRIMARY REGION', get: (d) => d.primaryRegion, keep: true, drop: 1},
            {header: 'READ REGIONS', get: (d) => regionsList(d.readRegions), drop: 2},
            {header: 'EVICTION', get: (d) => eviction(d.eviction), drop: 5},
            {header: 'STATUS', get: (d) => statusText(d)},
          ]),
        );
      }
    }
    return databases.map(databaseJson);
  }
}
