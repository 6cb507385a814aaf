// LocalProvisioner: databases as real redis-server processes on this machine (127.0.0.1), one
// primary and one replica per read region, each supervised, with data under
// <home>/data/<databaseId>/<region>/.
import * as fs from 'node:fs';
import {databaseDir, pidfilePath, processDir} from '../lib/home';
import {Lanes} from '../lib/lanes';
import {isRedisServerIn, readPidfile} from '../lib/pids';
import {checkRedisServer} from './binary';
import {ClientSettings, type ProcessTls, renderConfig} from './config';
import {ProcessStoppedError, UnsupportedChangeError} from './errors';
import {applyLimits, ensureLimits, internalCall} from './live';
import {stopOrphans} from './orphans';
import {adoptConcurrency, reconcileConcurrency} from './concurrency';
import {findFreePort} from './ports';
import {keptPort} from './kept-port';
import {waitForSync} from './readiness';
import {SupervisedRedis} from './supervised';
import type {RedisConnection} from '../redis/client';
import type {DesiredDatabase, ProcessHealth, ProcessSpec, Provisioner, ProvisionerEvents} from './types';
import {SAFE_NAME, validateDesired} from './types';

export interface LocalProvisionerOptions {
  home: string;
  internalSecret: string;
  redisServerPath?: string; // default: "redis-server" on PATH
  events?: ProvisionerEvents;
  /** How many databases reconcile() brings back at once (default: reconcileConcurrency()). */
  reconcileConcurrency?: number;
  /** How many databases whose processes outlived the last run reconcile() adopts at once
   *  (default: adoptConcurrency()). */
  adoptConcurrency?: number;
  /** Redis's `hz` for every database's processes (config.ts); Redis's default when absent. */
  redisHz?: number;
  /** Ports other parts of the server hold or will hold again (the gateway's endpoints). */
  avoidPorts?: () => Iterable<number>;
  /** What the database's clients set through the gateway (its users, keyspace notifications),
   *  read at every start of each of its processes so a restart keeps it. */
  clientSettings?: (databaseId: string) => ClientSettings | undefined;
  /** A region host: every copy also listens with TLS on this address, for other hosts (its TLS
   *  port is chosen once and kept in the process folder, so other hosts' replicas and gateways
   *  find it again after a restart). */
  tls?: Omit<ProcessTls, 'port'>;
}

/** reconcile() tried every database; these could not be brought back. */
export class ReconcileError extends Error {
  readonly code = 'reconcile_failed';
  constructor(readonly failures: {databaseId: string; error: Error}[]) {
    super(`could not bring back ${failures.length} database(s): ${failures.map((f) => `${f.databaseId}: ${f.error.message}`).join('; ')}`);
    this.name = 'ReconcileError';
  }
}

interface DbState {
  desired: DesiredDatabase;
  /** Bumped by every limits change; a process whose config was written at an older
   *  version (it was restarting meanwhile) gets the change applied live once it answers. */
  version: number;
  procs: Map<string, SupervisedRedis>; // by region
  /** Settles when the primary started by the current ensure() answers. */
  primaryReady: Promise<void>;
}


export class LocalProvisioner implements Provisioner {
  private readonly dbs = new Map<string, DbState>();
  /** One queue per database: its ensure, limits, password and destroy never overlap. */
  private readonly lanes = new Lanes();
  private readonly reservedPorts = new Set<number>();
  private binaryPath: Promise<string> | null = null;
  private closing = false;
  private readonly listeners = new Set<NonNullable<ProvisionerEvents['onProcessEvent']>>();
  /** Survivors reconcile() found for a database, for its ensure() to adopt (read once). */
  private readonly found = new Map<string, Map<string, number>>();

  constructor(private readonly opts: LocalProvisionerOptions) {
    const events = opts.events;
    if (events?.onProcessEvent) this.listeners.add((id, health, message) => events.onProcessEvent?.(id, health, message));
  }

  /** Calls `listener` when a process changes state outside a call (crash, restart by
   *  supervision). Returns the unsubscribe function. */
  subscribe(listener: NonNullable<ProvisionerEvents['onProcessEvent']>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  ensure(db: DesiredDatabase): Promise<ProcessSpec[]> {
    validateDesired(db);
    if (this.closing) return Promise.reject(new ProcessStoppedError('the provisioner'));
    return this.lanes.run(db.id, () => this.doEnsure(db));
  }

  /** A database this provisioner does not run is left alone: nothing runs to change, and the
   *  caller's next ensure() starts it with the new values. Same for setPassword. */
  setLimits(id: string, maxmemoryBytes: number, eviction: boolean): Promise<void> {
    return this.lanes.run(id, async () => {
      const state = this.dbs.get(id);
      if (!state) return;
      state.desired = {...state.desired, maxmemoryBytes, eviction};
      state.version++;
      await applyLimits(this.running(state), this.opts.internalSecret, maxmemoryBytes, eviction);
    });
  }

  /** The password lives in the gateway's directory, not in redis-server (user "default" is off):
   *  only the desired state follows it, so later calls see the current record. */
  setPassword(id: string, password: string): Promise<void> {
    return this.lanes.run(id, async () => {
      const state = this.dbs.get(id);
      if (!state) return;
      state.desired = {...state.desired, password};
    });
  }

  destroy(id: string): Promise<void> {
    if (!SAFE_NAME.test(id)) return Promise.reject(new Error(`invalid database id ${JSON.stringify(id)}`));
    return this.lanes.run(id, async () => {
      const state = this.dbs.get(id);
      if (state) await this.stopProcs([...state.procs.values()]);
      this.dbs.delete(id);
      await stopOrphans(this.opts.home, id, this.ownPids());
      fs.rmSync(databaseDir(this.opts.home, id), {recursive: true, force: true});
    });
  }

  health(id: string): ProcessHealth[] {
    const state = this.dbs.get(id);
    if (!state) return [];
    return [...state.procs.values()]
      .sort((a, b) => (a.role === b.role ? a.region.localeCompare(b.region) : a.role === 'primary' ? -1 : 1))
      .map((p) => p.health());
  }

  /** The databases this provisioner runs copies of. */
  ids(): string[] {
    return [...this.dbs.keys()];
  }

  /** Where the replicas of a database look for their primary on another host (undefined when
   *  the primary is local or the database is not run here). */
  primaryAt(id: string): DesiredDatabase['primaryAt'] {
    return this.dbs.get(id)?.desired.primaryAt;
  }

  async reconcile(all: DesiredDatabase[], settled?: (databaseId: string, error?: Error) => void): Promise<void> {
    all.forEach(validateDesired);
    const wanted = new Set(all.map((d) => d.id));
    for (const [id, state] of this.dbs) {
      if (wanted.has(id)) continue;
      await this.lanes.run(id, async () => {
        await this.stopProcs([...state.procs.values()]);
        this.dbs.delete(id);
      });
    }
    // Processes of the wanted databases that outlived an earlier run are adopted by ensure().
    await stopOrphans(this.opts.home, (id) => !wanted.has(id), this.ownPids());
    // Adopting is a few round trips to a running process, starting is a spawn that costs CPU:
    // the databases whose processes all survived go through their own, wider queue.
    const adoptable: DesiredDatabase[] = [];
    const cold: DesiredDatabase[] = [];
    for (const db of all) {
      const survivors = this.dbs.has(db.id) ? new Map<string, number>() : this.survivors(db);
      if (survivors.size > 0) this.found.set(db.id, survivors);
      (survivors.size === db.processes.length ? adoptable : cold).push(db);
    }
    const failures: {databaseId: string; error: Error}[] = [];
    const drain = (queue: DesiredDatabase[], n: number): Promise<void>[] => {
      const worker = async () => {
        for (let db = queue.shift(); db; db = queue.shift()) {
          try {
            await this.ensure(db);
            settled?.(db.id);
          } catch (err) {
            failures.push({databaseId: db.id, error: err as Error});
            settled?.(db.id, err as Error);
          } finally {
            this.found.delete(db.id);
          }
        }
      };
      return Array.from({length: Math.min(n, queue.length)}, worker);
    };
    await Promise.all([
      ...drain(adoptable, this.opts.adoptConcurrency ?? adoptConcurrency()),
      ...drain(cold, this.opts.reconcileConcurrency ?? reconcileConcurrency()),
    ]);
    if (failures.length) throw new ReconcileError(failures);
  }

  async stopAll(): Promise<void> {
    this.closing = true;
    try {
      // Stopping a process aborts any ensure() waiting on it; then wait for those to unwind and
      // stop whatever they may still have started.
      await this.stopProcs(this.allProcs());
      await this.lanes.idle();
      await this.stopProcs(this.allProcs());
      this.dbs.clear();
      this.reservedPorts.clear();
    } finally {
      this.closing = false;
    }
  }

  // ---- internals ----

  private async doEnsure(db: DesiredDatabase): Promise<ProcessSpec[]> {
    await this.binary();
    let state = this.dbs.get(db.id);
    const previous = state?.desired;
    let survivors = new Map<string, number>(); // region -> pid of a process an earlier run left
    if (!state) {
      state = {desired: db, version: 0, procs: new Map(), primaryReady: Promise.resolve()};
      this.dbs.set(db.id, state);
      // Processes of this database left by an earlier run are adopted when they serve the
      // recorded port (a host that restarts its control process does not restart Redis); any
      // other would hold its recorded ports.
      survivors = this.found.get(db.id) ?? this.survivors(db);
      this.found.delete(db.id);
      // (a new state: none of this database's processes run under this provisioner yet)
      await stopOrphans(this.opts.home, db.id, new Set(survivors.values()));
    }
    const primarySpec = db.processes.find((p) => p.role === 'primary');
    // Checked before anything changes: moving the primary would stop it and delete its data.
    for (const proc of state.procs.values()) {
      const spec = db.processes.find((p) => p.region === proc.region);
      if (proc.role === 'primary' && primarySpec && proc.region !== primarySpec.region) {
        throw new UnsupportedChangeError(`the primary region of ${db.id} is ${proc.region} and cannot change`);
      }
      if (spec && spec.role !== proc.role) {
        throw new UnsupportedChangeError(`the ${proc.role} in ${proc.region} cannot become a ${spec.role}`);
      }
    }
    if (previous && (previous.maxmemoryBytes !== db.maxmemoryBytes || previous.eviction !== db.eviction)) {
      state.version++;
    }
    state.desired = {...db, processes: db.processes.map((p) => ({...p}))};

    // Live changes to processes that keep running; processes started below read state.desired.
    const keep = this.running(state);
    if (previous && (previous.maxmemoryBytes !== db.maxmemoryBytes || previous.eviction !== db.eviction)) {
      await applyLimits(keep, this.opts.internalSecret, db.maxmemoryBytes, db.eviction);
    }

    const removed = [...state.procs.values()].filter((p) => !db.processes.some((s) => s.region === p.region));
    for (const proc of removed) {
      await proc.stop();
      state.procs.delete(proc.region);
      this.reservedPorts.delete(proc.port);
      fs.rmSync(proc.opts.dir, {recursive: true, force: true});
    }

    // The remote primary moved (its host came back on another port): running replicas follow.
    const moved = db.primaryAt && previous?.primaryAt &&
      (db.primaryAt.host !== previous.primaryAt.host || db.primaryAt.port !== previous.primaryAt.port);
    if (moved) {
      await Promise.allSettled(keep.map((r) => internalCall(r.port, this.opts.internalSecret, 'REPLICAOF', db.primaryAt!.host, db.primaryAt!.port)));
    }

    const starts: Promise<void>[] = [];
    const primary = primarySpec && state.procs.get(primarySpec.region);
    let primaryStart: Promise<void> | null = null;
    if (primarySpec && (!primary || primary.state === 'failed' || primary.state === 'stopped')) {
      const proc = primary ?? (await this.createProc(state, primarySpec));
      primaryStart = this.adoptOrStart(proc, survivors.get(primarySpec.region));
      starts.push(primaryStart);
    }
    state.primaryReady = primaryStart ?? Promise.resolve();
    state.primaryReady.catch(() => undefined); // observed by the replicas and by allSettled below
    for (const spec of db.processes) {
      if (spec.role !== 'replica') continue;
      const existing = state.procs.get(spec.region);
      if (existing && existing.state !== 'failed' && existing.state !== 'stopped') continue;
      const proc = existing ?? (await this.createProc(state, spec));
      starts.push(this.adoptOrStart(proc, survivors.get(spec.region)));
    }
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    return db.processes.map((spec) => ({region: spec.region, role: spec.role, port: state!.procs.get(spec.region)!.port}));
  }

  /** The live redis-servers an earlier run left in this database's process folders, by region,
   *  for the processes whose port is recorded (a process cut short before its first ready has
   *  none to check it against). */
  private survivors(db: DesiredDatabase): Map<string, number> {
    const found = new Map<string, number>();
    for (const spec of db.processes) {
      if (spec.port === 0) continue;
      const dir = processDir(this.opts.home, db.id, spec.region);
      const pid = readPidfile(pidfilePath(dir));
      if (pid !== null && isRedisServerIn(pid, dir)) found.set(spec.region, pid);
    }
    return found;
  }

  /** Adopts `survivor` when it is adoptable, else starts the process anew. */
  private async adoptOrStart(proc: SupervisedRedis, survivor: number | undefined): Promise<void> {
    if (survivor !== undefined && (await proc.adopt(survivor))) return;
    await proc.start();
  }

  private async createProc(state: DbState, spec: ProcessSpec): Promise<SupervisedRedis> {
    const id = state.desired.id;
    const portIsOurs = spec.port === 0;
    let appliedVersion = -1; // the limits version this process has (config or live)
    // On `client` when given (the connection that saw the process answer): an adopted process
    // gets only what it lacks.
    const catchUp = async (self: SupervisedRedis, client?: RedisConnection): Promise<void> => {
      while (appliedVersion !== state.version) {
        const version = state.version;
        const d = state.desired;
        if (client) await ensureLimits(client, d.maxmemoryBytes, d.eviction);
        else await applyLimits([self], this.opts.internalSecret, d.maxmemoryBytes, d.eviction);
        appliedVersion = version;
      }
    };
    const port = portIsOurs ? await this.newPort() : spec.port;
    this.reservedPorts.add(port);
    const dir = processDir(this.opts.home, id, spec.region);
    const take = (p: number) => !this.reservedPorts.has(p) && Boolean(this.reservedPorts.add(p));
    const tls = this.opts.tls ? {...this.opts.tls, port: await keptPort(dir, 'tls-port', take, () => this.newPort())} : undefined;
    const proc: SupervisedRedis = new SupervisedRedis({
      databaseId: id,
      region: spec.region,
      role: spec.role,
      port,
      dir,
      internalSecret: this.opts.internalSecret,
      portIsOurs,
      tlsPort: tls?.port,
      binary: () => this.binary(),
      renderConfig: (p) => {
        appliedVersion = state.version;
        return renderConfig({
          port: p,
          dir: proc.opts.dir,
          internalSecret: this.opts.internalSecret,
          maxmemoryBytes: state.desired.maxmemoryBytes,
          eviction: state.desired.eviction,
          settings: this.opts.clientSettings?.(id),
          hz: this.opts.redisHz,
          tls,
        });
      },
      newPort: async () => {
        this.reservedPorts.delete(proc.port);
        const next = await this.newPort();
        this.reservedPorts.add(next);
        return next;
      },
      // setLimits reaches running processes only; one that was (re)starting meanwhile
      // catches up here, before it counts as running, and once more right after in case a
      // change slipped in between.
      afterStart: async (self, client, kind, wait) => {
        await catchUp(self, client);
        if (self.role === 'primary') {
          // A primary that had to move to another port on restart takes its replicas along
          // (REPLICAOF to the address they already use is a no-op). An adopted one kept its port.
          if (kind === 'restart') {
            const replicas = this.running(state).filter((p) => p.role === 'replica');
            await Promise.allSettled(
              replicas.map((r) => internalCall(r.port, this.opts.internalSecret, 'REPLICAOF', '127.0.0.1', self.port)),
            );
          }
          return;
        }
        // A replica is started without `replicaof` in its config: Redis would only connect on
        // its next once-a-second replication cron, while a runtime REPLICAOF connects at once.
        if (kind === 'start') await state.primaryReady;
        // On a region host the primary is another host's (over TLS: tls-replication).
        const remote = state.desired.primaryAt;
        const primaryProc = [...state.procs.values()].find((p) => p.role === 'primary');
        if (!remote && !primaryProc) throw new Error(`database ${id} has no primary`);
        await client.call('CONFIG', 'SET', 'masterauth', this.opts.internalSecret);
        await client.call('REPLICAOF', remote?.host ?? '127.0.0.1', remote?.port ?? primaryProc!.port);
        // After a crash the replica serves (stale) reads at once and catches up in the
        // background; a replica requested by ensure() counts only once it is in sync.
        if (kind === 'start') await waitForSync(client, wait);
      },
      onRunning: catchUp,
      onEvent: (health, message) => {
        for (const listener of this.listeners) {
          try {
            listener(id, health, message);
          } catch {
            // A listener's failure must not stop supervision.
          }
        }
      },
    });
    state.procs.set(spec.region, proc);
    return proc;
  }

  private async newPort(): Promise<number> {
    for (;;) {
      const used = new Set([...this.reservedPorts, ...this.allProcs().map((p) => p.port), ...(this.opts.avoidPorts?.() ?? [])]);
      const port = await findFreePort(used);
      // Checked after the await: two concurrent probes may have found the same port.
      if (!this.reservedPorts.has(port)) {
        this.reservedPorts.add(port);
        return port;
      }
    }
  }

  private binary(): Promise<string> {
    if (!this.binaryPath) {
      this.binaryPath = checkRedisServer(this.opts.redisServerPath ?? 'redis-server');
      // Not cached on failure: installing redis-server must not need a restart of the server.
      this.binaryPath.catch(() => (this.binaryPath = null));
    }
    return this.binaryPath;
  }

  private running(state: DbState): SupervisedRedis[] {
    return [...state.procs.values()].filter((p) => p.state === 'running');
  }

  private allProcs(): SupervisedRedis[] {
    return [...this.dbs.values()].flatMap((s) => [...s.procs.values()]);
  }

  private ownPids(): Set<number> {
    return new Set(this.allProcs().map((p) => p.pid).filter((pid): pid is number => pid !== null));
  }

  private async stopProcs(procs: SupervisedRedis[]): Promise<void> {
    await Promise.all(procs.map((p) => p.stop()));
    for (const p of procs) this.reservedPorts.delete(p.port);
  }
}
