// The control plane's records, behind one small interface so that another backend (Postgres
// for several control-plane nodes) can be added without touching the routes. Every method is
// synchronous because the SQLite backend is; a networked backend would make them async, which
// is a mechanical change for the callers in src/control.

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

/** What changed, announced right after the write (a missing record means it is gone). */
export type StoreChange = {kind: 'database'; id: string} | {kind: 'org'; slug: string};
export type StoreListener = (change: StoreChange) => void;

export interface Store {
  /** Calls `listener` after every write to a database or an organization, for caches of the
   *  records (the gateway's directory). Returns the unsubscribe function. */
  subscribe(listener: StoreListener): () => void;

  createOrg(org: OrgRecord, grantTokenId?: string): void;
  getOrg(slug: string): OrgRecord | undefined;
  listOrgs(slugs: string[]): OrgRecord[];
  /** Every organization (the data plane keeps their cache passwords in memory). */
  allOrgs(): OrgRecord[];

  createToken(token: TokenRecord): void;
  findTokenBySecretHash(secretSha256: string): TokenRecord | undefined;
  getToken(id: string): TokenRecord | undefined;
  /** The tokens with access to an organization, oldest first. */
  listTokens(org: string): TokenRecord[];
  /** Records a use at `at` (ISO time) unless one was recorded less than `minIntervalMs` before. */
  touchToken(id: string, at: string, minIntervalMs: number): void;
  /** Deletes the token, its grants and its idempotency keys: it stops working at once. */
  deleteToken(id: string): void;

  /** Writes the record, its processes and (when given) the idempotency key in one transaction.
   *  Throws NameTakenError when its organization has a database of that name. */
  insertDatabase(db: DatabaseRecord, idempotency?: {key: string; tokenId: string; requestSha256: string}): void;
  getDatabase(id: string): DatabaseRecord | undefined;
  /** The databases of that name in these organizations (names are unique per organization, so
   *  at most one per organization), ordered by organization slug. */
  findDatabasesByName(name: string, orgs: string[]): DatabaseRecord[];
  /** One page ordered by (createdAt, id); returns up to limit + 1 rows so the caller knows if more exist. */
  listDatabases(q: ListQuery): DatabaseRecord[];
  countDatabases(orgs: string[]): number;
  allDatabases(): DatabaseRecord[];
  /** Returns the updated record, or undefined when it no longer exists. */
  updateDatabase(id: string, patch: DatabasePatch): DatabaseRecord | undefined;
  deleteDatabase(id: string): void;
  /** Whether the organization has a database of that name. */
  nameExists(org: string, name: string): boolean;

  findIdempotency(key: string, tokenId: string): IdempotencyRecord | undefined;

  /** Runs fn in one transaction (bulk inserts, multi-row changes). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export class NameTakenError extends Error {
  constructor(public readonly dbName: string) {
    super(`name ${dbName} is taken`);
  }
}
