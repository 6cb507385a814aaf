// The control plane's records, behind one small interface with two backends: SQLite (one
// node, the default) and PostgreSQL (several control-plane nodes sharing REDFLY_DATABASE_URL).
// Every method is async because the networked backend is; a multi-row change that must be
// atomic is one method here (insertDatabase with its idempotency key, updateDatabase as a
// read-modify-write), never a transaction the callers open.

/** The life of a database record (the API shows the same values). */
export const DATABASE_STATUSES = ['provisioning', 'ready', 'updating', 'deleting', 'failed'] as const;
export type DatabaseStatus = (typeof DATABASE_STATUSES)[number];

export interface OrgRecord {
  slug: string;
  name: string;
  type: 'personal' | 'shared';
  cachePassword: string;
  createdAt: string;
}

export interface TokenRecord {
  id: string;
  name: string;
  secretSha256: string;
  orgs: string[];
  /** 'user': may create organizations (and gains them); 'org': made for its organizations by
   *  POST /v1/orgs/{slug}/tokens, may never widen its scope. */
  scope: TokenScope;
  createdAt: string;
  /** When the token last authenticated a request (to the minute); null or absent: never. */
  lastUsedAt?: string | null;
}

export type TokenScope = 'user' | 'org';

export interface ProcessRecord {
  region: string;
  role: 'primary' | 'replica';
  port: number;
  /** The id of the host (HostRecord) the copy runs on; null or absent: this single host. */
  host?: string | null;
}

/** The roles a redfly host process plays: everything on one host, or split. */
export const HOST_ROLES = ['all', 'control', 'region'] as const;
export type HostRole = (typeof HOST_ROLES)[number];

/** One running redfly host, kept current by its own heartbeat (upsertHost). */
export interface HostRecord {
  /** Stable per host (kept in its REDFLY_HOME). */
  id: string;
  role: HostRole;
  /** The region a region host serves; null for control / all. */
  region: string | null;
  /** The host name clients and other hosts use (its --public-host). */
  address: string;
  /** control / all: its API URL; null for a region host. */
  apiUrl: string | null;
  gatewayPort: number | null;
  restPort: number | null;
  pid: number;
  /** ISO time of the host process's start. */
  startedAt: string;
  /** ISO time of the host's last heartbeat. */
  lastSeenAt: string;
  /** JSON: what actually runs on it (processes, versions), owned by the host. */
  report: unknown;
}

export interface DatabaseRecord {
  id: string;
  name: string;
  org: string;
  plan: string;
  primaryRegion: string;
  readRegions: string[];
  eviction: boolean;
  status: DatabaseStatus;
  statusMessage: string | null;
  password: string;
  /** REST API tokens: full and read-only (the hosted service's rest_token and
   *  read_only_rest_token). Rotated with the password; '' = none. */
  restToken: string;
  readOnlyRestToken: string;
  processes: ProcessRecord[];
  /** Set by the database's clients through the gateway; absent = none (src/gateway/acl.ts). */
  redisSettings?: RedisSettings;
  createdAt: string;
  updatedAt: string;
}

/** What a database's clients set in Redis itself that must survive a restart of its copies. */
export interface RedisSettings {
  /** `ACL LIST` lines of the database's own users (passwords as SHA-256 only). */
  aclUsers?: string[];
  /** CONFIG SET notify-keyspace-events (Redis's flag letters). */
  notifyKeyspaceEvents?: string;
}

export type DatabasePatch = Partial<
  Pick<DatabaseRecord, 'plan' | 'readRegions' | 'eviction' | 'status' | 'statusMessage' | 'password' | 'restToken' | 'readOnlyRestToken' | 'processes' | 'redisSettings'>
>;

export interface PageKey {
  createdAt: string;
  id: string;
}

export interface ListQuery {
  orgs: string[]; // only these organizations (a token's view); never empty in practice
  after?: PageKey;
  limit: number;
}

export interface IdempotencyRecord {
  requestSha256: string;
  databaseId: string;
}

/** What changed, announced right after the write (a missing record means it is gone).
 *  'all': changes may have been missed (a lost connection to the shared database): a cache
 *  of the records must reread them all. */
export type StoreChange =
  | {kind: 'database'; id: string}
  | {kind: 'org'; slug: string}
  | {kind: 'host'; id: string}
  | {kind: 'all'};
/** May return a promise: a write on this node resolves only after its listeners' promises
 *  settled (so a reset password stops working before the API answers); a listener's failure
 *  never fails the write. */
export type StoreListener = (change: StoreChange) => void | Promise<void>;

export interface Store {
  /** Calls `listener` after every write to a database or an organization, for caches of the
   *  records (the gateway's directory). Returns the unsubscribe function. */
  subscribe(listener: StoreListener): () => void;

  /** Throws SlugTakenError when an organization has that slug. */
  createOrg(org: OrgRecord, grantTokenId?: string): Promise<void>;
  getOrg(slug: string): Promise<OrgRecord | undefined>;
  listOrgs(slugs: string[]): Promise<OrgRecord[]>;
  /** Every organization (the data plane keeps their cache passwords in memory). */
  allOrgs(): Promise<OrgRecord[]>;

  createToken(token: TokenRecord): Promise<void>;
  findTokenBySecretHash(secretSha256: string): Promise<TokenRecord | undefined>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  /** The tokens with access to an organization, oldest first. */
  listTokens(org: string): Promise<TokenRecord[]>;
  /** Records a use at `at` (ISO time) unless one was recorded less than `minIntervalMs` before. */
  touchToken(id: string, at: string, minIntervalMs: number): Promise<void>;
  /** Deletes the token, its grants and its idempotency keys: it stops working at once. */
  deleteToken(id: string): Promise<void>;

  /** Writes the record, its processes and (when given) the idempotency key in one transaction.
   *  Throws NameTakenError when its organization has a database of that name. */
  insertDatabase(db: DatabaseRecord, idempotency?: {key: string; tokenId: string; requestSha256: string}): Promise<void>;
  getDatabase(id: string): Promise<DatabaseRecord | undefined>;
  /** The databases of that name in these organizations (names are unique per organization, so
   *  at most one per organization), ordered by organization slug. */
  findDatabasesByName(name: string, orgs: string[]): Promise<DatabaseRecord[]>;
  /** One page ordered by (createdAt, id); returns up to limit + 1 rows so the caller knows if more exist. */
  listDatabases(q: ListQuery): Promise<DatabaseRecord[]>;
  countDatabases(orgs: string[]): Promise<number>;
  allDatabases(): Promise<DatabaseRecord[]>;
  /** Returns the updated record, or undefined when it no longer exists. */
  updateDatabase(id: string, patch: DatabasePatch): Promise<DatabaseRecord | undefined>;
  deleteDatabase(id: string): Promise<void>;
  /** Whether the organization has a database of that name. */
  nameExists(org: string, name: string): Promise<boolean>;

  findIdempotency(key: string, tokenId: string): Promise<IdempotencyRecord | undefined>;

  /** Writes the host's record (a host's start and heartbeat); announces {kind: 'host'}. */
  upsertHost(host: HostRecord): Promise<void>;
  getHost(id: string): Promise<HostRecord | undefined>;
  /** Every host, ordered by role, region, address. */
  listHosts(): Promise<HostRecord[]>;
  deleteHost(id: string): Promise<void>;

  close(): Promise<void>;
}

export class NameTakenError extends Error {
  constructor(public readonly dbName: string) {
    super(`name ${dbName} is taken`);
  }
}

export class SlugTakenError extends Error {
  constructor(public readonly slug: string) {
    super(`organization ${slug} exists`);
  }
}
