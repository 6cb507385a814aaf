// Where the server listens and how clients reach it: `--listen ADDR` (API and every region's
// gateway; loopback by default), `--public-host NAME` (the host that URLs and endpoints carry),
// and TLS. TLS is on whenever the listen address is not loopback (anything that crosses a network
// is encrypted, as on the hosted service) and can be asked for on loopback with `--tls on`;
// `--tls off` on another address is allowed (a TLS-terminating proxy in front) with a warning.
import {hostname} from 'node:os';
import {isIP} from 'node:net';
import {ensureOwnTls, loadOperatorTls, ServerTls} from '../tls/certificates';

export interface ServingOptions {
  /** The address the API and the gateways listen on. */
  listen: string;
  /** The host name in every URL handed out. */
  publicHost: string;
  tls: ServerTls | null;
  /** The host this machine's own CLI uses to reach the API (loopback for a wildcard listen). */
  localHost: string;
}

export interface ServingFlags {
  listen?: string;
  publicHost?: string;
  /** 'auto' (default): on unless the listen address is loopback. */
  tls?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

export function isLoopback(addr: string): boolean {
  const a = addr.replace(/^\[|\]$/g, '').toLowerCase();
  return a === 'localhost' || a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a) || /^::ffff:127\./.test(a);
}

export function isWildcard(addr: string): boolean {
  return addr === '0.0.0.0' || addr === '::' || addr === '[::]';
}

/** Resolves the flags; throws an Error with a message for the operator on a bad combination. */
export async function resolveServing(home: string, f: ServingFlags, warn: (m: string) => void = () => {}): Promise<ServingOptions> {
  const listen = (f.listen ?? '127.0.0.1').replace(/^\[|\]$/g, '');
  if (listen !== 'localhost' && isIP(listen) === 0) {
    throw new Error(`--listen must be an IP address (or localhost), not ${JSON.stringify(f.listen)}`);
  }
  const publicHost = f.publicHost ?? (isWildcard(listen) ? hostname() : listen);
  const mode = f.tls ?? 'auto';
  if (!['auto', 'on', 'off'].includes(mode)) throw new Error(`--tls must be auto, on or off, not ${JSON.stringify(mode)}`);
  if ((f.tlsCert === undefined) !== (f.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  const on = mode === 'on' || (mode === 'auto' && (!isLoopback(listen) || f.tlsCert !== undefined));
  if (!on && f.tlsCert !== undefined) throw new Error('--tls-cert is given but --tls is off');
  if (!on && !isLoopback(listen)) warn(`TLS is off on ${listen}: passwords and data cross the network in clear`);
  const localHost = isWildcard(listen) ? (listen.includes(':') ? '::1' : '127.0.0.1') : listen;
  let tls: ServerTls | null = null;
  if (on) {
    tls = f.tlsCert !== undefined
      ? loadOperatorTls({certFile: f.tlsCert, keyFile: f.tlsKey!, caFile: f.tlsCa})
      : await ensureOwnTls(home, [publicHost, localHost, ...(isWildcard(listen) ? [] : [listen]), 'localhost', '127.0.0.1', '::1']);
  }
  return {listen, publicHost, tls, localHost};
}

/** http(s)://host:port, with brackets for IPv6. */
export function httpUrl(tls: boolean, host: string, port: number): string {
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
