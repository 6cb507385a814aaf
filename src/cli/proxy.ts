// `redfly redis proxy`: a local TCP port that forwards every connection to a database's gateway
// endpoint, as `flyctl redis proxy` does, for tools that cannot take a URL. Bytes pass through
// untouched (the client still sends AUTH); when the endpoint is rediss:// the proxy speaks TLS
// to the gateway, so the local side stays plain redis:// on loopback.
import * as fs from 'node:fs';
import * as net from 'node:net';

/** flyctl's default local port for `redis proxy`. */
export const DEFAULT_PROXY_PORT = 16379;

/** How a client verifies a rediss:// endpoint, as the API gives it (null: plain redis://). */
export interface EndpointTls {
  caPem?: string | null;
  caFile?: string | null;
}

export interface ProxyOptions {
  /** The gateway endpoint: redis://… or rediss://… (credentials in it are ignored). */
  target: string;
  /** Local port (0 = any free one). */
  port: number;
  /** Local address to listen on (default 127.0.0.1: the database password is the only lock). */
  host?: string;
  tls?: EndpointTls | null;
}

export interface RunningProxy {
  host: string;
  port: number;
  tls: boolean;
  /** Stops listening and ends every open connection. */
  close(): Promise<void>;
}

/**
 * Listens on host:port and pipes each accepted connection to the target, over TLS for rediss://
 * (the CA from `tls.caPem`, else `tls.caFile` when readable here, else the system's CAs).
 * Rejects when the local port cannot be taken (EADDRINUSE) or the URL is not redis(s)://.
 */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const url = new URL(options.target);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`not a redis:// or rediss:// URL: ${url.protocol}`);
  const secure = url.protocol === 'rediss:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 6379);
  const ca = secure ? caOf(options.tls) : undefined;
  const tlsModule = secure ? await import('node:tls') : undefined;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((local) => {
    const upstream = tlsModule
      ? tlsModule.connect({host, port, ...(net.isIP(host) ? {} : {servername: host}), ...(ca ? {ca} : {})})
      : net.connect({host, port});
    sockets.add(local);
    sockets.add(upstream);
    local.setNoDelay(true);
    upstream.setNoDelay(true);
    local.pipe(upstream);
    upstream.pipe(local);
    const end = () => {
      local.destroy();
      upstream.destroy();
      sockets.delete(local);
      sockets.delete(upstream);
    };
    local.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  const listenHost = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    host: listenHost,
    port: (server.address() as net.AddressInfo).port,
    tls: secure,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function caOf(tls: EndpointTls | null | undefined): string | undefined {
  if (tls?.caPem) return tls.caPem;
  if (tls?.caFile) {
    try {
      return fs.readFileSync(tls.caFile, 'utf8');
    } catch {
      // The server's path is not readable from here: the system's CAs are tried instead.
    }
  }
  return undefined;
}
