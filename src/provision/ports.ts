// Free-port probing on 127.0.0.1. Ports are drawn below Linux's ephemeral range (32768+) so that
// a port recorded for a database is unlikely to be taken later by the source port of some
// outgoing connection, which would keep the process from coming back on it after a restart.
import * as net from 'node:net';

const LOW = 20000;
const HIGH = 32000;
const FORBIDDEN = new Set([6379]);

function canListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen({host: '127.0.0.1', port, exclusive: true}, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/** A port on 127.0.0.1 that nothing listens on now and that is not in `avoid`. */
export async function findFreePort(avoid: ReadonlySet<number> = new Set()): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const candidate = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (avoid.has(candidate) || FORBIDDEN.has(candidate)) continue;
    const port = await canListen(candidate);
    if (port !== null) return port;
  }
  // A crowded range: let the kernel choose.
  for (;;) {
    const port = await canListen(0);
    if (port !== null && !avoid.has(port) && !FORBIDDEN.has(port)) return port;
  }
}
