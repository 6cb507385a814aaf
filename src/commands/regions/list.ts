import type {Region} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';

export default class RegionsList extends BaseCommand<typeof RegionsList> {
  static summary = 'List the regions databases can run in';
  static description = 'Codes for --region and --replica-regions.';
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run(): Promise<Region[]> {
    const regions = await (await this.api()).listRegions();
    if (!this.jsonEnabled()) {
      const {table} = await import('../../cli/render');
      this.log(
        table(regions, [
          {header: 'CODE', get: (r) => r.code, keep: true},
          {header: 'NAME', get: (r) => r.name},
        ]),
      );
    }
    return regions;
  }
}
