// The one way redfly listens: a plain or a TLS server, for the gateway (RESP, one per region)
// and for the HTTP API. With TLS, the TCP connection is offered to `accept` before the
// handshake, so admission control (caps, the AUTH deadline) also covers clients that connect and
// never finish a handshake.
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import {acceptWithBorrowedReads} from './borrowed-reads';

/** A server certificate chain and its private key, PEM. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

export interface StreamHooks {
  /** Each TCP connection as accepted; false = refused (the hook has ended it). */
  accept(raw: net.Socket): boolean;
  /** The socket to speak on: `raw` itself, or the TLS socket once its handshake is done. */
  ready(sock: net.Socket, raw: net.Socket): void;
}

/** A stream server for RESP; TLS when `material` is given (TLS 1.2 or newer). `allowHalfOpen`:
 *  a client's FIN does not end our side (the TLS socket inherits it from the TCP one).
 *  `borrowedReads` (plain TCP only): sockets read into a shared buffer (borrowed-reads.ts); their
 *  reader takes them with readBorrowed(). */
export function createStreamServer(
  material: TlsMaterial | null,
  hooks: StreamHooks,
  options: {allowHalfOpen?: boolean; borrowedReads?: boolean} = {},
): net.Server {
  const context = material === null ? null : tls.createSecureContext({cert: material.cert, key: material.key, minVersion: 'TLSv1.2'});
  const server = net.createServer({noDelay: true, allowHalfOpen: options.allowHalfOpen ?? false}, (raw) => {
    raw.setKeepAlive(true);
    if (!hooks.accept(raw)) return;
    if (context === null) {
      hooks.ready(raw, raw);
      return;
    }
    const sock = new tls.TLSSocket(raw, {isServer: true, secureContext: context});
    const fail = (): void => {
      sock.destroy();
      raw.destroy();
    };
    sock.once('error', fail);
    sock.once('secure', () => {
      sock.off('error', fail);
      hooks.ready(sock, raw);
    });
  });
  // Node builds the listening handle in listen(); 'listening' follows before any accept.
  if (context === null && options.borrowedReads === true) server.once('listening', () => acceptWithBorrowedReads(server, {noDelay: true}));
  return server;
}

/** Listens on host:port (0 = any free port); resolves with the bound port. */
export function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** For fastify's `serverFactory`: an http or https server around fastify's handler. */
export function httpServerFactory(material: TlsMaterial | null) {
  return (handler: http.RequestListener): http.Server =>
    material === null
      ? http.createServer(handler)
      : https.createServer({cert: material.cert, key: material.key, minVersion: 'TLSv1.2'}, handler);
}
