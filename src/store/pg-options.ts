// How redfly opens its PostgreSQL connections (the store's pool and LISTEN connection, the
// regional cache's log): bounded waits, so that a host cut off from PostgreSQL by a network that
// drops packets silently gets errors it retries on instead of calls that never return.
import type {ClientConfig} from 'pg';

/** A connection attempt that gets no answer fails after this long (pg waits forever by default;
 *  a SYN to a silent network is retried by the kernel for over a minute). */
export const PG_CONNECT_TIMEOUT_MS = 10_000;

/** TCP keep-alive probes start after a connection is this long without traffic (the kernel's
 *  default is two hours), so that a connection to a host gone silent is found dead. */
export const PG_KEEPALIVE_IDLE_MS = 10_000;

/**
 * The pg options for `url`. `queryTimeoutMs`: a query with no answer after that long fails
 * ("Query read timeout") and its connection is dropped by the pool; only for callers whose
 * queries never wait on purpose (not the store, whose migrations wait on an advisory lock).
 */
export function pgOptions(url: string, opts: {queryTimeoutMs?: number} = {}): ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: PG_KEEPALIVE_IDLE_MS,
    ...(opts.queryTimeoutMs ? {query_timeout: opts.queryTimeoutMs} : {}),
  };
}
