// Request and response schemas: fastify validates with them and @fastify/swagger publishes them,
// so the OpenAPI document cannot drift from what the server accepts. src/api/types.ts mirrors
// these shapes for the client.
import {Static, TSchema, Type} from '@sinclair/typebox';
import {NAME_PATTERN, NAME_RULES} from '../lib/names';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export {NAME_PATTERN, NAME_RULES};
export const SLUG_PATTERN = '^[a-z][a-z0-9-]{1,62}$';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      requestId: Type.Optional(Type.String()),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  {$id: 'ErrorBody'},
);

export const Region = Type.Object(
  {code: Type.String(), name: Type.String(), latitude: Type.Number(), longitude: Type.Number()},
  {$id: 'Region'},
);

export const Plan = Type.Object(
  {
    id: Type.String(),
    displayName: Type.String(),
    maxDataSizeBytes: Type.Integer(),
    maxConnections: Type.Integer(),
    maxCommandsPerSecond: Type.Integer(),
    maxDailyCommands: Nullable(Type.Integer()),
    maxDailyBandwidthBytes: Type.Integer(),
    maxRequestSizeBytes: Type.Integer(),
    pricePerMonthPerRegionUsd: Type.Number(),
  },
  {$id: 'Plan'},
);

export const Organization = Type.Object(
  {
    slug: Type.String(),
    name: Type.String(),
    type: Type.Union([Type.Literal('personal'), Type.Literal('shared')]),
    createdAt: Type.String({format: 'date-time'}),
  },
  {$id: 'Organization'},
);

export const CreateOrganizationRequest = Type.Object(
  {
    slug: Type.String({pattern: SLUG_PATTERN, description: 'lowercase letters, digits and dashes; starts with a letter'}),
    name: Type.Optional(Type.String({minLength: 1, maxLength: 200})),
  },
  {additionalProperties: false},
);

export const CreateTokenRequest = Type.Object(
  {name: Type.Optional(Type.String({minLength: 1, maxLength: 200}))},
  {additionalProperties: false},
);

export const Token = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    orgs: Type.Array(Type.String()),
    createdAt: Type.String({format: 'date-time'}),
    token: Type.Optional(Type.String({description: 'the secret; returned only once, at creation'})),
  },
  {$id: 'Token'},
);

export const Whoami = Type.Object(
  {tokenId: Type.String(), tokenName: Type.String(), orgs: Type.Array(Type.String())},
  {$id: 'Whoami'},
);

const Status = Type.Union(
  ['provisioning', 'ready', 'updating', 'deleting', 'failed'].map((s) => Type.Literal(s)),
);

export const ProcessInfo = Type.Object(
  {
    region: Type.String(),
    role: Type.Union([Type.Literal('primary'), Type.Literal('replica')]),
    port: Type.Integer(),
    state: Type.Union(['starting', 'running', 'restarting', 'stopped', 'failed'].map((s) => Type.Literal(s))),
    restarts: Type.Integer(),
    lastExit: Type.Optional(Nullable(Type.String())),
  },
  {$id: 'ProcessInfo'},
);

export const Database = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    org: Type.String(),
    plan: Type.String(),
    primaryRegion: Type.String(),
    readRegions: Type.Array(Type.String()),
    eviction: Type.Boolean(),
    status: Status,
    statusMessage: Type.Optional(Nullable(Type.String())),
    privateUrl: Type.String({description: 'redis://default:<password>@<host>:<port>'}),
    endpoints: Type.Optional(Type.Record(Type.String(), Type.String())),
    processes: Type.Optional(Type.Array(Type.Ref('ProcessInfo#'))),
    createdAt: Type.String({format: 'date-time'}),
    updatedAt: Type.String({format: 'date-time'}),
  },
  {$id: 'Database'},
);

export const DatabaseList = Type.Object(
  {
    databases: Type.Array(Type.Ref('Database#')),
    nextCursor: Nullable(Type.String({description: 'pass as ?cursor= to get the next page'})),
  },
  {$id: 'DatabaseList'},
);

export const CreateDatabaseRequest = Type.Object(
  {
    org: Type.String({minLength: 1}),
    name: Type.Optional(Type.String({description: 'lowercase letters, digits and dashes, 3-63 characters, starts with a letter; generated when absent'})),
    primaryRegion: Type.String({minLength: 1}),
    readRegions: Type.Optional(Type.Array(Type.String())),
    plan: Type.String({minLength: 1}),
    eviction: Type.Optional(Type.Boolean({default: false})),
  },
  {additionalProperties: false},
);
export type CreateDatabaseRequest = Static<typeof CreateDatabaseRequest>;

export const UpdateDatabaseRequest = Type.Object(
  {
    readRegions: Type.Optional(Type.Array(Type.String(), {description: 'the full new set'})),
    plan: Type.Optional(Type.String({minLength: 1})),
    eviction: Type.Optional(Type.Boolean()),
    name: Type.Optional(Type.String({description: 'immutable: refused with 422'})),
    primaryRegion: Type.Optional(Type.String({description: 'immutable: refused with 422'})),
  },
  {additionalProperties: false},
);
export type UpdateDatabaseRequest = Static<typeof UpdateDatabaseRequest>;

export const UsageFigure = Type.Object({used: Type.Number(), limit: Nullable(Type.Number())}, {$id: 'UsageFigure'});

export const DatabaseStats = Type.Object(
  {
    id: Type.String(),
    connections: Type.Ref('UsageFigure#'),
    commandsToday: Type.Ref('UsageFigure#'),
    bandwidthTodayBytes: Type.Ref('UsageFigure#'),
    dataSizeBytes: Type.Ref('UsageFigure#'),
    replicationLagMs: Type.Record(Type.String(), Nullable(Type.Number())),
  },
  {$id: 'DatabaseStats'},
);

export const IdOrNameParams = Type.Object({idOrName: Type.String({minLength: 1, maxLength: 200})});
export const SlugParams = Type.Object({slug: Type.String({minLength: 1, maxLength: 200})});

export const ListQuery = Type.Object({
  org: Type.Optional(Type.String({minLength: 1})),
  limit: Type.Optional(Type.Integer({minimum: 1, maximum: 1000, default: 100})),
  cursor: Type.Optional(Type.String({minLength: 1})),
});
export type ListQuery = Static<typeof ListQuery>;

export const sharedSchemas = [ErrorBody, Region, Plan, Organization, Token, Whoami, ProcessInfo, Database, DatabaseList, UsageFigure, DatabaseStats];

/** Standard error responses for the OpenAPI document. */
export const errorResponses = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, Type.Ref('ErrorBody#')]));
