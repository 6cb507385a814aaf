// Typed door to scripts/postgres.js (shared with the benchmarks): a throwaway PostgreSQL cluster.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const impl = require('../../scripts/postgres') as {
  startPostgres(options?: {listen?: string; host?: string; database?: string; port?: number}): Promise<TestPostgres>;
  postgresBinDir(): string | null;
};

/** A running throwaway cluster: `url` is postgres://redfly@host:port/db (trust auth);
 *  `stop()` stops it and deletes its folder (idempotent). */
export interface TestPostgres {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** Starts a fresh cluster (about 2 s); see scripts/postgres.js for the options. */
export const startPostgres = impl.startPostgres;
/** The installed PostgreSQL's bin folder, or null when it is not installed. */
export const postgresBinDir = impl.postgresBinDir;
