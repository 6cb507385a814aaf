import {Args, Flags} from '@oclif/core';
import type {Database, UpdateDatabaseRequest} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';
import {databaseOrgFlag} from '../../cli/flags';
import {withSpinner} from '../../cli/spinner';
import {parseRegionList, validatePlan, validateReplicaRegions} from '../../cli/database-inputs';
import * as ask from '../../cli/database-prompts';
import {UsageError} from '../../cli/errors';
import {bin} from '../../cli/bin';
import {databaseJson, type DatabaseJson, eviction, regionsList} from '../../cli/format';

export default class RedisUpdate extends BaseCommand<typeof RedisUpdate> {
  static summary = 'Change the read regions, plan or eviction of a database';
  static description = `Runs from flags alone (for scripts), or asks with the current values preselected when no flag is given at a terminal. Only what changed is sent. The primary region and the name cannot change.`;
  static examples = [
    '<%= config.bin %> <%= command.id %> my-cache',
    '<%= config.bin %> <%= command.id %> my-cache --replica-regions ams,fra',
    '<%= config.bin %> <%= command.id %> my-cache --replica-regions "" --plan 200mb --enable-eviction --json',
  ];

  static args = {
    database: Args.string({description: 'database id or name', required: true}),
  };

  static flags = {
    'replica-regions': Flags.string({summary: 'the full new set of read regions, comma-separated ("" removes all)'}),
    plan: Flags.string({summary: 'new plan id, see redfly redis plans'}),
    'enable-eviction': Flags.boolean({summary: 'evict keys when memory is full', exclusive: ['disable-eviction']}),
    'disable-eviction': Flags.boolean({summary: 'refuse writes when memory is full'}),
    'no-wait': Flags.boolean({summary: 'return at once, while the change is still being applied'}),
    // Hidden: only there to say why, instead of oclif's bare "Nonexistent flag", when a user
    // reaches for create's -r/--region (and --name) here.
    region: Flags.string({char: 'r', hidden: true}),
    name: Flags.string({char: 'n', hidden: true}),
    org: databaseOrgFlag(),
  };

  async run(): Promise<DatabaseJson> {
    const f = this.flags;
    if (f.region !== undefined) {
      throw new UsageError(
        `The primary region of a database cannot change (${this.args.database} keeps its own); update changes only --replica-regions, --plan and eviction`,
        'immutable_field',
        [`${bin()} redis create --region ${f.region.trim().toLowerCase()} (a new database there)`, `${bin()} redis update ${this.args.database} --replica-regions ${f.region.trim().toLowerCase()} (a read replica there)`],
      );
    }
    if (f.name !== undefined) {
      throw new UsageError('The name of a database cannot change; update changes only --replica-regions, --plan and eviction', 'immutable_field');
    }
    const fromFlags =
      f['replica-regions'] !== undefined || f.plan !== undefined || f['enable-eviction'] || f['disable-eviction'];
    const interactive = this.canPrompt();
    if (!fromFlags && !interactive) {
      throw new UsageError(
        'Nothing to change: pass at least one of --replica-regions, --plan, --enable-eviction, --disable-eviction (not running interactively, so nothing can be asked)',
        'missing_flags',
        [this.retryWith(['--plan <plan>']), this.retryWith(['--replica-regions <codes>'])],
      );
    }
    const api = await this.api();
    const db = await api.getDatabase(this.args.database, f.org);
    const prompting = !fromFlags;
    const [regions, plans] = await Promise.all([
      f['replica-regions'] !== undefined || prompting ? api.listRegions() : undefined,
      f.plan !== undefined || prompting ? api.listPlans() : undefined,
    ]);

    let readRegions: string[] | undefined;
    if (f['replica-regions'] !== undefined) {
      readRegions = validateReplicaRegions(parseRegionList(f['replica-regions']), db.primaryRegion, regions!);
    } else if (prompting) {
      readRegions = await ask.askReplicaRegions(regions!, db.primaryRegion, db.readRegions);
    }
    let plan: string | undefined;
    if (f.plan !== undefined) plan = validatePlan(f.plan, plans!).id;
    else if (prompting) plan = await ask.askPlan(plans!, db.plan);
    let evict: boolean | undefined = f['enable-eviction'] ? true : f['disable-eviction'] ? false : undefined;
    if (evict === undefined && prompting) evict = await ask.askEviction(db.eviction);

    const change = changedFields(db, {readRegions, plan, eviction: evict});
    if (Object.keys(change).length === 0) {
      this.log(`No changes: ${db.name} already has these settings.`);
      return databaseJson(db);
    }
    let updated = await api.updateDatabase(db.id, change);
    if (!f['no-wait'] && updated.status !== 'ready') {
      updated = await withSpinner(`Updating ${db.name}`, !this.jsonEnabled(), 'ready', () => api.waitUntilReady(db.id));
    }
    this.log(`Updated ${db.name}: ${describeChange(db, change)}.`);
    return databaseJson(updated);
  }
}

/** Only what differs from the database as it is: an update never rewrites a field by accident. */
export function changedFields(db: Database, wanted: UpdateDatabaseRequest): UpdateDatabaseRequest {
  const change: UpdateDatabaseRequest = {};
  if (wanted.readRegions && !sameSet(wanted.readRegions, db.readRegions)) change.readRegions = wanted.readRegions;
  if (wanted.plan !== undefined && wanted.plan !== db.plan) change.plan = wanted.plan;
  if (wanted.eviction !== undefined && wanted.eviction !== db.eviction) change.eviction = wanted.eviction;
  return change;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function describeChange(db: Database, change: UpdateDatabaseRequest): string {
  const parts: string[] = [];
  if (change.readRegions) parts.push(`read regions ${regionsList(db.readRegions)} -> ${regionsList(change.readRegions)}`);
  if (change.plan) parts.push(`plan ${db.plan} -> ${change.plan}`);
  if (change.eviction !== undefined) parts.push(`eviction ${eviction(db.eviction)} -> ${eviction(change.eviction)}`);
  return parts.join(', ');
}
