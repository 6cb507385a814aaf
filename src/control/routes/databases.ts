import {Type} from '@sinclair/typebox';
import type {ApiApp, AppOptions} from '../app';
import type {DatabaseService} from '../databases';
import {badRequest} from '../errors';
import {
  CreateDatabaseRequest,
  errorResponses,
  IdOrNameParams,
  ListQuery,
  OrgQuery,
  UpdateDatabaseRequest,
} from '../schemas';
// Request types come from the schemas through the app's TypeBox type provider.

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({minLength: 1, maxLength: 255, description: 'a retried create with the same key and body returns the same database'}),
  ),
});

export function databaseRoutes(app: ApiApp, svc: DatabaseService, opts: AppOptions): void {
  const tags = ['databases'];

  app.get(
    '/v1/databases',
    {
      schema: {
        summary: 'List databases (keyset paging: pass nextCursor back as cursor)',
        tags,
        querystring: ListQuery,
        response: {200: Type.Ref('DatabaseList#'), ...errorResponses(400, 401, 404)},
      },
    },
    async (req) => {
      const q = req.query;
      const orgs = svc.visibleOrgs(req.token!, q.org);
      const limit = q.limit ?? 100;
      const rows = await opts.store.listDatabases({orgs, limit, after: q.cursor ? decodeCursor(q.cursor) : undefined});
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        databases: page.map((r) => svc.toWire(r)),
        nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
      };
    },
  );

  app.post(
    '/v1/databases',
    {
      schema: {
        summary: 'Create a database (asynchronous: poll until status is ready)',
        tags,
        headers: IdempotencyHeaders,
        body: CreateDatabaseRequest,
        response: {
          200: Type.Ref('Database#'),
          201: Type.Ref('Database#'),
          ...errorResponses(400, 401, 404, 409, 422, 429),
        },
      },
    },
    async (req, reply) => {
      const key = req.headers['idempotency-key'];
      const {db, replayed} = await svc.create(req.token!, req.body, key);
      reply.status(replayed ? 200 : 201);
      return svc.toWire(db);
    },
  );

  app.get(
    '/v1/databases/:idOrName',
    {
      schema: {
        summary: 'A database by id or name',
        tags,
        params: IdOrNameParams,
        querystring: OrgQuery,
        response: {200: Type.Ref('Database#'), ...errorResponses(401, 404, 409)},
      },
    },
    async (req) => svc.toWire(await svc.resolve(req.token!, req.params.idOrName, req.query.org)),
  );

  app.patch(
    '/v1/databases/:idOrName',
    {
      schema: {
        summary: 'Change read regions, plan or eviction (name and primary region are immutable: 422)',
        tags,
        params: IdOrNameParams,
        querystring: OrgQuery,
        body: UpdateDatabaseRequest,
        response: {200: Type.Ref('Database#'), ...errorResponses(400, 401, 404, 409, 422, 503)},
      },
    },
    async (req) => {
      const rec = await svc.update(req.token!, req.params.idOrName, req.body, req.query.org);
      return svc.toWire(rec);
    },
  );

  app.delete(
    '/v1/databases/:idOrName',
    {
      schema: {
        summary: 'Delete a database: its processes stop, its data is removed, then the record is gone',
        tags,
        params: IdOrNameParams,
        querystring: OrgQuery,
        response: {202: Type.Ref('Database#'), ...errorResponses(401, 404, 409)},
      },
    },
    async (req, reply) => {
      const rec = await svc.remove(req.token!, req.params.idOrName, req.query.org);
      reply.status(202);
      return svc.toWire(rec);
    },
  );

  app.post(
    '/v1/databases/:idOrName/reset-password',
    {
      schema: {
        summary: 'Replace the password: the old one stops working at once',
        tags,
        params: IdOrNameParams,
        querystring: OrgQuery,
        response: {200: Type.Ref('Database#'), ...errorResponses(401, 404, 409, 422, 503)},
      },
    },
    async (req) => svc.toWire(await svc.resetPassword(req.token!, req.params.idOrName, req.query.org)),
  );

  app.get(
    '/v1/databases/:idOrName/stats',
    {
      schema: {
        summary: "Usage against the plan's limits, and replication lag per read region",
        tags,
        params: IdOrNameParams,
        querystring: OrgQuery,
        response: {200: Type.Ref('DatabaseStats#'), ...errorResponses(401, 404, 409, 503)},
      },
    },
    async (req) => {
      const rec = await svc.resolve(req.token!, req.params.idOrName, req.query.org);
      return opts.dataPlane.stats(rec);
    },
  );
}

// The cursor is opaque to clients: base64url of the last row's sort key.
function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): {createdAt: string; id: string} {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string') return {createdAt, id};
  } catch {
    // fall through
  }
  throw badRequest('invalid cursor: pass the nextCursor of a previous page unchanged');
}
