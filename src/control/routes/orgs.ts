import {Type} from '@sinclair/typebox';
import type {ApiApp} from '../app';
import {OrgRecord, SlugTakenError, Store} from '../../store';
import {ApiError} from '../errors';
import {isOrgScoped} from '../auth';
import {newPassword} from '../ids';
import {CreateOrganizationRequest, errorResponses} from '../schemas';

const orgWire = (o: OrgRecord) => ({slug: o.slug, name: o.name, type: o.type, createdAt: o.createdAt});

export function orgRoutes(app: ApiApp, store: Store): void {
  app.get(
    '/v1/whoami',
    {schema: {summary: 'The calling token', tags: ['auth'], response: {200: Type.Ref('Whoami#'), ...errorResponses(401)}}},
    async (req) => ({tokenId: req.token!.id, tokenName: req.token!.name, orgs: req.token!.orgs}),
  );

  app.get(
    '/v1/orgs',
    {
      schema: {
        summary: "The token's organizations",
        tags: ['organizations'],
        response: {200: Type.Array(Type.Ref('Organization#')), ...errorResponses(401)},
      },
    },
    async (req) => (await store.listOrgs(req.token!.orgs)).map(orgWire),
  );

  app.post(
    '/v1/orgs',
    {
      schema: {
        summary: 'Create an organization; the calling token gains access to it',
        tags: ['organizations'],
        body: CreateOrganizationRequest,
        response: {201: Type.Ref('Organization#'), ...errorResponses(400, 401, 403, 409)},
      },
    },
    async (req, reply) => {
      const body = req.body;
      // It would gain the new organization and so widen its own scope.
      if (isOrgScoped(req.token!)) {
        throw new ApiError(403, 'forbidden', 'an organization-scoped token cannot create organizations; use your own token');
      }
      const org: OrgRecord = {
        slug: body.slug,
        name: body.name ?? body.slug,
        type: 'shared',
        cachePassword: newPassword(),
        createdAt: new Date().toISOString(),
      };
      try {
        await store.createOrg(org, req.token!.id);
      } catch (err) {
        if (err instanceof SlugTakenError) {
          throw new ApiError(409, 'slug_taken', `an organization with slug ${body.slug} already exists`);
        }
        throw err;
      }
      reply.status(201);
      return orgWire(org);
    },
  );
}
