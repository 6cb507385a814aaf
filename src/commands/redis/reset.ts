import {Args} from '@oclif/core';
import {BaseCommand} from '../../cli/base-command';
import {databaseOrgFlag} from '../../cli/flags';
import {type DatabaseJson, withEndpoints} from '../../cli/format';

export default class RedisReset extends BaseCommand<typeof RedisReset> {
  static summary = 'Give a database a new password';
  static description = 'The old password and REST tokens stop working at once; prints the new URL and REST tokens.';
  static examples = ['<%= config.bin %> <%= command.id %> my-cache', '<%= config.bin %> <%= command.id %> my-cache --json'];

  static args = {
    database: Args.string({description: 'database id or name', required: true}),
  };

  static flags = {
    org: databaseOrgFlag(),
  };

  async run(): Promise<DatabaseJson> {
    const db = await (await this.api()).resetPassword(this.args.database, this.flags.org);
    this.log(`New password set for ${db.name}; the old one no longer works.`);
    this.log(`URL: ${db.privateUrl}`);
    if (db.restToken) {
      this.log(`REST token: ${db.restToken}`);
      this.log(`Read-only REST token: ${db.readOnlyRestToken}`);
    }
    return withEndpoints(db);
  }
}
