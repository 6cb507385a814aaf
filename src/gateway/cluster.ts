// Worker mode (docs/gateway-scaling.md): the region gateway as N worker processes sharing each
// region's listening port (node:cluster: this, the control process, is the cluster's primary,
// accepts and hands each connection to the next worker, round robin), fed the directory by
// messages, their usage summed here (usage-sync.ts). The REST API stays in the control process:
// it runs its requests through a gateway core of its own here (no listener), counted in the same
// ledger. A worker that dies is replaced; only its own connections drop.
import cluster, {type Worker} from 'node:cluster';
import {existsSync} from 'node:fs';
import * as path from 'node:path';
import {startGateway} from './index';
import type {CacheTenant, DirectoryChange, DirectorySnapshot, Endpoint, GatewayHandle, GatewayOptions, GatewayWorkerInfo} from './types';
import {UsageLedger} from './usage-sync';
import {asBuffer, type FromWorker, type ToWorker, type WorkerGatewayOptions, type WorkerRequest} from './worker';

/** Where workers learn the directory from: everything now, then each change. */
export interface DirectoryFeed {
  snapshot(): DirectorySnapshot;
  /** Calls `listener` after every change of the directory; returns the unsubscribe. */
  subscribe(listener: (change: DirectoryChange) => void): () => void;
}

export interface ClusterOptions extends GatewayOptions {
  /** Worker processes (2 or more). */
  workers: number;
  feed: DirectoryFeed;
  /** The worker entry; default worker.js beside this file (dist/gateway/worker.js). */
  workerScript?: string;
}

const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5_000;
const STOP_WAIT_MS = 5_000;
/** A worker that does not answer a flush within this is left out of it (its last report counts). */
const FLUSH_WAIT_MS = 1_000;

interface Slot {
  slot: number;
  worker: Worker | null;
  state: GatewayWorkerInfo['state'];
  restarts: number;
  startedAt: string | null;
  crashes: number[]; // times of recent deaths, for the restart backoff
}

function workerScript(opts: ClusterOptions): string {
  if (opts.workerScript) return opts.workerScript;
  const here = path.join(__dirname, 'worker.js');
  // Under ts-jest this file is src/gateway/cluster.ts: the built worker is the one to fork.
  return existsSync(here) ? here : path.resolve(__dirname, '../../dist/gateway/worker.js');
}

/** Starts `opts.workers` gateway workers and resolves once every one listens; rejects (with the
 *  listen error's `code`, e.g. EADDRINUSE) when one cannot. The handle's usage() is the sum over
 *  every worker and the REST API's own core. */
export async function startGatewayCluster(opts: ClusterOptions): Promise<GatewayHandle> {
  const log = opts.log ?? (() => {});
  const ledger = new UsageLedger(opts.usageSeed);
  // The REST API's requests (execute/subscribe) run here, on a core without listeners.
  const local = await startGateway({...opts, regions: [], usageSeed: undefined,
    usageSync: (reports) => ledger.exchange('local', reports)});
  const ports: Record<string, number> = Object.fromEntries(opts.regions.map((r) => [r, opts.port?.(r) ?? 0]));
  const options: WorkerGatewayOptions = {
    host: opts.host, tls: opts.tls ?? null, admission: opts.admission, regions: opts.regions, ports,
    internalSecret: opts.internalSecret, internalUser: opts.internalUser, tenantUser: opts.tenantUser,
    monitorIntervalMs: opts.monitorIntervalMs, simulateLatency: opts.simulateLatency === true,
  };
  const endpoints: Record<string, Endpoint> = {};
  const slots: Slot[] = [];
  let closing = false;

  const sendTo = (w: Worker | null, m: ToWorker) => {
    if (w !== null && w.isConnected()) w.send(m);
  };
  const broadcast = (m: ToWorker) => {
    for (const s of slots) sendTo(s.worker, m);
  };

  // The cache tenants the workers' database-1 commands go to, found once per organization (the
  // host's byId may read its records) and forgotten when the organization's entry changes.
  const caches = new Map<string, CacheTenant>();
  function cacheTenant(id: string): CacheTenant {
    let t = caches.get(id);
    if (t === undefined) {
      const found = opts.directory.byId?.(id);
      if (found === undefined || found.kind !== 'cache') throw new Error('no such cache');
      caches.set(id, (t = found));
    }
    return t;
  }

  async function answer(req: WorkerRequest, source: string): Promise<unknown> {
    if (req.op === 'usage') return ledger.exchange(source, req.reports);
    if (req.op === 'settings') return opts.saveClientSettings?.(req.id, req.changed);
    const t = cacheTenant(req.id);
    if (req.op === 'cacheBackend') {
      const ep = await t.backend(req.region);
      return {host: ep.host, port: ep.port};
    }
    // Acknowledged (+OK to the client) only once the cache has logged the command.
    return t.virtualDb.accept(req.args.map(asBuffer), {region: req.region, tenant: t});
  }

  /** Forks the worker of a slot; resolves when it listens, rejects when it cannot. */
  function fork(s: Slot): Promise<void> {
    cluster.setupPrimary({exec: workerScript(opts), args: [], serialization: 'advanced'});
    const w = cluster.fork();
    const source = `w${s.slot}`;
    s.worker = w;
    s.state = 'starting';
    // Client ids stay unique across workers (residue = slot) and across restarts (a million ids
    // further on per restart of the slot).
    const start = s.restarts * 1_000_000 * opts.workers + s.slot;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      w.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'ready':
            ready = true;
            Object.assign(endpoints, m.endpoints);
            // A restarted worker listens on the ports the others hold (port 0 was "any" only once).
            for (const [r, ep] of Object.entries(m.endpoints)) ports[r] = ep.port;
            s.state = 'ready';
            s.startedAt = new Date().toISOString();
            resolve();
            break;
          case 'failed':
            reject(Object.assign(new Error(m.message), {code: m.code ?? undefined}));
            break;
          case 'req':
            answer(m.req, source).then(
              (value) => sendTo(w, {t: 'res', n: m.n, ok: true, value}),
              (err: Error) => sendTo(w, {t: 'res', n: m.n, ok: false, error: err.message}),
            );
            break;
          case 'log':
            log(m.msg);
            break;
          case 'flushed':
            flushWaits.get(m.n)?.();
            break;
          case 'stopped':
            break;
        }
      });
      w.on('exit', (code, signal) => {
        ledger.dropSource(source);
        if (s.worker === w) s.worker = null;
        if (!ready) {
          reject(new Error(`gateway worker ${s.slot} exited before listening (${signal ?? code})`));
          return;
        }
        if (closing) return;
        log(`gateway worker ${s.slot} (pid ${w.process.pid}) died (${signal ?? `exit ${code}`}); starting another`);
        s.restarts++;
        s.state = 'restarting';
        s.startedAt = null;
        const now = Date.now();
        s.crashes = [...s.crashes.filter((t) => now - t < 60_000), now];
        const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (s.crashes.length - 1));
        setTimeout(() => {
          if (closing) return;
          fork(s).catch((err: Error) => {
            log(`gateway worker ${s.slot} could not start: ${err.message}`);
            if (s.worker === null && !closing) s.state = 'restarting';
          });
        }, delay).unref();
      });
      // The snapshot goes first; every change after it follows on the same ordered channel.
      w.send({t: 'start', slot: s.slot, clientIds: {start, stride: opts.workers}, options, snapshot: opts.feed.snapshot()});
    });
  }

  const flushWaits = new Map<number, () => void>();
  let flushes = 0;
  async function flushOnce(): Promise<void> {
    await Promise.all([local.flushUsage?.(), ...slots.map((s) => {
      const w = s.worker;
      if (w === null || s.state !== 'ready' || !w.isConnected()) return undefined;
      const n = ++flushes;
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          flushWaits.delete(n);
          resolve();
        };
        const timer = setTimeout(done, FLUSH_WAIT_MS);
        flushWaits.set(n, done); // a worker that dies meanwhile is waited for until the timer
        sendTo(w, {t: 'flush', n});
      });
    })]);
  }
  // Callers that come while a flush is out share the next one (which starts after they called).
  let flushing: Promise<void> | null = null;
  let nextFlush: Promise<void> | null = null;
  function flushUsage(): Promise<void> {
    if (flushing === null) {
      flushing = flushOnce().finally(() => (flushing = null));
      return flushing;
    }
    nextFlush ??= flushing.then(() => {
      nextFlush = null;
      return flushUsage();
    });
    return nextFlush;
  }

  const unsubscribe = opts.feed.subscribe((change) => {
    if ('cache' in change) caches.delete(change.cache);
    broadcast({t: 'dir', change});
  });

  async function stopAll(): Promise<void> {
    closing = true;
    unsubscribe();
    await Promise.all(slots.map(async (s) => {
      const w = s.worker;
      if (w === null || w.isDead()) return;
      const exited = new Promise<void>((r) => w.once('exit', () => r()));
      sendTo(w, {t: 'stop'});
      const timer = setTimeout(() => w.process.kill('SIGKILL'), STOP_WAIT_MS);
      await exited;
      clearTimeout(timer);
    }));
    await local.close();
  }

  for (let i = 1; i <= opts.workers; i++) {
    slots.push({slot: i, worker: null, state: 'starting', restarts: 0, startedAt: null, crashes: []});
  }
  // The first worker alone, so that a port 0 becomes one port the others then share.
  try {
    await fork(slots[0]);
    await Promise.all(slots.slice(1).map((s) => fork(s)));
  } catch (err) {
    await stopAll();
    throw err;
  }

  return {
    endpoints,
    usage: (id) => ledger.usage(id),
    async probe(t) {
      const r = await local.probe(t);
      ledger.sampled(t.id, r);
      return r;
    },
    flushUsage,
    execute: (req) => local.execute(req),
    subscribe: (req) => local.subscribe(req),
    disconnect(id) {
      local.disconnect(id);
      broadcast({t: 'disconnect', id});
    },
    workers() {
      const conns = ledger.connectionsBySource();
      return slots.map((s) => ({slot: s.slot, pid: s.worker?.process.pid ?? null, state: s.state, restarts: s.restarts,
        startedAt: s.startedAt, connections: conns.get(`w${s.slot}`) ?? 0}));
    },
    close: stopAll,
  };
}
