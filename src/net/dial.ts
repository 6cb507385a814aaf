// The one way redfly connects to a redis-server: plain TCP on this machine, TLS to a
// redis-server on another host (its `tls-port`, verified with the platform's CA). Used by the
// gateway's upstream connections and by the platform's own RESP client (src/redis/client.ts).
import * as net from 'node:net';
import * as tls from 'node:tls';

/** How to reach a redis-server over TLS: the CA (PEM) its certificate chains to. Redis does not
 *  put host names in its certificates' use, so the name is not checked, only the chain (as
 *  redis-server itself does for `tls-replication`). */
export interface DialTls {
  /** PEM; absent = the system's CAs (an operator's publicly issued certificate). */
  ca?: string;
}

/** A socket to host:port, TLS when `secure` is given. The caller waits for `readyEvent(secure)`.
 *  `onread` (plain TCP only): Node's option for reads into the caller's buffers
 *  (borrowed-reads.ts); its socket emits no 'data'. */
export function dial(host: string, port: number, secure?: DialTls | null, onread?: net.OnReadOpts): net.Socket {
  if (!secure) return net.connect({host, port, noDelay: true, ...(onread === undefined ? {} : {onread})});
  const sock = tls.connect({
    host,
    port,
    ca: secure.ca,
    minVersion: 'TLSv1.2',
    // The chain is verified (rejectUnauthorized stays on); the name is not: a region host is
    // reached by whatever address the operator gave it (--public-host), certificate or not.
    checkServerIdentity: () => undefined,
    ...(net.isIP(host) === 0 ? {servername: host} : {}),
  });
  sock.setNoDelay(true);
  return sock;
}

/** The event after which the socket carries data: 'connect', or 'secureConnect' for TLS. */
export function readyEvent(secure?: DialTls | null): 'connect' | 'secureConnect' {
  return secure ? 'secureConnect' : 'connect';
}
