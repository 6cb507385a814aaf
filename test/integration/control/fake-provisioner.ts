// Stand-in for the local provisioner in tests that are about the API itself (validation, auth,
// paging): it keeps the desired state in memory and hands out fake ports.
import type {DesiredDatabase, ProcessHealth, ProcessSpec, Provisioner} from '../../../src/provision/types';

export class FakeProvisioner implements Provisioner {
  readonly dbs = new Map<string, DesiredDatabase>();
  readonly calls: string[] = [];
  private nextPort = 40000;
  failNextEnsure: string | null = null;

  async ensure(db: DesiredDatabase): Promise<ProcessSpec[]> {
    this.calls.push(`ensure ${db.id}`);
    await new Promise((r) => setTimeout(r, 5));
    if (this.failNextEnsure) {
      const msg = this.failNextEnsure;
      this.failNextEnsure = null;
      throw new Error(msg);
    }
    const specs = db.processes.map((p) => ({...p, port: p.port || this.nextPort++}));
    this.dbs.set(db.id, {...db, processes: specs});
    return specs;
  }
  async setLimits(id: string, maxmemoryBytes: number, eviction: boolean): Promise<void> {
    this.calls.push(`setLimits ${id} ${maxmemoryBytes} ${eviction}`);
    const db = this.dbs.get(id);
    if (db) this.dbs.set(id, {...db, maxmemoryBytes, eviction});
  }
  async setPassword(id: string, password: string): Promise<void> {
    this.calls.push(`setPassword ${id}`);
    const db = this.dbs.get(id);
    if (db) this.dbs.set(id, {...db, password});
  }
  async destroy(id: string): Promise<void> {
    this.calls.push(`destroy ${id}`);
    this.dbs.delete(id);
  }
  health(id: string): ProcessHealth[] {
    const db = this.dbs.get(id);
    return (db?.processes ?? []).map((p) => ({...p, pid: 1, state: 'running', restarts: 0, lastExit: null}));
  }
  async reconcile(all: DesiredDatabase[]): Promise<void> {
    for (const db of all) await this.ensure(db);
  }
  async stopAll(): Promise<void> {
    this.dbs.clear();
  }
}
