// Access tokens: created for one organization (the secret is shown once), listed per
// organization with their creation and last-use times, and revoked by id. Authentication reads
// the store on every request, so a revoked token is refused from the next request on.
import {Type} from '@sinclair/typebox';
import type {ApiApp} from '../app';
import type {Store, TokenRecord} from '../../store';
import {ApiError, notFound} from '../errors';
import {newOrgTokenSecret, newTokenId, sha256} from '../ids';
import {CreateTokenRequest, errorResponses, SlugParams, TokenParams} from '../schemas';

/** A token as the API shows it: never its secret (only creation returns that, once). */
const tokenWire = (t: TokenRecord) => ({
  id: t.id,
  name: t.name,
  orgs: t.orgs,
  createdAt: t.createdAt,
  lastUsedAt: t.lastUsedAt ?? null,
});

export function tokenRoutes(app: ApiApp, store: Store): void {
  app.get(
    '/v1/orgs/:slug/tokens',
    {
      schema: {
        summary: 'The access tokens of an organization (no secrets), oldest first',
        tags: ['auth'],
        params: SlugParams,
        response: {200: Type.Array(Type.Ref('Token#')), ...errorResponses(401, 404)},
      },
    },
    async (req) => {
      const {slug} = req.params;
      if (!req.token!.orgs.includes(slug)) throw notFound(`organization ${slug}`);
      return (await store.listTokens(slug)).map(tokenWire);
    },
  );

  app.post(
    '/v1/orgs/:slug/tokens',
    {
      schema: {
        summary: 'Create an access token scoped to one organization (the secret is shown once)',
        tags: ['auth'],
        params: SlugParams,
        body: Type.Optional(CreateTokenRequest),
        response: {201: Type.Ref('Token#'), ...errorResponses(400, 401, 404)},
      },
    },
    async (req, reply) => {
      const {slug} = req.params;
      if (!req.token!.orgs.includes(slug)) throw notFound(`organization ${slug}`);
      const body = req.body ?? {};
      // scope 'org': it can never widen itself to another organization (issue 10); rfo_ labels the secret
      const secret = newOrgTokenSecret();
      const token: TokenRecord = {
        id: newTokenId(),
        name: body.name ?? `${slug} token`,
        secretSha256: sha256(secret),
        orgs: [slug],
        scope: 'org',
        createdAt: new Date().toISOString(),
        lastUsedAt: null,
      };
      await store.createToken(token);
      reply.status(201);
      return {...tokenWire(token), token: secret};
    },
  );

  app.delete(
    '/v1/tokens/:id',
    {
      schema: {
        summary: 'Revoke an access token: it is refused from the next request on',
        description:
          'The calling token must have access to every organization of the revoked one (a token for one organization cannot revoke a wider one). A token may revoke itself.',
        tags: ['auth'],
        params: TokenParams,
        response: {200: Type.Ref('Token#'), ...errorResponses(401, 403, 404)},
      },
    },
    async (req) => {
      const caller = req.token!;
      const target = await store.getToken(req.params.id);
      // A token the caller shares no organization with is not the caller's to know about.
      if (!target || !target.orgs.some((o) => caller.orgs.includes(o))) throw notFound(`token ${req.params.id}`);
      const beyond = target.orgs.filter((o) => !caller.orgs.includes(o));
      if (beyond.length > 0) {
        throw new ApiError(
          403,
          'forbidden',
          `token ${target.id} also has access to ${beyond.join(', ')}; revoke it with a token that has access to every one of its organizations`,
        );
      }
      await store.deleteToken(target.id);
      return tokenWire(target);
    },
  );
}
