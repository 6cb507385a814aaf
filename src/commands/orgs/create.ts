import {Args, Flags} from '@oclif/core';
import type {Organization} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';

export default class OrgsCreate extends BaseCommand<typeof OrgsCreate> {
  static summary = 'Create an organization';
  static description = 'The token you use gains access to the new organization.';
  static examples = [
    '<%= config.bin %> <%= command.id %> acme',
    '<%= config.bin %> <%= command.id %> acme --name "Acme Inc" --json',
  ];

  static args = {
    slug: Args.string({description: 'lowercase letters, digits and dashes, starting with a letter', required: true}),
  };

  static flags = {
    name: Flags.string({summary: 'display name (default: the slug)'}),
  };

  async run(): Promise<Organization> {
    const org = await (await this.api()).createOrg({slug: this.args.slug, ...(this.flags.name ? {name: this.flags.name} : {})});
    this.log(`Created organization ${org.name} (${org.slug}).`);
    return org;
  }
}
