// Worker mode: one gateway worker process (node:cluster, forked by cluster.ts in the control
// process). It listens on every region's port, shared with the other workers (the cluster's
// primary accepts and hands each connection to one worker), and serves its connections as a
// single gateway does. What only the control process has, it asks for over the IPC channel:
// the directory (a snapshot at start, then every change), the usage totals (usage-sync.ts),
// and the regional cache (a cache's database 0 backend, and every database-1 command, which is
// acknowledged only once the control process has logged it).
import {startGateway} from './index';
import {MirrorDirectory} from './mirror';
import type {CacheEntry, CacheTenant, ClientSettings, DirectoryChange, DirectorySnapshot, Endpoint, GatewayHandle,
  GatewayOptions, VirtualDbResult} from './types';
import type {UsageReport, UsageTotal} from './usage-sync';

/** The serializable part of GatewayOptions a worker starts with. */
export type WorkerGatewayOptions = Pick<GatewayOptions, 'host' | 'tls' | 'admission' | 'regions' | 'internalSecret' |
  'internalUser' | 'tenantUser' | 'monitorIntervalMs'> & {ports: Record<string, number>; simulateLatency: boolean};

/** Messages from the control process to a worker. */
export type ToWorker =
  | {t: 'start'; slot: number; clientIds: {start: number; stride: number}; options: WorkerGatewayOptions; snapshot: DirectorySnapshot}
  | {t: 'dir'; change: DirectoryChange}
  | {t: 'disconnect'; id: string}
  | {t: 'flush'; n: number}
  | {t: 'res'; n: number; ok: true; value: unknown}
  | {t: 'res'; n: number; ok: false; error: string}
  | {t: 'stop'};

/** Requests a worker makes of the control process (answered with a `res` of the same n). */
export type WorkerRequest =
  | {op: 'usage'; reports: UsageReport[]}
  | {op: 'cacheBackend'; id: string; region: string}
  | {op: 'cacheAccept'; id: string; region: string; args: Buffer[]}
  | {op: 'settings'; id: string; changed: ClientSettings};

/** Messages from a worker to the control process. */
export type FromWorker =
  | {t: 'ready'; endpoints: Record<string, Endpoint>}
  | {t: 'failed'; code: string | null; message: string}
  | {t: 'req'; n: number; req: WorkerRequest}
  | {t: 'log'; msg: string}
  | {t: 'flushed'; n: number}
  | {t: 'stopped'};

/** A Uint8Array from the IPC channel (advanced serialization) as a Buffer, without a copy. */
export const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

function send(m: FromWorker): void {
  process.send?.(m);
}

const pending = new Map<number, {resolve: (v: unknown) => void; reject: (e: Error) => void}>();
let nextRequest = 0;

function request(req: WorkerRequest): Promise<unknown> {
  const n = ++nextRequest;
  return new Promise((resolve, reject) => {
    pending.set(n, {resolve, reject});
    send({t: 'req', n, req});
  });
}

function cacheTenant(e: CacheEntry): CacheTenant {
  return {
    kind: 'cache',
    id: e.id,
    org: e.org,
    backend: async (region) => (await request({op: 'cacheBackend', id: e.id, region})) as Endpoint,
    virtualDb: {
      accept: async (args, ctx) => {
        const r = (await request({op: 'cacheAccept', id: e.id, region: ctx.region, args})) as VirtualDbResult;
        return 'reply' in r ? {...r, reply: asBuffer(r.reply)} : r;
      },
    },
  };
}

let gateway: GatewayHandle | null = null;
let mirror: MirrorDirectory | null = null;

async function start(m: Extract<ToWorker, {t: 'start'}>): Promise<void> {
  mirror = new MirrorDirectory(m.snapshot, cacheTenant);
  const {ports, ...options} = m.options;
  const log = (msg: string) => send({t: 'log', msg: `worker ${m.slot}: ${msg}`});
  try {
    gateway = await startGateway({
      ...options,
      port: (region) => ports[region] ?? 0,
      directory: mirror,
      clientIds: m.clientIds,
      // Settled once the record keeps them and this worker's directory has the change (it comes
      // before the answer on the same channel), so AUTH as a new user works right after SETUSER.
      saveClientSettings: async (id, changed) => {
        await request({op: 'settings', id, changed}).catch((err: Error) => log(`cannot keep client settings: ${err.message}`));
      },
      usageSync: async (reports) => (await request({op: 'usage', reports})) as UsageTotal[],
      log,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    send({t: 'failed', code: e.code ?? null, message: e.message});
    process.exit(1);
  }
  send({t: 'ready', endpoints: gateway.endpoints});
}

async function stop(): Promise<void> {
  await gateway?.close().catch(() => undefined);
  send({t: 'stopped'});
  process.disconnect?.();
  process.exit(0);
}

// Ctrl-C in the terminal of `redfly server start --foreground` reaches the whole process group:
// the control process stops its workers itself, after its clients are told (it would otherwise
// see them die and replace them while stopping). Any other signal ends a worker as usual.
process.on('SIGINT', () => undefined);

process.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'start':
      void start(m);
      break;
    case 'dir':
      mirror?.apply(m.change);
      break;
    case 'disconnect':
      gateway?.disconnect(m.id);
      break;
    case 'flush':
      void Promise.resolve(gateway?.flushUsage?.()).finally(() => send({t: 'flushed', n: m.n}));
      break;
    case 'res': {
      const p = pending.get(m.n);
      pending.delete(m.n);
      if (p === undefined) break;
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
      break;
    }
    case 'stop':
      void stop();
      break;
  }
});
