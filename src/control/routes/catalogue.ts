import {Type} from '@sinclair/typebox';
import type {ApiApp} from '../app';
import type {Catalogue} from '../catalogue';
import {errorResponses} from '../schemas';

export function catalogueRoutes(app: ApiApp, catalogue: Catalogue): void {
  app.get(
    '/v1/regions',
    {
      schema: {
        summary: 'Regions where databases can be placed',
        tags: ['catalogue'],
        response: {200: Type.Array(Type.Ref('Region#')), ...errorResponses(401)},
      },
    },
    async () => catalogue.regions,
  );
  app.get(
    '/v1/plans',
    {
      schema: {
        summary: 'Plans with their limits and price',
        tags: ['catalogue'],
        response: {200: Type.Array(Type.Ref('Plan#')), ...errorResponses(401)},
      },
    },
    async () => catalogue.plans,
  );
}
