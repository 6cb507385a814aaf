import Database from 'better-sqlite3';
import {chmodSync} from 'node:fs';
import {
  DatabasePatch,
  DatabaseRecord,
  HostRecord,
  IdempotencyRecord,
  ListQuery,
  NameTakenError,
  OrgRecord,
  ProcessRecord,
  SlugTakenError,
  Store,
  StoreChange,
  StoreListener,
  TokenRecord,
} from './types';
import {migrate} from './migrate';
import {
  databaseColumns,
  DbRow,
  groupProcs,
  HOSTS_ORDER,
  HostRow,
  hostValues,
  hydrateDatabase,
  hydrateHost,
  hydrateOrg,
  hydrateToken,
  OrgRow,
  ProcRow,
  TokenRow,
} from './rows';
import {announceTo} from './announce';

export {migrate} from './migrate';

/** The records in one SQLite file (better-sqlite3, synchronous underneath: a method has done
 *  its reads and writes before it returns its promise; a write's promise then waits for the
 *  listeners). One process owns the file: changes made by another process are not announced. */
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
          status, status_message, password, rest_token, read_only_rest_token, redis_settings, created_at, updated_at)
        VALUES (@id, @name, @org, @plan, @primaryRegion, @readRegions, @eviction, @status, @statusMessage, @password,
          @restToken, @readOnlyRestToken, @redisSettings, @createdAt, @updatedAt)`),
      insertProc: d.prepare('INSERT INTO database_processes (database_id, region, role, port, host) VALUES (?, ?, ?, ?, ?)'),
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
      upsertHost: d.prepare(`INSERT INTO hosts (id, role, region, address, api_url, gateway_port, rest_port, pid, started_at, last_seen_at, report)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET role = excluded.role, region = excluded.region, address = excluded.address,
          api_url = excluded.api_url, gateway_port = excluded.gateway_port, rest_port = excluded.rest_port, pid = excluded.pid,
          started_at = excluded.started_at, last_seen_at = excluded.last_seen_at, report = excluded.report`),
      getHost: d.prepare('SELECT * FROM hosts WHERE id = ?'),
      listHosts: d.prepare(`SELECT * FROM hosts ${HOSTS_ORDER}`),
      deleteHost: d.prepare('DELETE FROM hosts WHERE id = ?'),
    };
  }

  private transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  async close(): Promise<void> {
    this.db.close();
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every subscriber, after the write; a subscriber's failure does not undo the write. */
  private announce(change: StoreChange): Promise<void> {
    return announceTo(this.listeners, change);
  }

  async createOrg(org: OrgRecord, grantTokenId?: string): Promise<void> {
    try {
      this.transaction(() => {
        this.stmts.insertOrg.run(org);
        if (grantTokenId) this.stmts.grant.run(grantTokenId, org.slug);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'organizations.slug')) throw new SlugTakenError(org.slug);
      throw err;
    }
    await this.announce({kind: 'org', slug: org.slug});
  }

  async getOrg(slug: string): Promise<OrgRecord | undefined> {
    return this.orgNow(slug);
  }

  private orgNow(slug: string): OrgRecord | undefined {
    const row = this.stmts.getOrg.get(slug) as OrgRow | undefined;
    return row && hydrateOrg(row);
  }

  async listOrgs(slugs: string[]): Promise<OrgRecord[]> {
    return slugs.map((s) => this.orgNow(s)).filter((o): o is OrgRecord => o !== undefined);
  }

  async allOrgs(): Promise<OrgRecord[]> {
    return (this.db.prepare('SELECT * FROM organizations ORDER BY slug').all() as OrgRow[]).map(hydrateOrg);
  }

  async createToken(token: TokenRecord): Promise<void> {
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

  async findTokenBySecretHash(secretSha256: string): Promise<TokenRecord | undefined> {
    const row = this.stmts.tokenByHash.get(secretSha256) as TokenRow | undefined;
    return row && this.hydrateToken(row);
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    const row = this.stmts.tokenById.get(id) as TokenRow | undefined;
    return row && this.hydrateToken(row);
  }

  async listTokens(org: string): Promise<TokenRecord[]> {
    return (this.stmts.tokensOfOrg.all(org) as TokenRow[]).map((r) => this.hydrateToken(r));
  }

  async touchToken(id: string, at: string, minIntervalMs: number): Promise<void> {
    const before = new Date(Date.parse(at) - minIntervalMs).toISOString();
    this.stmts.touchToken.run(at, id, before);
  }

  async deleteToken(id: string): Promise<void> {
    // grants and idempotency keys go with it (ON DELETE CASCADE)
    this.stmts.deleteToken.run(id);
  }

  private hydrateToken(row: TokenRow): TokenRecord {
    return hydrateToken(row, (this.stmts.tokenOrgs.all(row.id) as {org_slug: string}[]).map((r) => r.org_slug));
  }

  async insertDatabase(db: DatabaseRecord, idem?: {key: string; tokenId: string; requestSha256: string}): Promise<void> {
    try {
      this.transaction(() => {
        this.stmts.insertDb.run({...databaseColumns(db), eviction: db.eviction ? 1 : 0});
        this.insertProcs(db.id, db.processes);
        if (idem) this.stmts.insertIdem.run(idem.key, idem.tokenId, idem.requestSha256, db.id, db.createdAt);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'databases.name')) throw new NameTakenError(db.name);
      throw err;
    }
    await this.announce({kind: 'database', id: db.id});
  }

  private insertProcs(id: string, procs: ProcessRecord[]): void {
    for (const p of procs) this.stmts.insertProc.run(id, p.region, p.role, p.port, p.host ?? null);
  }

  async getDatabase(id: string): Promise<DatabaseRecord | undefined> {
    return this.databaseNow(id);
  }

  private databaseNow(id: string): DatabaseRecord | undefined {
    const row = this.stmts.getDb.get(id) as DbRow | undefined;
    return row && hydrateDatabase(row, this.stmts.procsOf.all(row.id) as ProcRow[]);
  }

  async findDatabasesByName(name: string, orgs: string[]): Promise<DatabaseRecord[]> {
    if (orgs.length === 0) return [];
    const rows = this.db
      .prepare(`SELECT * FROM databases WHERE name = ? AND org_slug IN (${orgs.map(() => '?').join(',')}) ORDER BY org_slug`)
      .all(name, ...orgs) as DbRow[];
    return rows.map((r) => hydrateDatabase(r, this.stmts.procsOf.all(r.id) as ProcRow[]));
  }

  async nameExists(org: string, name: string): Promise<boolean> {
    return this.stmts.nameExists.get(org, name) !== undefined;
  }

  async listDatabases(q: ListQuery): Promise<DatabaseRecord[]> {
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
    return rows.map((r) => hydrateDatabase(r, byDb.get(r.id) ?? []));
  }

  async countDatabases(orgs: string[]): Promise<number> {
    if (orgs.length === 0) return 0;
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM databases WHERE org_slug IN (${orgs.map(() => '?').join(',')})`)
      .get(...orgs) as {n: number};
    return row.n;
  }

  async allDatabases(): Promise<DatabaseRecord[]> {
    const byDb = groupProcs(this.stmts.allProcs.all() as ProcRow[]);
    return (this.stmts.allDbs.all() as DbRow[]).map((r) => hydrateDatabase(r, byDb.get(r.id) ?? []));
  }

  async updateDatabase(id: string, patch: DatabasePatch): Promise<DatabaseRecord | undefined> {
    const updated = this.transaction(() => {
      const current = this.databaseNow(id);
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
        this.insertProcs(id, patch.processes);
      }
      return next;
    });
    await this.announce({kind: 'database', id});
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

  async deleteDatabase(id: string): Promise<void> {
    // processes and idempotency keys go with it (ON DELETE CASCADE)
    this.stmts.deleteDb.run(id);
    await this.announce({kind: 'database', id});
  }

  async findIdempotency(key: string, tokenId: string): Promise<IdempotencyRecord | undefined> {
    const row = this.stmts.findIdem.get(key, tokenId) as {request_sha256: string; database_id: string} | undefined;
    return row && {requestSha256: row.request_sha256, databaseId: row.database_id};
  }

  async upsertHost(host: HostRecord): Promise<void> {
    this.stmts.upsertHost.run(...hostValues(host));
    await this.announce({kind: 'host', id: host.id});
  }

  async getHost(id: string): Promise<HostRecord | undefined> {
    const row = this.stmts.getHost.get(id) as HostRow | undefined;
    return row && hydrateHost(row);
  }

  async listHosts(): Promise<HostRecord[]> {
    return (this.stmts.listHosts.all() as HostRow[]).map(hydrateHost);
  }

  async deleteHost(id: string): Promise<void> {
    this.stmts.deleteHost.run(id);
    await this.announce({kind: 'host', id});
  }

}

function isUniqueViolation(err: unknown, column: string): boolean {
  const e = err as {code?: string; message?: string};
  return (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') && (e.message ?? '').includes(column);
}
