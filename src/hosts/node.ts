// The parts a node of a multi-host deployment adds to the server (server start --role):
// its row in the hosts registry and heartbeat, the directory of every host, and:
//  - control: a provisioner that runs nothing and waits for the region hosts' reports;
//  - region:  this host's LocalProvisioner (copies also on TLS for other hosts), the RegionAgent
//             that reconciles its share, and the gateway's view of copies on other hosts.
// URLs name each region's host (its --public-host and gateway port), whichever node answers.
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import type {Endpoint} from '../gateway/types';
import {writePrivate} from '../lib/private-files';
import {LocalProvisioner} from '../provision';
import type {ProcessTls} from '../provision/config';
import type {Provisioner} from '../provision/types';
import type {DatabaseRecord, ProcessRecord, Store} from '../store';
import type {ServerTls} from '../tls/certificates';
import {tlsDir} from '../tls/certificates';
import {cacheUrl} from '../control/routes/cache';
import type {Catalogue} from '../control/catalogue';
import {HostsProvisioner} from './control-provisioner';
import {HostDirectory} from './directory';
import {Heartbeat} from './heartbeat';
import {RECONCILE_MS, RegionAgent} from './region-agent';
import type {Convergence} from '../control/databases/convergence';
import type {HostRecord} from './types';
import {isUp, reportOf} from './types';

export type Role = 'control' | 'region';

/** --role and --region as given; throws with the operator's message on a bad combination.
 *  Returns null for the single process of today (no --role). */
export function parseRole(role: string | undefined, region: string | undefined, env = process.env): {role: Role; region: string | null} | null {
  if (role === undefined) {
    if (region !== undefined) throw new Error('--region goes with --role region');
    return null;
  }
  if (role !== 'control' && role !== 'region') throw new Error(`--role must be control or region, not ${JSON.stringify(role)}`);
  if (role === 'region' && !region) throw new Error('--role region needs --region <code> (the region this host serves)');
  if (role === 'control' && region !== undefined) throw new Error('--region goes with --role region, not with --role control');
  if (!env.REDFLY_DATABASE_URL) {
    throw new Error(`--role ${role} needs REDFLY_DATABASE_URL (postgres://...): the hosts share their records in PostgreSQL`);
  }
  return {role, region: region ?? null};
}

export interface HostNodeOptions {
  home: string;
  role: Role;
  region: string | null;
  hostId: string;
  store: Store;
  catalogue: Catalogue;
  internalSecret: string;
  redisServerPath: string;
  /** The address this host listens on (--listen) and the name others use (--public-host). */
  listen: string;
  publicHost: string;
  tls: ServerTls | null;
  avoidPorts: () => Iterable<number>;
  clientSettings: (id: string) => DatabaseRecord['redisSettings'] | undefined;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

/** What main.ts wires for a --role node. */
export class HostNode {
  readonly hosts: HostDirectory;
  /** The API's provisioner on every node: waits for the region hosts' reports. */
  readonly provisioner: Provisioner;
  /** The copies this host runs (region hosts). */
  readonly local: LocalProvisioner | null;
  private agent: RegionAgent | null = null;
  private heartbeat: Heartbeat | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly opts: HostNodeOptions) {
    this.hosts = new HostDirectory(opts.store, opts.log);
    if (opts.role === 'region') {
      this.local = new LocalProvisioner({
        home: opts.home,
        internalSecret: opts.internalSecret,
        redisServerPath: opts.redisServerPath,
        avoidPorts: opts.avoidPorts,
        clientSettings: opts.clientSettings,
        tls: opts.tls ? copyTls(opts.home, opts.listen, opts.tls) : undefined,
      });
    } else {
      this.local = null;
    }
    // Whichever node accepts a change (any node serves the API), the region hosts carry it out.
    this.provisioner = new HostsProvisioner({hosts: this.hosts, ensureTimeoutMs: reportTimeoutFromEnv()});
  }

  /** The gateway's URL of a database in a region: that region's host. */
  url(rec: DatabaseRecord, region: string): string {
    const h = this.hosts.regionHost(region);
    return h?.gatewayPort ? cacheUrl(rec.password, {host: h.address, port: h.gatewayPort, tls: this.opts.tls !== null}) : '';
  }

  /** Every region host's gateway: where the regional cache is reached in each region. */
  gatewayEndpoints(): Record<string, {host: string; port: number; tls: boolean}> {
    const out: Record<string, {host: string; port: number; tls: boolean}> = {};
    for (const region of this.regions()) {
      const h = this.hosts.regionHost(region);
      if (h?.gatewayPort) out[region] = {host: h.address, port: h.gatewayPort, tls: this.opts.tls !== null};
    }
    return out;
  }

  /** Every region host's REST API URL, by region. */
  restUrls(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const region of this.regions()) {
      const url = this.restUrl(region);
      if (url !== '') out[region] = url;
    }
    return out;
  }

  private regions(): string[] {
    const seen = new Set<string>();
    for (const h of this.hosts.list()) if (h.role === 'region' && h.region) seen.add(h.region);
    return [...seen].sort();
  }

  /** The REST API's URL in a region: that region's host. */
  restUrl(region: string): string {
    const h = this.hosts.regionHost(region);
    return h?.restPort ? `${this.opts.tls ? 'https' : 'http'}://${h.address}:${h.restPort}` : '';
  }

  /** Where this host's gateway reaches a copy: its own on loopback, another host's on that
   *  host's address and TLS port (plain port when the deployment runs without TLS). */
  endpointOf(rec: DatabaseRecord, p: ProcessRecord): Endpoint | undefined {
    const host = p.host ?? null;
    if (host === null || host === this.opts.hostId) return {host: '127.0.0.1', port: p.port};
    const h = this.hosts.byId(host);
    const proc = h && reportOf(h).processes.find((x) => x.database === rec.id && x.region === p.region);
    if (!h || !proc) return undefined;
    if (!proc.tlsPort) return {host: h.address, port: proc.port};
    return {host: h.address, port: proc.tlsPort, tls: {ca: this.opts.tls?.caPem ?? undefined}};
  }

  /** Reads the hosts; a region host then reconciles its share (before its gateway listens). */
  async start(): Promise<void> {
    await this.hosts.start();
    if (this.local) {
      this.agent = new RegionAgent({
        home: this.opts.home,
        store: this.opts.store,
        hosts: this.hosts,
        provisioner: this.local,
        catalogue: this.opts.catalogue,
        hostId: this.opts.hostId,
        region: this.opts.region!,
        changed: () => void this.heartbeat?.beatNow(),
        log: this.opts.log,
      });
    }
  }

  /** Once the API (and a region host's gateway) listen: the row, the heartbeat, the agent. */
  async announce(row: Pick<HostRecord, 'apiUrl' | 'gatewayPort' | 'restPort'>): Promise<void> {
    this.heartbeat = new Heartbeat(this.opts.store, () => ({
      id: this.opts.hostId,
      role: this.opts.role,
      region: this.opts.region,
      address: this.opts.publicHost,
      ...row,
      pid: process.pid,
      startedAt: this.startedAt,
      report: this.agent?.report() ?? {processes: []},
    }), this.opts.log);
    await this.heartbeat.start();
  }

  /** A region host's share, at start (its copies come back before its gateway listens). */
  async reconcile(): Promise<void> {
    await this.agent?.start();
  }

  /** A control node's part after start: the changes left provisioning, updating or deleting
   *  by a node that stopped are carried on, and every RECONCILE_MS a database that failed
   *  because its hosts did not report in time (one was down) is converged again once all its
   *  copies are reported running, so it becomes ready without an operator. */
  async carryOn(store: Store, convergence: Convergence): Promise<void> {
    const pass = async (initial: boolean) => {
      for (const rec of await store.allDatabases()) {
        if (initial && rec.status === 'deleting') convergence.queueDestroy(rec.id);
        else if (initial && (rec.status === 'provisioning' || rec.status === 'updating')) convergence.queueConverge(rec.id);
        else if (rec.status === 'failed' && convergence.lanes.queued(rec.id) === 0 && this.allRunning(rec)) convergence.queueConverge(rec.id);
      }
    };
    await pass(true);
    this.retryTimer = setInterval(() => void pass(false).catch((err) => this.opts.log('retrying failed databases failed', {err: (err as Error).message})), RECONCILE_MS);
    this.retryTimer.unref();
  }

  /** Every copy of the record is reported running by a host that is up. */
  private allRunning(rec: DatabaseRecord): boolean {
    return [rec.primaryRegion, ...rec.readRegions].every((region) => {
      const r = this.hosts.reported(rec.id, region);
      return r !== undefined && r.proc.state === 'running' && isUp(r.host);
    });
  }

  async stop(): Promise<void> {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
    await this.agent?.stop();
    await this.heartbeat?.stop();
    this.hosts.close();
  }
}

/** REDFLY_HOST_REPORT_TIMEOUT_MS: how long a change waits for the region hosts to report its
 *  copies before the record becomes failed (default 120 s; it becomes ready by itself once they
 *  do). A positive integer; anything else is an error that names it. */
export function reportTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.REDFLY_HOST_REPORT_TIMEOUT_MS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`REDFLY_HOST_REPORT_TIMEOUT_MS must be a positive integer (ms), not ${JSON.stringify(v)}`);
  return n;
}

/** The certificate redis-server serves other hosts with: the server's own, as files redis-server
 *  reads (it takes no PEM text), under $REDFLY_HOME/tls. */
function copyTls(home: string, listen: string, tls: ServerTls): Omit<ProcessTls, 'port'> {
  if (!tls.caPem) {
    throw new Error('--role region with TLS needs the CA of the hosts\' certificates: copy $REDFLY_HOME/tls/ca.pem and ca-key.pem from the first host, or give --tls-ca');
  }
  const dir = tlsDir(home);
  mkdirSync(dir, {recursive: true, mode: 0o700});
  const files = {certFile: join(dir, 'redis-cert.pem'), keyFile: join(dir, 'redis-key.pem'), caFile: join(dir, 'redis-ca.pem')};
  writePrivate(files.certFile, tls.cert);
  writePrivate(files.keyFile, tls.key);
  writePrivate(files.caFile, tls.caPem);
  return {address: listen, ...files};
}
