import {Flags} from '@oclif/core';
import type {Database, Plan} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';
import {withSpinner} from '../../cli/spinner';
import {
  parseRegionList,
  validateOrg,
  validatePlan,
  validatePrimaryRegion,
  validateReplicaRegions,
} from '../../cli/database-inputs';
import * as ask from '../../cli/database-prompts';
import {missingFlagsError, UsageError} from '../../cli/errors';
import {type DatabaseJson, price, regionsList, withEndpoints} from '../../cli/format';
import {bin} from '../../cli/bin';
import {invalidName} from '../../lib/names';

export default class RedisCreate extends BaseCommand<typeof RedisCreate> {
  static summary = 'Create a managed Redis database';

  static description = `Asks for what the flags do not say: organization, name, primary region, replica regions, plan and eviction. Without a terminal (piped, CI set, or --json) nothing is asked and every missing flag is named at once.
By default waits until the database is ready, then prints its redis:// URL.`;

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --org personal --name my-cache --region mad --no-replicas --plan free',
    '<%= config.bin %> <%= command.id %> -r mad --replica-regions ams,fra --plan 200mb --enable-eviction --json',
  ];

  static flags = {
    org: Flags.string({char: 'o', summary: 'organization slug', env: 'REDFLY_ORG'}),
    name: Flags.string({char: 'n', summary: 'database name (generated when left out)'}),
    region: Flags.string({char: 'r', summary: "primary region code (can't be changed later)", env: 'REDFLY_REGION'}),
    'replica-regions': Flags.string({summary: 'comma-separated region codes for read replicas, e.g. ams,fra'}),
    'no-replicas': Flags.boolean({summary: 'no read replicas (and no question about them)', exclusive: ['replica-regions']}),
    plan: Flags.string({summary: 'plan id, see redfly redis plans'}),
    'enable-eviction': Flags.boolean({summary: 'evict keys when memory is full', exclusive: ['disable-eviction']}),
    'disable-eviction': Flags.boolean({summary: 'refuse writes when memory is full (the default)'}),
    'no-wait': Flags.boolean({summary: 'return at once, while the database is still provisioning'}),
  };

  async run(): Promise<DatabaseJson> {
    const f = this.flags;
    const interactive = this.canPrompt();
    const api = await this.api();
    const [orgs, regions, plans] = await Promise.all([api.listOrgs(), api.listRegions(), api.listPlans()]);

    // Check what the flags say before asking anything, so a typo fails at once.
    if (f.name !== undefined && f.name !== '' && !ask.NAME_RE.test(f.name)) {
      const message = invalidName(f.name);
      throw new UsageError(message[0].toUpperCase() + message.slice(1), 'invalid_name');
    }
    let org = f.org ? validateOrg(f.org, orgs).slug : undefined;
    let primary = f.region ? validatePrimaryRegion(f.region, regions) : undefined;
    let replicas: string[] | undefined = f['no-replicas']
      ? []
      : f['replica-regions'] === undefined
        ? undefined
        : parseRegionList(f['replica-regions']);
    // Codes now (before any prompt); the primary clash again once the primary is known.
    if (replicas) validateReplicaRegions(replicas, primary ?? '', regions);
    let plan: Plan | undefined = f.plan ? validatePlan(f.plan, plans) : undefined;
    let evict: boolean | undefined = f['enable-eviction'] ? true : f['disable-eviction'] ? false : undefined;

    if (!org && orgs.length === 1) {
      org = orgs[0].slug;
      this.note(`Automatically selected organization ${orgs[0].name} (${org})`);
    }

    if (!interactive) {
      // Every missing input at once, and a command to retry with: what was typed, plus the rest.
      const example = orgs.find((o) => o.type === 'personal') ?? orgs[0];
      const missing: [string, string][] = [
        ...(org ? [] : [['--org', `--org ${example?.slug ?? '<org>'}`] as [string, string]]),
        ...(primary ? [] : [['--region', `--region ${regions[0]?.code ?? '<region>'}`] as [string, string]]),
        ...(replicas ? [] : [['--replica-regions (or --no-replicas)', '--no-replicas'] as [string, string]]),
        ...(plan ? [] : [['--plan', `--plan ${plans[0]?.id ?? '<plan>'}`] as [string, string]]),
      ];
      if (missing.length) {
        throw missingFlagsError(
          missing.map(([flag]) => flag),
          this.retryWith(missing.map(([, add]) => add)),
        );
      }
    }

    org ??= await ask.askOrg(orgs);
    let name = f.name || undefined;
    if (f.name === undefined && interactive) name = (await ask.askName()).trim() || undefined;
    if (!primary) {
      const {readState} = await import('../../cli/state');
      primary = await ask.askPrimaryRegion(regions, readState().lastRegion);
    }
    if (replicas) validateReplicaRegions(replicas, primary, regions);
    replicas ??= await ask.askReplicaRegions(regions, primary);
    plan ??= validatePlan(await ask.askPlan(plans), plans);
    evict ??= interactive ? await ask.askEviction(false) : false;

    const created = await api.createDatabase({
      org,
      ...(name ? {name} : {}),
      primaryRegion: primary,
      readRegions: replicas,
      plan: plan.id,
      eviction: evict,
    });
    const {rememberRegion} = await import('../../cli/state');
    rememberRegion(primary);

    let db: Database = created;
    if (!f['no-wait'] && created.status !== 'ready') {
      db = await withSpinner(`Provisioning ${created.name}`, !this.jsonEnabled(), 'ready', () =>
        api.waitUntilReady(created.id),
      );
    }

    this.log(
      `Database ${db.name} (${db.id}) is ${db.status} in ${db.primaryRegion}` +
        (db.readRegions.length ? ` with replicas in ${regionsList(db.readRegions)}` : '') +
        '.',
    );
    this.log(`URL: ${db.privateUrl}`);
    this.log(`Connect: ${bin()} redis connect ${db.name}  (or redis-cli -u <URL>)`);
    if (db.restUrl) {
      this.log(`REST URL: ${db.restUrl}`);
      this.log(`REST token: ${db.restToken}`);
      this.log(`Read-only REST token: ${db.readOnlyRestToken}`);
    }
    const regionsCount = 1 + db.readRegions.length;
    this.log(
      `Plan: ${plan.displayName} (${plan.id})` +
        (plan.pricePerMonthPerRegionUsd > 0 ? `, ${price(plan)}` : '') +
        (plan.pricePerMonthPerRegionUsd > 0 && regionsCount > 1
          ? `: $${plan.pricePerMonthPerRegionUsd * regionsCount}/month for ${regionsCount} regions`
          : ''),
    );
    return withEndpoints(db);
  }
}
