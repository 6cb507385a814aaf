import type {FastifyBaseLogger} from 'fastify';
import type {Database as WireDatabase, ProcessInfo} from '../api/types';
import type {DesiredDatabase, ProcessHealth, ProcessSpec, Provisioner} from '../provision/types';
import {DatabaseRecord, NameTakenError, ProcessRecord, Store, TokenRecord} from '../store';
import type {Catalogue} from './catalogue';
import type {DataPlane} from './dataplane';
import {ApiError, badRequest, notFound} from './errors';
import {generatedName, newDatabaseId, newPassword, sha256} from './ids';
import {Lanes} from './lanes';
import {NAME_PATTERN, NAME_RULES} from './schemas';
import type {CreateDatabaseRequest, UpdateDatabaseRequest} from './schemas';

// The schema's pattern, so that checkName() and request validation cannot disagree.
const NAME_RE = new RegExp(NAME_PATTERN);

export interface DatabaseServiceOptions {
  store: Store;
  provisioner: Provisioner;
  catalogue: Catalogue;
  log: FastifyBaseLogger;
  /** The gateway: URLs name its endpoints (the processes themselves admit no client). */
  dataPlane: DataPlane;
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
  private readonly dataPlane: DataPlane;
  readonly lanes = new Lanes();
  /** converge() jobs queued per database: only the last one may declare the database ready. */
  private readonly converges = new Map<string, number>();

  constructor(opts: DatabaseServiceOptions) {
    this.store = opts.store;
    this.provisioner = opts.provisioner;
    this.catalogue = opts.catalogue;
    this.log = opts.log;
    this.dataPlane = opts.dataPlane;
  }

  // ---- reads

  resolve(token: TokenRecord, idOrName: string): DatabaseRecord {
    const rec = this.store.getDatabase(idOrName) ?? this.store.getDatabaseByName(idOrName);
    // Another organization's database answers exactly like a missing one.
    if (!rec || !token.orgs.includes(rec.org)) throw notFound(`database ${idOrName}`);
    return rec;
  }

  visibleOrgs(token: TokenRecord, org?: string): string[] {
    if (org === undefined) return token.orgs;
    if (!token.orgs.includes(org)) throw notFound(`organization ${org}`);
    return [org];
  }

  toWire(rec: DatabaseRecord): WireDatabase {
    return {
      id: rec.id,
      name: rec.name,
      org: rec.org,
      plan: rec.plan,
      primaryRegion: rec.primaryRegion,
      readRegions: rec.readRegions,
      eviction: rec.eviction,
      status: rec.status,
      statusMessage: rec.statusMessage,
      ...this.urls(rec),
      processes: this.processInfo(rec),
      createdAt: rec.createdAt,
      updatedAt: rec.updatedAt,
    };
  }

  /** The primary region's URL, and one per region the database is in (primary first). */
  private urls(rec: DatabaseRecord): Pick<WireDatabase, 'privateUrl' | 'endpoints'> {
    const endpoints: Record<string, string> = {};
    for (const region of [rec.primaryRegion, ...rec.readRegions]) endpoints[region] = this.dataPlane.url(rec, region);
    return {privateUrl: endpoints[rec.primaryRegion], endpoints};
  }

  private processInfo(rec: DatabaseRecord): ProcessInfo[] {
    const health = safeHealth(this.provisioner, rec.id);
    const transitional = rec.status === 'provisioning' || rec.status === 'updating';
    return rec.processes.map((p) => {
      const h = health.find((x) => x.region === p.region && x.role === p.role);
      return {
        region: p.region,
        role: p.role,
        port: h?.port ?? p.port,
        state: h?.state ?? (transitional ? 'starting' : 'stopped'),
        restarts: h?.restarts ?? 0,
        lastExit: h?.lastExit ?? null,
      };
    });
  }

  // ---- changes

  async create(token: TokenRecord, body: CreateDatabaseRequest, idempotencyKey?: string): Promise<CreateResult> {
    const requestSha256 = idempotencyKey ? sha256(canonicalJson(body)) : '';
    if (idempotencyKey) {
      const earlier = this.replay(token, idempotencyKey, requestSha256);
      if (earlier) return {db: earlier, replayed: true};
    }
    const orgs = this.visibleOrgs(token, body.org);
    const plan = this.checkPlan(body.plan);
    this.checkRegion(body.primaryRegion, 'primary region');
    const readRegions = this.checkReadRegions(body.readRegions ?? [], body.primaryRegion);
    let name = body.name;
    if (name !== undefined) {
      checkName(name);
      if (this.store.nameExists(name)) throw nameTaken(name);
    } else {
      name = this.freeGeneratedName();
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
      processes: withPorts(body.primaryRegion, readRegions, []),
      createdAt: now,
      updatedAt: now,
    };
    try {
      this.store.insertDatabase(
        rec,
        idempotencyKey ? {key: idempotencyKey, tokenId: token.id, requestSha256} : undefined,
      );
    } catch (err) {
      if (err instanceof NameTakenError) throw nameTaken(rec.name);
      // A concurrent request with the same key won the race: answer like a retry.
      const earlier = idempotencyKey ? this.replay(token, idempotencyKey, requestSha256) : undefined;
      if (earlier) return {db: earlier, replayed: true};
      throw err;
    }
    this.log.info({databaseId: rec.id, name: rec.name, org: rec.org}, 'database created');
    this.queueConverge(rec.id);
    return {db: rec, replayed: false};
  }

  async update(token: TokenRecord, idOrName: string, body: UpdateDatabaseRequest): Promise<DatabaseRecord> {
    const rec = this.resolve(token, idOrName);
    if (body.name !== undefined && body.name !== rec.name) {
      throw new ApiError(422, 'immutable_field', 'the name of a database cannot be changed');
    }
    if (body.primaryRegion !== undefined && body.primaryRegion !== rec.primaryRegion) {
      throw new ApiError(
        422,
        'immutable_field',
        `the primary region of a database cannot be changed (it is ${rec.primaryRegion}); create a new database in ${body.primaryRegion} instead`,
      );
    }
    if (rec.status === 'deleting') throw new ApiError(422, 'invalid_change', `database ${rec.name} is being deleted`);
    const plan = body.plan !== undefined ? this.checkPlan(body.plan).id : rec.plan;
    const readRegions =
      body.readRegions !== undefined ? this.checkReadRegions(body.readRegions, rec.primaryRegion) : rec.readRegions;
    const eviction = body.eviction ?? rec.eviction;
    const regionsChanged = !sameSet(readRegions, rec.readRegions);
    const limitsChanged = plan !== rec.plan || eviction !== rec.eviction;
    if (!regionsChanged && !limitsChanged && rec.status !== 'failed') return rec;

    if (!regionsChanged && rec.status === 'ready') {
      // Limits apply live on running processes: answer when they are in force, and record them
      // only then, so that a refused change leaves the database as it was.
      await this.lanes.run(rec.id, () => this.applyLimits(rec.id, {plan, eviction}));
      return this.store.getDatabase(rec.id) ?? rec;
    }
    const processes = regionsChanged
      ? withPorts(rec.primaryRegion, readRegions, rec.processes)
      : rec.processes;
    const updated = this.store.updateDatabase(rec.id, {
      plan,
      eviction,
      readRegions,
      processes,
      status: 'updating',
      statusMessage: null,
    })!;
    this.log.info({databaseId: rec.id, readRegions, plan, eviction}, 'database update accepted');
    this.queueConverge(rec.id, limitsChanged);
    return updated;
  }

  remove(token: TokenRecord, idOrName: string): DatabaseRecord {
    const rec = this.resolve(token, idOrName);
    if (rec.status === 'deleting') return rec;
    const updated = this.store.updateDatabase(rec.id, {status: 'deleting', statusMessage: null})!;
    this.log.info({databaseId: rec.id}, 'database delete accepted');
    void this.lanes.run(rec.id, () => this.destroy(rec.id));
    return updated;
  }

  async resetPassword(token: TokenRecord, idOrName: string): Promise<DatabaseRecord> {
    const rec = this.resolve(token, idOrName);
    if (rec.status === 'deleting') throw new ApiError(422, 'invalid_change', `database ${rec.name} is being deleted`);
    const password = newPassword();
    this.store.updateDatabase(rec.id, {password});
    await this.lanes.run(rec.id, async () => {
      const current = this.store.getDatabase(rec.id);
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
    return this.store.getDatabase(rec.id)!;
  }

  /** Supervision told us something happened to a process: show it on the record. */
  onProcessEvent(databaseId: string, health: ProcessHealth, message: string): void {
    const rec = this.store.getDatabase(databaseId);
    if (!rec || rec.status === 'deleting') return;
    this.log.info({databaseId, region: health.region, role: health.role, state: health.state}, message);
    // A restarted process may have had to move to another port: the URL must follow it.
    const known = rec.processes.find((p) => p.region === health.region);
    if (known && health.port && known.port !== health.port) {
      this.store.updateDatabase(databaseId, {
        processes: rec.processes.map((p) => (p.region === health.region ? {...p, port: health.port} : p)),
      });
    }
    if (health.state === 'failed') {
      this.store.updateDatabase(databaseId, {status: 'failed', statusMessage: message});
    } else if (health.state === 'running' && rec.status === 'failed' && this.lanes.queued(databaseId) === 0) {
      this.store.updateDatabase(databaseId, {status: 'ready', statusMessage: message});
    } else {
      this.store.updateDatabase(databaseId, {statusMessage: message});
    }
  }

  /** Server start: every record gets its processes back, leftovers are stopped, unfinished
   *  deletions are finished. */
  async reconcile(): Promise<void> {
    const all = this.store.allDatabases();
    const keep = all.filter((r) => r.status !== 'deleting');
    try {
      await this.provisioner.reconcile(keep.map((r) => this.desired(r)));
    } catch (err) {
      // Partial failure: the databases that did come back are still worth serving.
      this.log.error({err: errMessage(err)}, 'reconcile incomplete');
    }
    for (const rec of keep) {
      const health = safeHealth(this.provisioner, rec.id);
      // A record cut short before its first ready has port 0: learn the ports the processes got.
      const wanted = this.desired(rec).processes;
      if (health.length > 0 && (wanted.length !== rec.processes.length || wanted.some((p) => p.port === 0))) {
        this.store.updateDatabase(rec.id, {
          processes: wanted.map((p) => ({...p, port: health.find((h) => h.region === p.region)?.port ?? p.port})),
        });
      }
      const bad = health.filter((h) => h.state === 'failed' || h.state === 'stopped');
      if (health.length > 0 && bad.length === 0) {
        if (rec.status !== 'ready') this.store.updateDatabase(rec.id, {status: 'ready', statusMessage: null});
        // An update interrupted by the restart may have left limits unapplied.
        if (rec.status === 'updating') await this.applyLimits(rec.id).catch(() => undefined);
      } else {
        const what = bad.map((h) => `${h.role} in ${h.region}`).join(', ') || 'processes';
        this.store.updateDatabase(rec.id, {status: 'failed', statusMessage: `could not start ${what} on server start`});
      }
    }
    for (const rec of all.filter((r) => r.status === 'deleting')) {
      void this.lanes.run(rec.id, () => this.destroy(rec.id));
    }
    this.log.info({databases: keep.length}, 'reconciled');
  }

  // ---- internals

  desired(rec: DatabaseRecord): DesiredDatabase {
    const plan = this.catalogue.plan(rec.plan);
    return {
      id: rec.id,
      password: rec.password,
      // a plan removed from the operator's catalogue keeps the database running at its last size
      maxmemoryBytes: plan?.maxDataSizeBytes ?? 0,
      eviction: rec.eviction,
      // From the wanted regions, not the process rows: rows written by an earlier ensure() that
      // finished after this change was accepted may still list the old set.
      processes: withPorts(rec.primaryRegion, rec.readRegions, rec.processes).map(
        (p): ProcessSpec => ({region: p.region, role: p.role, port: p.port}),
      ),
    };
  }

  private queueConverge(id: string, applyLimits = false): void {
    this.converges.set(id, (this.converges.get(id) ?? 0) + 1);
    void this.lanes
      .run(id, () => this.converge(id, applyLimits))
      .finally(() => {
        const left = (this.converges.get(id) ?? 1) - 1;
        if (left > 0) this.converges.set(id, left);
        else this.converges.delete(id);
      });
  }

  private async converge(id: string, applyLimits = false): Promise<void> {
    const rec = this.store.getDatabase(id);
    if (!rec || rec.status === 'deleting') return;
    const started = Date.now();
    try {
      const specs = await this.provisioner.ensure(this.desired(rec));
      if (applyLimits) await this.provisioner.setLimits(id, this.desired(rec).maxmemoryBytes, rec.eviction);
      // Another change queued behind this one keeps the record in "updating"; a delete accepted
      // meanwhile keeps it "deleting".
      const settled = (this.converges.get(id) ?? 1) <= 1 && this.store.getDatabase(id)?.status !== 'deleting';
      this.store.updateDatabase(id, {
        processes: specs.map((s) => ({region: s.region, role: s.role, port: s.port})),
        ...(settled ? {status: 'ready', statusMessage: null} : {}),
      });
      this.log.info({databaseId: id, ms: Date.now() - started}, 'database ready');
    } catch (err) {
      if ((err as {code?: string}).code === 'process_stopped') {
        // The server is shutting down: the record stays as it is and the next start finishes it.
        this.log.info({databaseId: id}, 'provisioning interrupted by shutdown');
        return;
      }
      this.log.error({databaseId: id, err: errMessage(err)}, 'provisioning failed');
      if (this.store.getDatabase(id)?.status === 'deleting') return;
      this.store.updateDatabase(id, {status: 'failed', statusMessage: `provisioning failed: ${errMessage(err)}`});
    }
  }

  /** Applies `change` (default: the record's own limits) to the running processes, then writes
   *  it to the record. On failure the record keeps its old plan and eviction, and the processes
   *  are put back to them as far as they answer. */
  private async applyLimits(id: string, change?: Pick<DatabaseRecord, 'plan' | 'eviction'>): Promise<void> {
    const rec = this.store.getDatabase(id);
    if (!rec) return;
    const next = {plan: change?.plan ?? rec.plan, eviction: change?.eviction ?? rec.eviction};
    try {
      await this.provisioner.setLimits(id, this.desired({...rec, ...next}).maxmemoryBytes, next.eviction);
    } catch (err) {
      this.log.error({databaseId: id, err: errMessage(err)}, 'applying limits failed');
      // Some processes may have taken the new limits, and the provisioner now holds them for its
      // restarts: both must follow the record, which still says the old ones.
      await this.provisioner
        .setLimits(id, this.desired(rec).maxmemoryBytes, rec.eviction)
        .catch((again) => this.log.error({databaseId: id, err: errMessage(again)}, 'restoring the old limits failed'));
      throw new ApiError(503, 'redis_unavailable', `could not apply the new limits: ${errMessage(err)}`);
    }
    if (next.plan !== rec.plan || next.eviction !== rec.eviction) this.store.updateDatabase(id, next);
  }

  private async destroy(id: string): Promise<void> {
    try {
      await this.provisioner.destroy(id);
      this.store.deleteDatabase(id);
      this.log.info({databaseId: id}, 'database deleted');
    } catch (err) {
      this.log.error({databaseId: id, err: errMessage(err)}, 'delete failed');
      this.store.updateDatabase(id, {status: 'failed', statusMessage: `delete failed: ${errMessage(err)}`});
    }
  }

  private replay(token: TokenRecord, key: string, requestSha256: string): DatabaseRecord | undefined {
    const hit = this.store.findIdempotency(key, token.id);
    if (!hit) return undefined;
    if (hit.requestSha256 !== requestSha256) {
      throw new ApiError(
        422,
        'idempotency_mismatch',
        `Idempotency-Key ${key} was already used with a different request body`,
      );
    }
    return this.store.getDatabase(hit.databaseId);
  }

  private checkPlan(id: string) {
    const plan = this.catalogue.plan(id);
    if (!plan) {
      throw badRequest(
        `unknown plan "${id}"; valid plans: ${this.catalogue.plans.map((p) => p.id).join(', ')}`,
        'unknown_plan',
      );
    }
    return plan;
  }

  private checkRegion(code: string, what: string): void {
    if (!this.catalogue.region(code)) {
      throw badRequest(
        `unknown ${what} "${code}"; valid region codes: ${this.catalogue.regions.map((r) => r.code).join(', ')}`,
        'unknown_region',
      );
    }
  }

  private checkReadRegions(regions: string[], primary: string): string[] {
    const unknown = regions.filter((r) => !this.catalogue.region(r));
    if (unknown.length > 0) {
      throw badRequest(
        `unknown read region${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; valid region codes: ${this.catalogue.regions.map((r) => r.code).join(', ')}`,
        'unknown_region',
      );
    }
    if (regions.includes(primary)) {
      throw badRequest(`read region ${primary} is the primary region; a read region must differ from it`);
    }
    const dup = regions.find((r, i) => regions.indexOf(r) !== i);
    if (dup) throw badRequest(`read region ${dup} is listed twice`);
    return regions;
  }

  private freeGeneratedName(): string {
    for (let i = 0; i < 50; i++) {
      const name = generatedName();
      if (!this.store.nameExists(name)) return name;
    }
    throw new ApiError(500, 'internal', 'could not generate a free database name; pass one with "name"');
  }
}

/** The processes a database should have; a new one gets port 0 so that the provisioner picks it
 *  (and may move it if it is taken at start). The private URL is final once the record is ready. */
function withPorts(primary: string, readRegions: string[], existing: ProcessRecord[]): ProcessRecord[] {
  const wanted: Array<Pick<ProcessRecord, 'region' | 'role'>> = [
    {region: primary, role: 'primary'},
    ...readRegions.map((region) => ({region, role: 'replica' as const})),
  ];
  return wanted.map((w) => ({
    ...w,
    port: existing.find((p) => p.region === w.region && p.role === w.role)?.port ?? 0,
  }));
}

export function checkName(name: string): void {
  if (!NAME_RE.test(name)) throw badRequest(`invalid name "${name}": use ${NAME_RULES}`, 'invalid_name');
}

function nameTaken(name: string): ApiError {
  return new ApiError(409, 'name_taken', `a database named ${name} already exists; choose another name`);
}

function safeHealth(p: Provisioner, id: string): ProcessHealth[] {
  try {
    return p.health(id);
  } catch {
    return [];
  }
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
