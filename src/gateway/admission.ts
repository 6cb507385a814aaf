// Admission control for the gateway's client connections: what a client that never logs in, or
// never reads, may cost the one process that serves every tenant.
//  - a cap on all client connections (Redis's `maxclients`), lowered to what the process's file
//    descriptors allow with a reserve kept for supervision (restarting a redis-server, the API);
//  - a cap on connections that have not authenticated, per gateway and per source address;
//  - an AUTH deadline: a connection that has not authenticated in time is closed;
//  - failed AUTH slowed per source address (the checks from one address are spaced out once it
//    has failed a few times) and logged without the password;
//  - the output bound of one client (Redis's `client-output-buffer-limit`: over the hard bound,
//    or over the soft bound for longer than its seconds, the client is disconnected).
import type * as net from 'node:net';

export interface AdmissionOptions {
  /** All client connections of the gateway (every region). Default 10,000 (Redis's maxclients),
   *  lowered by the host to what the descriptor limit allows. */
  maxClients: number;
  /** Connections that have not authenticated yet, whole gateway. Default 1,000. */
  maxUnauthenticated: number;
  /** Connections that have not authenticated yet, per source address. Default 256: a pool
   *  that opens its connections at once stays under it. */
  maxUnauthenticatedPerAddress: number;
  /** A connection must authenticate within this many ms (TLS handshake included). Default 10,000. */
  authTimeoutMs: number;
  /** Failed AUTHs from one address, within `authFailureWindowMs`, before its checks are spaced. */
  authFailuresFree: number;
  authFailureWindowMs: number;
  /** Spacing between two AUTH checks of a penalised address: doubles per failure from this, up to
   *  `authMaxDelayMs`. */
  authBaseDelayMs: number;
  authMaxDelayMs: number;
  /** Bytes the gateway holds for one client that does not read: over `outputHardBytes`, or over
   *  `outputSoftBytes` for `outputSoftSeconds`, the client is disconnected. */
  outputHardBytes: number;
  outputSoftBytes: number;
  outputSoftSeconds: number;
}

export const DEFAULT_ADMISSION: AdmissionOptions = {
  maxClients: 10_000,
  maxUnauthenticated: 1_000,
  maxUnauthenticatedPerAddress: 256,
  authTimeoutMs: 10_000,
  authFailuresFree: 3,
  authFailureWindowMs: 60_000,
  authBaseDelayMs: 100,
  authMaxDelayMs: 2_000,
  outputHardBytes: 64 * 1024 * 1024,
  outputSoftBytes: 16 * 1024 * 1024,
  outputSoftSeconds: 10,
};

const ENV: Record<string, keyof AdmissionOptions> = {
  REDFLY_GATEWAY_MAX_CLIENTS: 'maxClients',
  REDFLY_GATEWAY_MAX_UNAUTHENTICATED: 'maxUnauthenticated',
  REDFLY_GATEWAY_MAX_UNAUTHENTICATED_PER_ADDRESS: 'maxUnauthenticatedPerAddress',
  REDFLY_AUTH_TIMEOUT_MS: 'authTimeoutMs',
  REDFLY_CLIENT_OUTPUT_HARD_BYTES: 'outputHardBytes',
  REDFLY_CLIENT_OUTPUT_SOFT_BYTES: 'outputSoftBytes',
  REDFLY_CLIENT_OUTPUT_SOFT_SECONDS: 'outputSoftSeconds',
};

/** Overrides from the environment (REDFLY_GATEWAY_MAX_CLIENTS, REDFLY_AUTH_TIMEOUT_MS, ...).
 *  Throws naming the variable when a value is not a non-negative integer. */
export function admissionFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<AdmissionOptions> {
  const out: Partial<AdmissionOptions> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(v)}`);
    out[key] = n;
  }
  return out;
}

export const MAX_CLIENTS_TEXT = 'ERR max number of clients reached';
export const MAX_UNAUTH_TEXT = 'ERR too many connections that have not authenticated';

/** One accepted connection, from accept to close. */
export class Ticket {
  authenticated = false;
  /** When this connection may have its AUTH checked (a penalised address waits its turn). */
  slotAt = 0;
  private timer: NodeJS.Timeout | null = null;
  closed = false;
  softSince = 0;

  constructor(readonly address: string, readonly sock: net.Socket) {}

  /** @internal */ arm(ms: number, onExpire: () => void): void {
    if (ms <= 0) return;
    this.timer = setTimeout(onExpire, ms);
    this.timer.unref();
  }

  /** @internal */ disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

interface AddressState {
  unauthenticated: number;
  failures: number;
  lastFailure: number;
  nextSlot: number;
  lastLogged: number;
  unlogged: number;
}

export class Admission {
  readonly opts: AdmissionOptions;
  private clients = 0;
  private unauthenticated = 0;
  private readonly addresses = new Map<string, AddressState>();
  /** Connections refused since start, by reason (for logs and tests). */
  readonly refused = {maxClients: 0, unauthenticated: 0, authTimeout: 0, output: 0};

  constructor(opts: Partial<AdmissionOptions>, private readonly log: (m: string) => void) {
    this.opts = {...DEFAULT_ADMISSION, ...opts};
  }

  get connections(): number {
    return this.clients;
  }

  private state(address: string): AddressState {
    let s = this.addresses.get(address);
    if (s === undefined) {
      s = {unauthenticated: 0, failures: 0, lastFailure: 0, nextSlot: 0, lastLogged: 0, unlogged: 0};
      this.addresses.set(address, s);
    }
    return s;
  }

  /**
   * A new TCP connection (before any TLS handshake). Returns its ticket, or the error text to
   * send before closing it when a cap is reached. `onTimeout` closes a connection that has not
   * authenticated within the deadline.
   */
  accept(sock: net.Socket, onTimeout: () => void): Ticket | string {
    const address = sock.remoteAddress ?? '?';
    if (this.clients >= this.opts.maxClients) {
      this.refused.maxClients++;
      return MAX_CLIENTS_TEXT;
    }
    const s = this.state(address);
    if (this.unauthenticated >= this.opts.maxUnauthenticated || s.unauthenticated >= this.opts.maxUnauthenticatedPerAddress) {
      this.refused.unauthenticated++;
      this.forget(address, s);
      return MAX_UNAUTH_TEXT;
    }
    this.clients++;
    this.unauthenticated++;
    s.unauthenticated++;
    const t = new Ticket(address, sock);
    t.arm(this.opts.authTimeoutMs, () => {
      if (t.authenticated || t.closed) return;
      this.refused.authTimeout++;
      onTimeout();
    });
    return t;
  }

  /** The connection logged in: it no longer counts as unauthenticated and has no deadline. */
  authenticated(t: Ticket): void {
    if (t.authenticated || t.closed) return;
    t.authenticated = true;
    t.disarm();
    this.unauthenticated--;
    const s = this.addresses.get(t.address);
    if (s !== undefined) {
      s.unauthenticated--;
      this.forget(t.address, s);
    }
  }

  closed(t: Ticket): void {
    if (t.closed) return;
    t.closed = true;
    t.disarm();
    this.clients--;
    if (!t.authenticated) {
      this.unauthenticated--;
      const s = this.addresses.get(t.address);
      if (s !== undefined) {
        s.unauthenticated--;
        this.forget(t.address, s);
      }
    }
  }

  /**
   * Before an AUTH (or HELLO AUTH) is checked: 0 = check it now; otherwise the ms to wait, after
   * which the same connection asks again and is let through. An address that failed more than
   * `authFailuresFree` times in the window has its checks spaced out one after the other, so
   * parallel connections gain nothing.
   */
  authDelay(t: Ticket, now = Date.now()): number {
    if (t.slotAt !== 0) {
      if (now >= t.slotAt) {
        t.slotAt = 0;
        return 0;
      }
      return t.slotAt - now;
    }
    const s = this.addresses.get(t.address);
    if (s === undefined || s.failures <= this.opts.authFailuresFree || now - s.lastFailure > this.opts.authFailureWindowMs) return 0;
    const over = s.failures - this.opts.authFailuresFree;
    const spacing = Math.min(this.opts.authMaxDelayMs, this.opts.authBaseDelayMs * 2 ** Math.min(over - 1, 20));
    const slot = Math.max(now, s.nextSlot);
    s.nextSlot = slot + spacing;
    if (slot <= now) return 0;
    t.slotAt = slot;
    return slot - now;
  }

  /** A wrong password: counted against the address, logged (never the password), at most one
   *  line per address every 10 s with the count since the last line. */
  authFailed(t: Ticket, region: string, user: string | null, now = Date.now()): void {
    const s = this.state(t.address);
    if (now - s.lastFailure > this.opts.authFailureWindowMs) s.failures = 0;
    s.failures++;
    s.lastFailure = now;
    s.unlogged++;
    if (now - s.lastLogged >= 10_000) {
      this.log(`gateway: failed AUTH from ${t.address} in region ${region} (user ${JSON.stringify(user ?? 'default')}; ` +
        `${s.unlogged} failure(s) since the last report, ${s.failures} in the last ${this.opts.authFailureWindowMs / 1000} s)`);
      s.lastLogged = now;
      s.unlogged = 0;
    }
  }

  /**
   * Called when the gateway could not hand all of a client's output to the socket: true when the
   * client is over its bound and must be disconnected.
   */
  outputOver(t: Ticket | null, held: number, now = Date.now()): boolean {
    const o = this.opts;
    if (held > o.outputHardBytes) {
      this.refused.output++;
      this.log(`gateway: client ${t?.address ?? '?'} disconnected: ${held} bytes of replies not read (hard bound ${o.outputHardBytes})`);
      return true;
    }
    if (t === null) return false;
    if (o.outputSoftBytes > 0 && held > o.outputSoftBytes) {
      if (t.softSince === 0) t.softSince = now;
      else if (o.outputSoftSeconds > 0 && now - t.softSince > o.outputSoftSeconds * 1000) {
        this.refused.output++;
        this.log(`gateway: client ${t.address} disconnected: over ${o.outputSoftBytes} bytes of unread replies for ${o.outputSoftSeconds} s`);
        return true;
      }
    } else {
      t.softSince = 0;
    }
    return false;
  }

  private forget(address: string, s: AddressState): void {
    // Keep an address's failures for their window; otherwise nothing to remember.
    if (s.unauthenticated === 0 && (s.failures === 0 || Date.now() - s.lastFailure > this.opts.authFailureWindowMs)) {
      this.addresses.delete(address);
    }
  }

  /** Drops expired failure records (called about once a second). */
  sweep(now = Date.now()): void {
    for (const [a, s] of this.addresses) {
      if (s.unauthenticated === 0 && now - s.lastFailure > this.opts.authFailureWindowMs) this.addresses.delete(a);
    }
  }
}
