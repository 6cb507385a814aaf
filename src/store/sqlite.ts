import Database from 'better-sqlite3';
import {chmodSync} from 'node:fs';
import {
  DatabasePatch,
  DatabaseRecord,
  IdempotencyRecord,
  ListQuery,
  NameTakenError,
  OrgRecord,
  ProcessRecord,
  Store,
  StoreChange,
  StoreListener,
  RedisSettings,
  TokenRecord,
} from './types';
import {migrate} from './migrate';

export {migrate} from './migrate';

interface DbRow {
  id: string;
  name: string;
  org_slug: string;
  plan: string;
  primary_region: string;
  read_regions: string;
  eviction: number;
  status: DatabaseRecord['status'];
  status_message: string | null;
  password: string;
  rest_token: string;
  read_only_rest_token: string;
  redis_settings?: string;
  created_at: string;
  updated_at: string;
}

interface TokenRow {
  id: string;
  name: string;
  secret_sha256: string;
  scope: TokenRecord['scope'];
  created_at: string;
  last_used_at: string | null;
}

interface ProcRow {
  database_id: string;
  region: string;
  role: 'primary' | 'replica';
  port: number;
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly listeners = new Set<StoreListener>();

  constructor(file: string) {
    this.db = new Database(file);
    // database passwords are in here: owner only (the WAL files inherit this mode)
    if (file !== ':memory:') chmodSync(file, 0o600);
    // WAL lets readers (bench, status tools) run beside the server's writer.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // Deleted and overwritten content (an old password) is zeroed, not left in free pages.
    this.db.pragma('secure_delete = ON');
    migrate(this.db);
    const d = this.db;
    this.stmts = {
      insertOrg: d.prepare(
        'INSERT INTO organizations (slug, name, type, cache_password, created_at) VALUES (@slug, @name, @type, @cachePassword, @createdAt)',
      ),
      getOrg: d.prepare('SELECT * FROM organizations WHERE slug = ?'),
      grant: d.prepare('INSERT OR IGNORE INTO token_orgs (token_id, org_slug) VALUES (?, ?)'),
      insertToken: d.prepare(
        'INSERT INTO tokens (id, name, secret_sha256, scope, created_at) VALUES (@id, @name, @secretSha256, @scope, @createdAt)',
      ),
      tokenByHash: d.prepare('SELECT * FROM tokens WHERE secret_sha256 = ?'),
      tokenById: d.prepare('SELECT * FROM tokens WHERE id = ?'),
      tokensOfOrg: d.prepare(
        'SELECT t.* FROM tokens t JOIN token_orgs o ON o.token_id = t.id WHERE o.org_slug = ? ORDER BY t.created_at, t.id',
      ),
      touchToken: d.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)'),
      deleteToken: d.prepare('DELETE FROM tokens WHERE id = ?'),
      tokenOrgs: d.prepare('SELECT org_slug FROM token_orgs WHERE token_id = ? ORDER BY org_slug'),
      insertDb: d.prepare(`INSERT INTO databases (id, name, org_slug, plan, primary_region, read_regions, eviction,
          status, status_message, password, rest_token, read_only_rest_token, created_at, updated_at)
        VALUES (@id, @name, @org, @plan, @primaryRegion, @readRegions, @eviction, @status, @statusMessage, @password,
          @restToken, @readOnlyRestToken, @createdAt, @updatedAt)`),
      insertProc: d.prepare('INSERT INTO database_processes (database_id, region, role, port) VALUES (?, ?, ?, ?)'),
      deleteProcs: d.prepare('DELETE FROM database_processes WHERE database_id = ?'),
      procsOf: d.prepare('SELECT * FROM database_processes WHERE database_id = ? ORDER BY role, region'),
      getDb: d.prepare('SELECT * FROM databases WHERE id = ?'),
      nameExists: d.prepare('SELECT 1 FROM databases WHERE org_slug = ? AND name = ?'),
      allDbs: d.prepare('SELECT * FROM databases ORDER BY created_at, id'),
      allProcs: d.prepare('SELECT * FROM database_processes'),
      deleteDb: d.prepare('DELETE FROM databases WHERE id = ?'),
      insertIdem: d.prepare(
        'INSERT INTO idempotency_keys (key, token_id, request_sha256, database_id, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      findIdem: d.prepare('SELECT request_sha256, database_id FROM idempotency_keys WHERE key = ? AND token_id = ?'),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every subscriber, after the write; a subscriber's failure does not undo the write. */
  private announce(change: StoreChange): void {
    for (const listener of this.listeners) listener(change);
  }

  createOrg(org: OrgRecord, grantTokenId?: string): void {
    this.transaction(() => {
      this.stmts.insertOrg.run(org);
      if (grantTokenId) this.stmts.grant.run(grantTokenId, org.slug);
    });
    this.announce({kind: 'org', slug: org.slug});
  }

  getOrg(slug: string): OrgRecord | undefined {
    const row = this.stmts.getOrg.get(slug) as
      | {slug: string; name: string; type: OrgRecord['type']; cache_password: string; created_at: string}
      | undefined;
    return row && {slug: row.slug, name: row.name, type: row.type, cachePassword: row.cache_password, createdAt: row.created_at};
  }

  listOrgs(slugs: string[]): OrgRecord[] {
    return slugs.map((s) => this.getOrg(s)).filter((o): o is OrgRecord => o !== undefined);
  }

  allOrgs(): OrgRecord[] {
    const rows = this.db.prepare('SELECT slug FROM organizations ORDER BY slug').all() as {slug: string}[];
    return this.listOrgs(rows.map((r) => r.slug));
  }

  createToken(token: TokenRecord): void {
    this.transaction(() => {
      this.stmts.insertToken.run({
        id: token.id,
        name: token.name,
        secretSha256: token.secretSha256,
        scope: token.scope,
        createdAt: token.createdAt,
      });
      for (const org of token.orgs) this.stmts.grant.run(token.id, org);
    });
  }

  findTokenBySecretHash(secretSha256: string): TokenRecord | undefined {
    const row = this.stmts.tokenByHash.get(secretSha256) as TokenRow | undefined;
    return row && this.hydrateToken(row);
  }

  getToken(id: string): TokenRecord | undefined {
    const row = this.stmts.tokenById.get(id) as TokenRow | undefined;
    return row && this.hydrateToken(row);
  }

  listTokens(org: string): TokenRecord[] {
    return (this.stmts.tokensOfOrg.all(org) as TokenRow[]).map((r) => this.hydrateToken(r));
  }

  touchToken(id: string, at: string, minIntervalMs: number): void {
    const before = new Date(Date.parse(at) - minIntervalMs).toISOString();
    this.stmts.touchToken.run(at, id, before);
  }

  deleteToken(id: string): void {
    // grants and idempotency keys go with it (ON DELETE CASCADE)
    this.stmts.deleteToken.run(id);
  }

  private hydrateToken(row: TokenRow): TokenRecord {
    const orgs = (this.stmts.tokenOrgs.all(row.id) as {org_slug: string}[]).map((r) => r.org_slug);
    return {
      id: row.id,
      name: row.name,
      secretSha256: row.secret_sha256,
      orgs,
      scope: row.scope,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
    };
  }

  insertDatabase(db: DatabaseRecord, idem?: {key: string; tokenId: string; requestSha256: string}): void {
    try {
      this.transaction(() => {
        this.stmts.insertDb.run({
          ...db,
          readRegions: JSON.stringify(db.readRegions),
          eviction: db.eviction ? 1 : 0,
          restToken: db.restToken ?? '',
          readOnlyRestToken: db.readOnlyRestToken ?? '',
        });
        for (const p of db.processes) this.stmts.insertProc.run(db.id, p.region, p.role, p.port);
        if (idem) this.stmts.insertIdem.run(idem.key, idem.tokenId, idem.requestSha256, db.id, db.createdAt);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'databases.name')) throw new NameTakenError(db.name);
      throw err;
    }
    this.announce({kind: 'database', id: db.id});
  }

  getDatabase(id: string): DatabaseRecord | undefined {
    const row = this.stmts.getDb.get(id) as DbRow | undefined;
    return row && this.hydrate(row, this.stmts.procsOf.all(row.id) as ProcRow[]);
  }

  findDatabasesByName(name: string, orgs: string[]): DatabaseRecord[] {
    if (orgs.length === 0) return [];
    const rows = this.db
      .prepare(`SELECT * FROM databases WHERE name = ? AND org_slug IN (${orgs.map(() => '?').join(',')}) ORDER BY org_slug`)
      .all(name, ...orgs) as DbRow[];
    return rows.map((r) => this.hydrate(r, this.stmts.procsOf.all(r.id) as ProcRow[]));
  }

  nameExists(org: string, name: string): boolean {
    return this.stmts.nameExists.get(org, name) !== undefined;
  }

  listDatabases(q: ListQuery): DatabaseRecord[] {
    if (q.orgs.length === 0) return [];
    const params: unknown[] = [];
    let where: string;
    if (q.orgs.length === 1) {
      // Equality on org lets SQLite walk databases_page_by_org in order: no sort, no scan.
      where = 'org_slug = ?';
      params.push(q.orgs[0]);
    } else {
      where = `org_slug IN (${q.orgs.map(() => '?').join(',')})`;
      params.push(...q.orgs);
    }
    if (q.after) {
      where += ' AND (created_at, id) > (?, ?)';
      params.push(q.after.createdAt, q.after.id);
    }
    params.push(q.limit + 1);
    const rows = this.db
      .prepare(`SELECT * FROM databases WHERE ${where} ORDER BY created_at, id LIMIT ?`)
      .all(...params) as DbRow[];
    if (rows.length === 0) return [];
    const procs = this.db
      .prepare(`SELECT * FROM database_processes WHERE database_id IN (${rows.map(() => '?').join(',')})`)
      .all(...rows.map((r) => r.id)) as ProcRow[];
    const byDb = groupProcs(procs);
    return rows.map((r) => this.hydrate(r, byDb.get(r.id) ?? []));
  }

  countDatabases(orgs: string[]): number {
    if (orgs.length === 0) return 0;
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM databases WHERE org_slug IN (${orgs.map(() => '?').join(',')})`)
      .get(...orgs) as {n: number};
    return row.n;
  }

  allDatabases(): DatabaseRecord[] {
    const byDb = groupProcs(this.stmts.allProcs.all() as ProcRow[]);
    return (this.stmts.allDbs.all() as DbRow[]).map((r) => this.hydrate(r, byDb.get(r.id) ?? []));
  }

  updateDatabase(id: string, patch: DatabasePatch): DatabaseRecord | undefined {
    const updated = this.transaction(() => {
      const current = this.getDatabase(id);
      if (!current) return undefined;
      const next: DatabaseRecord = {...current, ...patch, updatedAt: new Date().toISOString()};
      this.db
        .prepare(
          `UPDATE databases SET plan = ?, read_regions = ?, eviction = ?, status = ?, status_message = ?, password = ?,
             rest_token = ?, read_only_rest_token = ?, redis_settings = ?, updated_at = ? WHERE id = ?`,
        )
        .run(
          next.plan,
          JSON.stringify(next.readRegions),
          next.eviction ? 1 : 0,
          next.status,
          next.statusMessage,
          next.password,
          next.restToken,
          next.readOnlyRestToken,
          JSON.stringify(next.redisSettings ?? {}),
          next.updatedAt,
          id,
        );
      if (patch.processes) {
        this.stmts.deleteProcs.run(id);
        for (const p of patch.processes) this.stmts.insertProc.run(id, p.region, p.role, p.port);
      }
      return next;
    });
    this.announce({kind: 'database', id});
    // A reset password must be gone from the disk, not only from the table: the WAL still holds
    // the page as it was until it is checkpointed and truncated.
    if (patch.password !== undefined && !this.db.inTransaction) this.purgeWal();
    return updated;
  }

  private purgeWal(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // a reader holds the WAL: the next checkpoint overwrites it
    }
  }

  deleteDatabase(id: string): void {
    // processes and idempotency keys go with it (ON DELETE CASCADE)
    this.stmts.deleteDb.run(id);
    this.announce({kind: 'database', id});
  }

  findIdempotency(key: string, tokenId: string): IdempotencyRecord | undefined {
    const row = this.stmts.findIdem.get(key, tokenId) as {request_sha256: string; database_id: string} | undefined;
    return row && {requestSha256: row.request_sha256, databaseId: row.database_id};
  }

  private hydrate(row: DbRow, procs: ProcRow[]): DatabaseRecord {
    const processes: ProcessRecord[] = procs
      .map((p) => ({region: p.region, role: p.role, port: p.port}))
      .sort((a, b) => (a.role === b.role ? a.region.localeCompare(b.region) : a.role === 'primary' ? -1 : 1));
    return {
      id: row.id,
      name: row.name,
      org: row.org_slug,
      plan: row.plan,
      primaryRegion: row.primary_region,
      readRegions: JSON.parse(row.read_regions) as string[],
      eviction: row.eviction === 1,
      status: row.status,
      statusMessage: row.status_message,
      password: row.password,
      restToken: row.rest_token,
      readOnlyRestToken: row.read_only_rest_token,
      processes,
      ...(row.redis_settings !== undefined && row.redis_settings !== '{}'
        ? {redisSettings: JSON.parse(row.redis_settings) as RedisSettings}
        : {}),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }
}

function groupProcs(procs: ProcRow[]): Map<string, ProcRow[]> {
  const byDb = new Map<string, ProcRow[]>();
  for (const p of procs) {
    const list = byDb.get(p.database_id);
    if (list) list.push(p);
    else byDb.set(p.database_id, [p]);
  }
  return byDb;
}

function isUniqueViolation(err: unknown, column: string): boolean {
  const e = err as {code?: string; message?: string};
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' && (e.message ?? '').includes(column);
}
