// The provisioner of a control node (server start --role control): it runs nothing itself. The
// records are the desired state; each region host runs its share and reports it (HostReport).
// ensure() waits until every copy of a database is reported running by its region's host and
// returns their ports and hosts, which convergence writes to the record (so one node, the one
// that accepted the change, declares it ready); destroy() waits until no host that is up still
// reports the database (a host that is down removes its copy when it returns: RegionAgent).
import {ProcessStartError} from '../provision/errors';
import type {DesiredDatabase, ProcessHealth, ProcessSpec, Provisioner} from '../provision/types';
import type {HostDirectory} from './directory';
import {isUp, reportOf} from './types';

export interface HostsProvisionerOptions {
  hosts: HostDirectory;
  /** How long ensure() waits for the hosts (default 120 s); then the record becomes failed. */
  ensureTimeoutMs?: number;
  /** How long destroy() waits for the hosts that are up (default 60 s). */
  destroyTimeoutMs?: number;
}

export class HostsProvisioner implements Provisioner {
  constructor(private readonly opts: HostsProvisionerOptions) {}

  async ensure(db: DesiredDatabase): Promise<ProcessSpec[]> {
    const deadline = Date.now() + (this.opts.ensureTimeoutMs ?? 120_000);
    return this.until(deadline, () => {
      const out: ProcessSpec[] = [];
      for (const spec of db.processes) {
        const r = this.opts.hosts.reported(db.id, spec.region);
        if (!r || r.proc.role !== spec.role || r.proc.state !== 'running' || !isUp(r.host)) return null;
        out.push({region: spec.region, role: spec.role, port: r.proc.port, host: r.host.id});
      }
      return out;
    }, () => {
      const missing = db.processes.filter((s) => this.opts.hosts.reported(db.id, s.region)?.proc.state !== 'running');
      const what = missing.map((s) => `${s.role} in ${s.region}${this.opts.hosts.regionHost(s.region) ? '' : ' (no region host)'}`);
      return new ProcessStartError(`no region host reported ${what.join(', ')} running in time`);
    });
  }

  /** Region hosts apply the record's limits when they see it change. */
  async setLimits(): Promise<void> {}

  /** The password is the gateways' (they follow the record), never redis-server's. */
  async setPassword(): Promise<void> {}

  async destroy(id: string): Promise<void> {
    const deadline = Date.now() + (this.opts.destroyTimeoutMs ?? 60_000);
    await this.until(deadline, () => {
      const now = Date.now();
      const left = this.opts.hosts.list().filter((h) => isUp(h, now) && reportOf(h).processes.some((p) => p.database === id));
      return left.length === 0 ? true : null;
    }, () => new Error(`hosts still run database ${id}`));
  }

  health(id: string): ProcessHealth[] {
    return this.opts.hosts.health(id);
  }

  /** Region hosts reconcile their own share. */
  async reconcile(): Promise<void> {}

  async stopAll(): Promise<void> {}

  /** Polls `check` on every change of the hosts and every 500 ms until it gives a value. */
  private until<T>(deadline: number, check: () => T | null, timeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let off = () => {};
      const timer = setInterval(() => test(), 500);
      const test = () => {
        const v = check();
        if (v !== null) {
          done();
          resolve(v);
        } else if (Date.now() > deadline) {
          done();
          reject(timeout());
        }
      };
      const done = () => {
        clearInterval(timer);
        off();
      };
      off = this.opts.hosts.onChange(() => test());
      test();
    });
  }
}
