// Public shapes of the regional cache: its configuration and the status it reports.

export interface CacheConfig {
  /** Folder for the replay log and the backends' files, e.g. `$REDFLY_HOME/cache`. */
  stateDir: string;
  /** Region codes the platform serves; every organization has a cache in each of them. */
  regions: string[];
  redisServer?: string; // default 'redis-server' on PATH
  /** Password of ACL user "redfly" on every backend (the gateway's internalSecret); a random
   *  secret per backend when absent. */
  internalSecret?: string;
  maxmemoryBytes?: number; // per organization and region; default 64 MB
  backlogMaxAgeMs?: number; // default 1 hour
  backlogMaxBytes?: number; // per organization; default 256 MB
  maxCommandBytes?: number; // largest database-1 command; default 10 MB (the plans' request size)
  /** 'process': an acknowledged command survives a crash of the server process (default);
   *  'machine': also a power loss (an fsync per command). */
  durability?: 'process' | 'machine';
  /** Largest batch an applier writes in one MULTI/EXEC (with its cursor): default 10,000
   *  entries or 8 MB, whichever comes first (always at least one entry). */
  /** postgres://… (REDFLY_DATABASE_URL): database 1's log lives in PostgreSQL, shared by every
   *  region host; empty or absent: SQLite in `stateDir`. */
  databaseUrl?: string;
  /** The regions whose backends and appliers run in this process (a region host runs only its
   *  own); default: every region of `regions`. */
  applyRegions?: string[];
  applyBatchEntries?: number;
  applyBatchBytes?: number;
  /** This host's clock in ms since the epoch (absolute expirations, XADD '*' IDs); default
   *  Date.now. Tests inject skewed clocks. */
  clock?: () => number;
}

export type RegionState = 'idle' | 'connecting' | 'catching-up' | 'live' | 'down' | 'stopped';

export interface CacheRegionStatus {
  region: string;
  /** 'idle': no client has used the cache in this region yet; it starts on first use. */
  state: RegionState;
  keys: number | null; // database 0; null when idle or unreachable
  memoryBytes: number | null;
  maxmemoryBytes: number;
  appliedSeq: number;
  lagEntries: number;
  lagMs: number; // how long the oldest unapplied entry has waited; 0 when caught up
  dropped: number; // entries removed from the backlog (age/size bound) before this region applied them
  replayErrors: number; // replayed commands that failed in this region (e.g. WRONGTYPE)
  lastReplayError: string | null;
}

export interface CacheStatus {
  org: string;
  lastSeq: number; // database-1 commands accepted so far
  backlog: {entries: number; bytes: number; maxBytes: number; maxAgeMs: number; trimmed: number};
  regions: CacheRegionStatus[];
}
