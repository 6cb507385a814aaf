// The dashboard, served by the API: POST /v1/dashboard/links (bearer token) makes a one-time
// login link; GET /dashboard/login/{code} trades it for a session cookie and redirects to the
// page; the pages poll /dashboard/data/... (cookie) every second. Assets, uPlot included, come
// from this server (node_modules/uplot), never from a CDN.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {Type} from '@sinclair/typebox';
import type {FastifyReply, FastifyRequest} from 'fastify';
import type {Store, TokenRecord} from '../../store';
import type {ApiApp} from '../app';
import type {Catalogue} from '../catalogue';
import type {DataPlane} from '../dataplane';
import type {DatabaseService} from '../databases';
import {ApiError, badRequest, notFound} from '../errors';
import {errorResponses} from '../schemas';
import {dashboardPage, loginFailedPage} from './page';
import {DashboardSessions, DashboardTarget} from './sessions';

export interface DashboardOptions {
  store: Store;
  catalogue: Catalogue;
  dataPlane: DataPlane;
  databases: DatabaseService;
}

const COOKIE = 'redfly_dashboard';

const ASSETS: Record<string, {file: () => string; type: string}> = {
  'uPlot.iife.min.js': {file: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8'},
  'uPlot.min.css': {file: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8'},
  'dashboard.js': {file: () => join(__dirname, 'assets', 'dashboard.js'), type: 'text/javascript; charset=utf-8'},
  'dashboard.css': {file: () => join(__dirname, 'assets', 'dashboard.css'), type: 'text/css; charset=utf-8'},
};

const LinkRequest = Type.Object(
  {
    database: Type.Optional(Type.String({minLength: 1, maxLength: 200, description: 'id or name: that database\'s page'})),
    org: Type.Optional(Type.String({minLength: 1, maxLength: 200, description: "slug: the organization's page"})),
  },
  {additionalProperties: false},
);
const LinkResponse = Type.Object({
  url: Type.String({description: 'open once, within expiresAt; it logs the browser in'}),
  path: Type.String(),
  expiresAt: Type.String({format: 'date-time'}),
});

/** The link route, inside the bearer-token scope. */
export function dashboardLinkRoute(app: ApiApp, opts: DashboardOptions, sessions: DashboardSessions): void {
  app.post(
    '/v1/dashboard/links',
    {
      schema: {
        summary: 'A one-time login link to the dashboard of a database or an organization',
        description: 'The link carries a one-time code (never the access token) and expires after two minutes.',
        tags: ['dashboard'],
        body: LinkRequest,
        response: {201: LinkResponse, ...errorResponses(400, 401, 404)},
      },
    },
    async (req, reply) => {
      const {database, org} = req.body;
      if ((database === undefined) === (org === undefined)) throw badRequest('give exactly one of "database" and "org"');
      let target: DashboardTarget;
      if (database !== undefined) {
        target = {kind: 'database', name: (await opts.databases.resolve(req.token!, database)).name};
      } else {
        opts.databases.visibleOrgs(req.token!, org);
        target = {kind: 'org', slug: org!};
      }
      const link = sessions.createLink(req.token!.id, target);
      const path = `/dashboard/login/${link.code}`;
      reply.status(201);
      return {url: `${req.protocol}://${req.host}${path}`, path, expiresAt: link.expiresAt.toISOString()};
    },
  );
}

/** The pages, their data and assets: outside the bearer scope, behind the session cookie. */
export async function dashboardRoutes(app: ApiApp, opts: DashboardOptions & {sessions: DashboardSessions}): Promise<void> {
  const {sessions, store, databases, catalogue, dataPlane} = opts;
  const hide = {schema: {hide: true}};

  /** The session's token, looked up again (revoked: gone); else a 401 page or error. */
  const tokenOf = async (req: FastifyRequest): Promise<TokenRecord | undefined> => {
    const id = sessions.tokenOf(cookie(req.headers.cookie, COOKIE));
    return id ? store.getToken(id) : undefined;
  };
  const refuseHtml = (reply: FastifyReply) =>
    reply.status(401).type('text/html; charset=utf-8').send(loginFailedPage('You are not logged in to the dashboard, or your session ended.'));
  const requireToken = async (req: FastifyRequest): Promise<TokenRecord> => {
    const t = await tokenOf(req);
    if (!t) throw new ApiError(401, 'unauthorized', 'no dashboard session: open a new link from `redfly redis dashboard`');
    return t;
  };

  app.get<{Params: {code: string}}>('/dashboard/login/:code', hide, async (req, reply) => {
    const done = sessions.redeem(req.params.code);
    if (!done) {
      return reply
        .status(401)
        .type('text/html; charset=utf-8')
        .send(loginFailedPage('This link has expired or has been used already; a link opens once, within two minutes.'));
    }
    const secure = req.protocol === 'https' ? '; Secure' : '';
    void reply.header('set-cookie', `${COOKIE}=${done.sessionId}; Path=/dashboard; HttpOnly; SameSite=Lax${secure}`);
    void reply.header('cache-control', 'no-store');
    return reply.redirect(pagePath(done.target), 303);
  });

  app.get<{Params: {name: string}}>('/dashboard/databases/:name', hide, async (req, reply) => {
    if (!(await tokenOf(req))) return refuseHtml(reply);
    return reply.type('text/html; charset=utf-8').send(dashboardPage({kind: 'database', name: req.params.name}));
  });
  app.get<{Params: {slug: string}}>('/dashboard/orgs/:slug', hide, async (req, reply) => {
    if (!(await tokenOf(req))) return refuseHtml(reply);
    return reply.type('text/html; charset=utf-8').send(dashboardPage({kind: 'org', slug: req.params.slug}));
  });

  app.get<{Params: {name: string}}>('/dashboard/data/databases/:name', hide, async (req) => {
    const token = await requireToken(req);
    const rec = await databases.resolve(token, req.params.name);
    const wire = databases.toWire(rec);
    const stats = await dataPlane.stats(rec).catch(() => null);
    return {
      at: new Date().toISOString(),
      // no URLs: they carry the password, and the page has no use for it
      database: {
        id: wire.id,
        name: wire.name,
        org: wire.org,
        plan: wire.plan,
        primaryRegion: wire.primaryRegion,
        readRegions: wire.readRegions,
        eviction: wire.eviction,
        status: wire.status,
        statusMessage: wire.statusMessage ?? null,
        processes: wire.processes ?? [],
        createdAt: wire.createdAt,
      },
      plan: catalogue.plan(rec.plan) ?? null,
      stats,
      events: databases.events.recent(rec.id),
    };
  });

  app.get<{Params: {slug: string}}>('/dashboard/data/orgs/:slug', hide, async (req) => {
    const token = await requireToken(req);
    const [slug] = databases.visibleOrgs(token, req.params.slug);
    const org = await store.getOrg(slug);
    if (!org) throw notFound(`organization ${slug}`);
    const recs = (await store.allDatabases()).filter((d) => d.org === slug);
    const rows = await Promise.all(
      recs.map(async (rec) => ({
        name: rec.name,
        status: rec.status,
        plan: rec.plan,
        primaryRegion: rec.primaryRegion,
        readRegions: rec.readRegions,
        stats: await dataPlane.stats(rec).catch(() => null),
      })),
    );
    return {at: new Date().toISOString(), org: {slug: org.slug, name: org.name}, databases: rows};
  });

  const cache = new Map<string, Buffer>();
  app.get<{Params: {file: string}}>('/dashboard/assets/:file', hide, async (req, reply) => {
    const asset = Object.hasOwn(ASSETS, req.params.file) ? ASSETS[req.params.file] : undefined;
    if (!asset) throw new ApiError(404, 'not_found', `no asset ${req.params.file}`);
    let body = cache.get(req.params.file);
    if (!body) {
      body = readFileSync(asset.file());
      cache.set(req.params.file, body);
    }
    return reply.type(asset.type).header('cache-control', 'no-cache').send(body);
  });
}

function pagePath(t: DashboardTarget): string {
  return t.kind === 'database' ? `/dashboard/databases/${encodeURIComponent(t.name)}` : `/dashboard/orgs/${encodeURIComponent(t.slug)}`;
}

/** One cookie's value from a Cookie header. */
function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
