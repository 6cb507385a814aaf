// What a token may do with databases: read them, and accept changes that convergence then
// carries out in the background. The rules are in rules.ts, idempotency in idempotency.ts, the
// wire shape in wire.ts and the work on processes in convergence.ts.
import type {FastifyBaseLogger} from 'fastify';
import type {ProcessHealth, Provisioner} from '../../provision/types';
import {DatabaseRecord, NameTakenError, Store, TokenRecord} from '../../store';
import type {Catalogue} from '../catalogue';
import {ApiError, errMessage, notFound} from '../errors';
import {generatedName, newDatabaseId, newPassword, newReadOnlyRestToken, newRestToken} from '../ids';
import type {Lanes} from '../../lib/lanes';
import type {CreateDatabaseRequest, Database, UpdateDatabaseRequest} from '../schemas';
import {Convergence} from './convergence';
import {ProcessEvents} from './events';
import {replayed, requestSha256} from './idempotency';
import {ambiguousName, checkNotDeleting, checkPlan, checkReadRegions, checkRegion, checkUpdatable, nameTaken, sameSet, withPorts} from './rules';
import {RestUrlOf, toWire, TlsOf, UrlOf} from './wire';
import {OrgQuotas, quotasFromEnv} from '../quotas';

export interface DatabaseServiceOptions {
  store: Store;
  provisioner: Provisioner;
  catalogue: Catalogue;
  log: FastifyBaseLogger;
  /** The gateway's URL of a database in a region (the processes themselves admit no client). */
  url: UrlOf;
  /** How clients verify the gateway's TLS certificate (null without TLS). */
  tls?: TlsOf;
  /** The REST API's URL in a region (src/rest); without it the wire shape has no REST fields. */
  restUrl?: RestUrlOf;
  /** See ConvergenceOptions.runsHere. */
  runsHere?: (rec: DatabaseRecord) => boolean;
}

export interface CreateResult {
  db: DatabaseRecord;
  replayed: boolean;
}

/** What a token may do with databases: validation, records, and driving the provisioner. */
export class DatabaseService {
  private readonly store: Store;
  private readonly provisioner: Provisioner;
  private readonly catalogue: Catalogue;
  private readonly log: FastifyBaseLogger;
  private readonly url: UrlOf;
  private readonly tls: TlsOf;
  private readonly restUrl: RestUrlOf | undefined;
  readonly convergence: Convergence;
  /** Per-organization quotas on databases (src/control/quotas.ts). */
  readonly quotas = new OrgQuotas(quotasFromEnv());
  /** Recent supervision events per database (the dashboard shows them). */
  readonly events = new ProcessEvents();

  constructor(opts: DatabaseServiceOptions) {
    this.store = opts.store;
    this.provisioner = opts.provisioner;
    this.catalogue = opts.catalogue;
    this.log = opts.log;
    this.url = opts.url;
    this.tls = opts.tls ?? (() => null);
    this.restUrl = opts.restUrl;
    this.convergence = new Convergence(opts);
  }

  /** The per-database job queues (shutdown waits for them to drain). */
  get lanes(): Lanes {
    return this.convergence.lanes;
  }

  // ---- reads

  /**
   * The database an id or a name designates among the token's organizations (or only `org`'s).
   * An id wins over a name. 404 when there is none (another organization's database answers
   * exactly like a missing one), 409 ambiguous_name when the name is used in more than one.
   */
  async resolve(token: TokenRecord, idOrName: string, org?: string): Promise<DatabaseRecord> {
    const orgs = this.visibleOrgs(token, org);
    const byId = await this.store.getDatabase(idOrName);
    if (byId && orgs.includes(byId.org)) return byId;
    const named = await this.store.findDatabasesByName(idOrName, orgs);
    if (named.length > 1) throw ambiguousName(idOrName, named.map((r) => r.org));
    if (named.length === 0) throw notFound(org === undefined ? `database ${idOrName}` : `database ${idOrName} in organization ${org}`);
    return named[0];
  }

  visibleOrgs(token: TokenRecord, org?: string): string[] {
    if (org === undefined) return token.orgs;
    if (!token.orgs.includes(org)) throw notFound(`organization ${org}`);
    return [org];
  }

  toWire(rec: DatabaseRecord): Database {
    // Right after a server start the API answers before every database is back: those still
    // starting show it, whatever their record said before the restart.
    if (this.convergence.returning.has(rec.id) && rec.status === 'ready') {
      rec = {...rec, status: 'provisioning', statusMessage: 'starting after a server start'};
    }
    return toWire(rec, this.url, this.convergence.health(rec.id), this.tls, this.restUrl);
  }

  // ---- changes

  async create(token: TokenRecord, body: CreateDatabaseRequest, idempotencyKey?: string): Promise<CreateResult> {
    const bodySha256 = idempotencyKey ? requestSha256(body) : '';
    if (idempotencyKey) {
      const earlier = await replayed(this.store, token, idempotencyKey, bodySha256);
      if (earlier) return {db: earlier, replayed: true};
    }
    const orgs = this.visibleOrgs(token, body.org);
    const plan = checkPlan(this.catalogue, body.plan);
    this.quotas.admitCreate(orgs[0], await this.store.countDatabases([orgs[0]]));
    checkRegion(this.catalogue, body.primaryRegion, 'primary region');
    const readRegions = checkReadRegions(this.catalogue, body.readRegions ?? [], body.primaryRegion);
    // The name's pattern is checked by the request schema.
    let name = body.name;
    if (name !== undefined) {
      if (await this.store.nameExists(orgs[0], name)) {
        // The same key's request on another node may have made it since the check above.
        const earlier = idempotencyKey ? await replayed(this.store, token, idempotencyKey, bodySha256) : undefined;
        if (earlier) return {db: earlier, replayed: true};
        throw nameTaken(name, orgs[0]);
      }
    } else {
      name = await this.freeGeneratedName(orgs[0]);
    }
    const now = new Date().toISOString();
    const rec: DatabaseRecord = {
      id: newDatabaseId(),
      name,
      org: orgs[0],
      plan: plan.id,
      primaryRegion: body.primaryRegion,
      readRegions,
      eviction: body.eviction ?? false,
      status: 'provisioning',
      statusMessage: null,
      password: newPassword(),
      restToken: newRestToken(),
      readOnlyRestToken: newReadOnlyRestToken(),
      processes: withPorts(body.primaryRegion, readRegions, []),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.store.insertDatabase(rec, idempotencyKey ? {key: idempotencyKey, tokenId: token.id, requestSha256: bodySha256} : undefined);
    } catch (err) {
      // A concurrent request with the same key (on this node or another) won the race: answer
      // like a retry. Checked before the name: both requests may name the same database.
      const earlier = idempotencyKey ? await replayed(this.store, token, idempotencyKey, bodySha256) : undefined;
      if (earlier) return {db: earlier, replayed: true};
      if (err instanceof NameTakenError) throw nameTaken(rec.name, rec.org);
      throw err;
    }
    this.log.info({databaseId: rec.id, name: rec.name, org: rec.org}, 'database created');
    this.convergence.queueConverge(rec.id);
    return {db: rec, replayed: false};
  }

  async update(token: TokenRecord, idOrName: string, body: UpdateDatabaseRequest, org?: string): Promise<DatabaseRecord> {
    const rec = await this.resolve(token, idOrName, org);
    checkUpdatable(rec, body);
    const plan = body.plan !== undefined ? checkPlan(this.catalogue, body.plan).id : rec.plan;
    const readRegions =
      body.readRegions !== undefined ? checkReadRegions(this.catalogue, body.readRegions, rec.primaryRegion) : rec.readRegions;
    const eviction = body.eviction ?? rec.eviction;
    const regionsChanged = !sameSet(readRegions, rec.readRegions);
    const limitsChanged = plan !== rec.plan || eviction !== rec.eviction;
    if (!regionsChanged && !limitsChanged && rec.status !== 'failed') return rec;

    if (!regionsChanged && rec.status === 'ready') {
      // Limits apply live on running processes: answer when they are in force, and record them
      // only then, so that a refused change leaves the database as it was.
      await this.lanes.run(rec.id, () => this.convergence.applyLimits(rec.id, {plan, eviction}));
      return (await this.store.getDatabase(rec.id)) ?? rec;
    }
    const processes = regionsChanged ? withPorts(rec.primaryRegion, readRegions, rec.processes) : rec.processes;
    const updated = await this.store.updateDatabase(rec.id, {
      plan,
      eviction,
      readRegions,
      processes,
      status: 'updating',
      statusMessage: null,
    });
    if (!updated) throw notFound(`database ${idOrName}`); // deleted meanwhile
    this.log.info({databaseId: rec.id, readRegions, plan, eviction}, 'database update accepted');
    this.convergence.queueConverge(rec.id, limitsChanged);
    return updated;
  }

  async remove(token: TokenRecord, idOrName: string, org?: string): Promise<DatabaseRecord> {
    const rec = await this.resolve(token, idOrName, org);
    if (rec.status === 'deleting') return rec;
    const updated = await this.store.updateDatabase(rec.id, {status: 'deleting', statusMessage: null});
    if (!updated) throw notFound(`database ${idOrName}`); // deleted meanwhile
    this.log.info({databaseId: rec.id}, 'database delete accepted');
    this.convergence.queueDestroy(rec.id);
    return updated;
  }

  async resetPassword(token: TokenRecord, idOrName: string, org?: string): Promise<DatabaseRecord> {
    const rec = await this.resolve(token, idOrName, org);
    checkNotDeleting(rec);
    const password = newPassword();
    // The REST tokens go with the password, as on the hosted service (reset-password).
    await this.store.updateDatabase(rec.id, {password, restToken: newRestToken(), readOnlyRestToken: newReadOnlyRestToken()});
    await this.lanes.run(rec.id, async () => {
      const current = await this.store.getDatabase(rec.id);
      // Not running (failed, or still to be provisioned): the next ensure() starts it with the new one.
      if (!current || current.status === 'failed') return;
      try {
        await this.provisioner.setPassword(rec.id, password);
      } catch (err) {
        this.log.error({databaseId: rec.id, err: errMessage(err)}, 'password reset failed');
        throw new ApiError(503, 'redis_unavailable', `could not apply the new password: ${errMessage(err)}`);
      }
    });
    this.log.info({databaseId: rec.id}, 'database password reset');
    const after = await this.store.getDatabase(rec.id);
    if (!after) throw notFound(`database ${idOrName}`); // deleted meanwhile
    return after;
  }

  /** Supervision's events (see Convergence.onProcessEvent). */
  onProcessEvent(databaseId: string, health: ProcessHealth, message: string): void {
    this.events.record(databaseId, health, message);
    this.convergence
      .onProcessEvent(databaseId, health, message)
      .catch((err) => this.log.error({databaseId, err: errMessage(err)}, 'recording a process event failed'));
  }

  /** Server start (see Convergence.reconcile). */
  reconcile(): Promise<void> {
    return this.convergence.reconcile();
  }

  private async freeGeneratedName(org: string): Promise<string> {
    for (let i = 0; i < 50; i++) {
      const name = generatedName();
      if (!(await this.store.nameExists(org, name))) return name;
    }
    throw new ApiError(500, 'internal', 'could not generate a free database name; pass one with "name"');
  }
}
