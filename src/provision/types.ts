// The contract between the control plane (src/control) and the provisioner (src/provision).
// The control plane owns records (src/store) and decides what should run; the provisioner makes
// it run and tells what happened. Ports are chosen by the provisioner and persisted by the
// control plane so that a restarted process comes back on the same port.

export interface ProcessSpec {
  region: string;
  role: 'primary' | 'replica';
  port: number; // 0 = let the provisioner choose one (returned by ensure)
  /** The host that runs it (server start --role region); absent/null = this single host. */
  host?: string | null;
}

export interface DesiredDatabase {
  id: string;
  password: string; // the database's own password: checked by the gateway, never by redis-server
  maxmemoryBytes: number;
  eviction: boolean; // false -> noeviction
  processes: ProcessSpec[]; // exactly one primary, one replica per read region
  /** Set on a region host whose share is replicas only: the primary runs on another host, at
   *  this address and TLS port (its redis-server's tls-port). `processes` then has no primary. */
  primaryAt?: {host: string; port: number};
}

export type ProcessState = 'starting' | 'running' | 'restarting' | 'stopped' | 'failed';

export interface ProcessHealth {
  region: string;
  role: 'primary' | 'replica';
  port: number;
  pid: number | null;
  state: ProcessState;
  restarts: number;
  lastExit: string | null;
  /** The TLS port other hosts reach it on (region hosts only). */
  tlsPort?: number;
}

export interface ProvisionerEvents {
  // A process changed state outside a call (crash, restart by supervision).
  onProcessEvent?(databaseId: string, health: ProcessHealth, message: string): void;
}

export interface Provisioner {
  /** Start, stop or reconfigure processes so that exactly `db.processes` run. Resolves with the
   *  specs (ports filled in) once the primary answers and every replica is linked and in sync. */
  ensure(db: DesiredDatabase): Promise<ProcessSpec[]>;
  /** Apply maxmemory and the eviction policy live to every process of the database. */
  setLimits(id: string, maxmemoryBytes: number, eviction: boolean): Promise<void>;
  /** Record the new password (redis-server never sees it: the gateway checks it and closes the
   *  connections opened with the old one). */
  setPassword(id: string, password: string): Promise<void>;
  /** Stop every process of the database and remove its data. Idempotent. */
  destroy(id: string): Promise<void>;
  health(id: string): ProcessHealth[];
  /** On server start: stop the redis-server processes an earlier run left (pidfiles under the
   *  state folder) for databases not given, then bring back every database given, a bounded
   *  number at once, adopting the processes of theirs that survived; `settled(id, error?)` is
   *  called as each one is back (or could not be). */
  reconcile(all: DesiredDatabase[], settled?: (databaseId: string, error?: Error) => void): Promise<void>;
  /** Stop every process (server shutdown). Data stays. */
  stopAll(): Promise<void>;
}

/** What a database id and a region name may be: they name folders under the state folder. */
export const SAFE_NAME = /^[A-Za-z0-9_-]+$/;

/** Throws (a message naming the fault) unless `db` is one a provisioner can run: a safe id and
 *  region names, one primary (none when it runs at `primaryAt`), one process per region. */
export function validateDesired(db: DesiredDatabase): void {
  if (!SAFE_NAME.test(db.id)) throw new Error(`invalid database id ${JSON.stringify(db.id)}`);
  const primaries = db.processes.filter((p) => p.role === 'primary');
  // A region host that holds replicas only is told where the primary runs instead.
  const wanted = db.primaryAt ? 0 : 1;
  if (primaries.length !== wanted) {
    throw new Error(`database ${db.id} needs ${wanted === 1 ? 'exactly one primary' : 'no primary here (it runs at primaryAt)'}, got ${primaries.length}`);
  }
  const regions = new Set<string>();
  for (const p of db.processes) {
    if (!SAFE_NAME.test(p.region)) throw new Error(`invalid region ${JSON.stringify(p.region)}`);
    if (regions.has(p.region)) throw new Error(`database ${db.id} has two processes in ${p.region}`);
    regions.add(p.region);
  }
}
