// Convergence: making the processes match the records, one database at a time (its lane).
// converge() after a create or an update, applyLimits() for a live plan or eviction change,
// destroy() after a delete, reconcile() at server start, and onProcessEvent() when supervision
// restarts or gives up on a process. The record's status says where a database stands:
// provisioning/updating -> ready, or failed with a statusMessage; deleting -> gone.
import type {FastifyBaseLogger} from 'fastify';
import type {ProcessHealth, Provisioner} from '../../provision/types';
import type {DatabaseRecord, Store} from '../../store';
import type {Catalogue} from '../catalogue';
import {ApiError, errMessage} from '../errors';
import {Lanes} from '../../lib/lanes';
import {desired} from './rules';

export interface ConvergenceOptions {
  store: Store;
  provisioner: Provisioner;
  catalogue: Catalogue;
  log: FastifyBaseLogger;
  /** Whether this node runs the database's processes (default: every record). With several
   *  control nodes on one store, each brings back at start only the databases it made. */
  runsHere?: (rec: DatabaseRecord) => boolean;
}

export class Convergence {
  /** One queue per database: its jobs run one after the other. */
  readonly lanes = new Lanes();
  /** converge() jobs queued per database: only the last one may declare the database ready. */
  private readonly converges = new Map<string, number>();
  private readonly store: Store;
  private readonly provisioner: Provisioner;
  private readonly catalogue: Catalogue;
  private readonly log: FastifyBaseLogger;
  private readonly runsHere: (rec: DatabaseRecord) => boolean;

  constructor(opts: ConvergenceOptions) {
    this.runsHere = opts.runsHere ?? (() => true);
    this.store = opts.store;
    this.provisioner = opts.provisioner;
    this.catalogue = opts.catalogue;
    this.log = opts.log;
  }

  /** The processes' health, empty when the provisioner cannot say. */
  health(id: string): ProcessHealth[] {
    try {
      return this.provisioner.health(id);
    } catch {
      return [];
    }
  }

  /** Queues a converge() of the database (and a setLimits when `applyLimits`). */
  queueConverge(id: string, applyLimits = false): void {
    this.converges.set(id, (this.converges.get(id) ?? 0) + 1);
    void this.lanes
      .run(id, () => this.converge(id, applyLimits))
      .finally(() => {
        const left = (this.converges.get(id) ?? 1) - 1;
        if (left > 0) this.converges.set(id, left);
        else this.converges.delete(id);
      });
  }

  /** Queues the removal of the database's processes, data and record. */
  queueDestroy(id: string): void {
    void this.lanes.run(id, () => this.destroy(id));
  }

  /** Supervision told us something happened to a process: show it on the record. */
  async onProcessEvent(databaseId: string, health: ProcessHealth, message: string): Promise<void> {
    const rec = await this.store.getDatabase(databaseId);
    if (!rec || rec.status === 'deleting') return;
    this.log.info({databaseId, region: health.region, role: health.role, state: health.state}, message);
    // A restarted process may have had to move to another port: the URL must follow it.
    const known = rec.processes.find((p) => p.region === health.region);
    if (known && health.port && known.port !== health.port) {
      await this.store.updateDatabase(databaseId, {
        processes: rec.processes.map((p) => (p.region === health.region ? {...p, port: health.port} : p)),
      });
    }
    if (health.state === 'failed') {
      await this.store.updateDatabase(databaseId, {status: 'failed', statusMessage: message});
    } else if (health.state === 'running' && rec.status === 'failed' && this.lanes.queued(databaseId) === 0) {
      await this.store.updateDatabase(databaseId, {status: 'ready', statusMessage: message});
    } else {
      await this.store.updateDatabase(databaseId, {statusMessage: message});
    }
  }

  /** Databases the reconcile on server start has not brought back yet (the API answers
   *  meanwhile and shows them as coming back, see DatabaseService.toWire). */
  readonly returning = new Set<string>();

  /** Server start: every record gets its processes back (those that survived the previous run
   *  are adopted), leftovers are stopped, unfinished deletions are finished. Each record is
   *  settled as soon as its database is back, while the others still start. */
  async reconcile(): Promise<void> {
    const all = (await this.store.allDatabases()).filter((r) => this.runsHere(r));
    const keep = all.filter((r) => r.status !== 'deleting');
    for (const rec of keep) this.returning.add(rec.id);
    const byId = new Map(keep.map((r) => [r.id, r]));
    const settle = (id: string): void => {
      const rec = byId.get(id);
      this.returning.delete(id);
      if (rec) void this.settleAfterStart(rec).catch((err) => this.log.error({databaseId: id, err: errMessage(err)}, 'settling after start failed'));
    };
    try {
      await this.provisioner.reconcile(
        keep.map((r) => desired(this.catalogue, r)),
        (id) => settle(id),
      );
    } catch (err) {
      // Partial failure: the databases that did come back are still worth serving.
      this.log.error({err: errMessage(err)}, 'reconcile incomplete');
    }
    // Whatever reconcile did not report on (it failed before reaching them).
    for (const id of [...this.returning]) settle(id);
    for (const rec of all.filter((r) => r.status === 'deleting')) this.queueDestroy(rec.id);
    this.log.info({databases: keep.length}, 'reconciled');
  }

  /** The record of a database reconcile() has just brought back (or failed to) follows what runs;
   *  unless a request changed its status meanwhile, which then owns it. */
  private async settleAfterStart(rec: DatabaseRecord): Promise<void> {
    const now = await this.store.getDatabase(rec.id);
    if (!now || now.status !== rec.status) return;
    const health = this.health(rec.id);
    // A record cut short before its first ready has port 0: learn the ports the processes got.
    const wanted = desired(this.catalogue, rec).processes;
    if (health.length > 0 && (wanted.length !== rec.processes.length || wanted.some((p) => p.port === 0))) {
      await this.store.updateDatabase(rec.id, {
        processes: wanted.map((p) => ({...p, port: health.find((h) => h.region === p.region)?.port ?? p.port})),
      });
    }
    const bad = health.filter((h) => h.state === 'failed' || h.state === 'stopped');
    if (health.length > 0 && bad.length === 0) {
      if (rec.status !== 'ready') await this.store.updateDatabase(rec.id, {status: 'ready', statusMessage: null});
      // An update interrupted by the restart may have left limits unapplied.
      if (rec.status === 'updating') await this.applyLimits(rec.id).catch(() => undefined);
    } else {
      const what = bad.map((h) => `${h.role} in ${h.region}`).join(', ') || 'processes';
      await this.store.updateDatabase(rec.id, {status: 'failed', statusMessage: `could not start ${what} on server start`});
    }
  }

  private async converge(id: string, applyLimits = false): Promise<void> {
    const rec = await this.store.getDatabase(id);
    if (!rec || rec.status === 'deleting') return;
    const started = Date.now();
    try {
      const specs = await this.provisioner.ensure(desired(this.catalogue, rec));
      if (applyLimits) await this.provisioner.setLimits(id, desired(this.catalogue, rec).maxmemoryBytes, rec.eviction);
      // Another change queued behind this one keeps the record in "updating"; a delete accepted
      // meanwhile keeps it "deleting".
      const settled = (this.converges.get(id) ?? 1) <= 1 && (await this.store.getDatabase(id))?.status !== 'deleting';
      await this.store.updateDatabase(id, {
        // host: where a region host reported the copy (server start --role); absent on one host
        processes: specs.map((s) => ({region: s.region, role: s.role, port: s.port, ...(s.host ? {host: s.host} : {})})),
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
      if ((await this.store.getDatabase(id))?.status === 'deleting') return;
      await this.store.updateDatabase(id, {status: 'failed', statusMessage: `provisioning failed: ${errMessage(err)}`});
    }
  }

  /** Applies `change` (default: the record's own limits) to the running processes, then writes
   *  it to the record. On failure the record keeps its old plan and eviction, and the processes
   *  are put back to them as far as they answer (503 redis_unavailable). */
  async applyLimits(id: string, change?: Pick<DatabaseRecord, 'plan' | 'eviction'>): Promise<void> {
    const rec = await this.store.getDatabase(id);
    if (!rec) return;
    const next = {plan: change?.plan ?? rec.plan, eviction: change?.eviction ?? rec.eviction};
    try {
      await this.provisioner.setLimits(id, desired(this.catalogue, {...rec, ...next}).maxmemoryBytes, next.eviction);
    } catch (err) {
      this.log.error({databaseId: id, err: errMessage(err)}, 'applying limits failed');
      // Some processes may have taken the new limits, and the provisioner now holds them for its
      // restarts: both must follow the record, which still says the old ones.
      await this.provisioner
        .setLimits(id, desired(this.catalogue, rec).maxmemoryBytes, rec.eviction)
        .catch((again) => this.log.error({databaseId: id, err: errMessage(again)}, 'restoring the old limits failed'));
      throw new ApiError(503, 'redis_unavailable', `could not apply the new limits: ${errMessage(err)}`);
    }
    if (next.plan !== rec.plan || next.eviction !== rec.eviction) await this.store.updateDatabase(id, next);
  }

  private async destroy(id: string): Promise<void> {
    try {
      await this.provisioner.destroy(id);
      await this.store.deleteDatabase(id);
      this.log.info({databaseId: id}, 'database deleted');
    } catch (err) {
      this.log.error({databaseId: id, err: errMessage(err)}, 'delete failed');
      await this.store.updateDatabase(id, {status: 'failed', statusMessage: `delete failed: ${errMessage(err)}`});
    }
  }
}
