import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../../cli/base-command';
import {databaseOrgFlag} from '../../cli/flags';
import {withSpinner} from '../../cli/spinner';
import {confirmDelete} from '../../cli/database-prompts';
import {missingFlagsError} from '../../cli/errors';
import {deletedDatabaseJson, type DatabaseJson} from '../../cli/format';

export default class RedisDelete extends BaseCommand<typeof RedisDelete> {
  static aliases = ['redis:destroy'];
  static summary = 'Delete a database and all its data';
  static description =
    'Stops every process of the database and removes its data. This cannot be undone, so it asks first; without a terminal it needs --yes.';
  static examples = [
    '<%= config.bin %> <%= command.id %> my-cache',
    '<%= config.bin %> <%= command.id %> my-cache --yes --json',
  ];

  static args = {
    database: Args.string({description: 'database id or name', required: true}),
  };

  static flags = {
    yes: Flags.boolean({char: 'y', summary: 'delete without asking'}),
    org: databaseOrgFlag(),
  };

  async run(): Promise<DatabaseJson | undefined> {
    const interactive = this.canPrompt();
    // Checked before any request: a script without --yes must never reach a prompt or a delete.
    if (!this.flags.yes && !interactive) {
      throw missingFlagsError(['--yes'], this.retryWith(['--yes']));
    }
    const api = await this.api();
    const db = await api.getDatabase(this.args.database, this.flags.org);
    if (!this.flags.yes && !(await confirmDelete(db))) {
      this.logToStderr('Nothing deleted.');
      return undefined;
    }
    const deleting = await withSpinner(`Deleting ${db.name}`, !this.jsonEnabled(), 'done', async () => {
      const accepted = await api.deleteDatabase(db.id);
      await api.waitUntilGone(db.id);
      return accepted;
    });
    this.log(`Deleted database ${db.name} (${db.id}).`);
    // The record is gone by now: say so, rather than the "deleting" the API answered at first.
    return deletedDatabaseJson(deleting);
  }
}
