// The wire shapes of the API, in one place: fastify validates requests with these schemas, the
// routes get their types from them (TypeBox type provider), @fastify/swagger publishes them, and
// src/api/types.ts derives the client's types from them (Static<>, type-only: the CLI bundle
// loads none of this). So the OpenAPI document, the server and the client cannot drift apart.
import {Static, TSchema, Type} from '@sinclair/typebox';
import {CACHE_ENV_NAMES, NAME_PATTERN, NAME_RULES} from '../lib/names';
import {DATABASE_STATUSES} from '../store/types';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** A $ref to a shared schema (registered with app.addSchema) that keeps its static type. */
const Ref = <T extends TSchema>(schema: T) => Type.Unsafe<Static<T>>(Type.Ref(`${schema.$id}#`));

export {CACHE_ENV_NAMES, NAME_PATTERN, NAME_RULES};
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
    lastUsedAt: Type.Optional(
      Nullable(Type.String({format: 'date-time', description: 'last authenticated request, to the minute; null: never used'})),
    ),
    token: Type.Optional(Type.String({description: 'the secret; returned only once, at creation'})),
  },
  {$id: 'Token'},
);

export const Whoami = Type.Object(
  {tokenId: Type.String(), tokenName: Type.String(), orgs: Type.Array(Type.String())},
  {$id: 'Whoami'},
);

const Status = Type.Union(DATABASE_STATUSES.map((s) => Type.Literal(s)));

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

/** A node of a multi-host deployment (server start --role) as GET /v1/hosts shows it. */
export const Host = Type.Object(
  {
    id: Type.String(),
    role: Type.Union([Type.Literal('all'), Type.Literal('control'), Type.Literal('region')]),
    region: Nullable(Type.String()),
    address: Type.String({description: 'the host name clients and other hosts use (its --public-host)'}),
    apiUrl: Nullable(Type.String()),
    gatewayPort: Nullable(Type.Integer()),
    restPort: Nullable(Type.Integer()),
    pid: Type.Integer(),
    startedAt: Type.String(),
    lastSeenAt: Type.String(),
    lastSeenSecondsAgo: Type.Integer({description: 'seconds since its last heartbeat (every 2 s)'}),
    up: Type.Boolean({description: 'false once it has not been seen for 10 s'}),
    processes: Type.Array(
      Type.Object({
        database: Type.String(),
        region: Type.String(),
        role: Type.Union([Type.Literal('primary'), Type.Literal('replica')]),
        port: Type.Integer(),
        tlsPort: Type.Optional(Type.Integer()),
        state: Type.String(),
        restarts: Type.Integer(),
      }),
    ),
  },
  {$id: 'Host'},
);
export const HostList = Type.Object({hosts: Type.Array(Type.Ref('Host#'))}, {$id: 'HostList'});

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
    tls: Type.Optional(tlsInfo()),
    restUrl: Type.Optional(Type.String({description: "URL of the REST API (Upstash's) in the primary region; \"\" before the data plane ran"})),
    restEndpoints: Type.Optional(Type.Record(Type.String(), Type.String(), {description: 'region code -> REST API URL'})),
    restToken: Type.Optional(Type.String({description: 'REST API token with every permission (rest_token)'})),
    readOnlyRestToken: Type.Optional(Type.String({description: 'REST API token for read commands only (read_only_rest_token)'})),
    processes: Type.Optional(Type.Array(Ref(ProcessInfo))),
    createdAt: Type.String({format: 'date-time'}),
    updatedAt: Type.String({format: 'date-time'}),
  },
  {$id: 'Database'},
);

export const DatabaseList = Type.Object(
  {
    databases: Type.Array(Ref(Database)),
    nextCursor: Nullable(Type.String({description: 'pass as ?cursor= to get the next page'})),
  },
  {$id: 'DatabaseList'},
);

export const CreateDatabaseRequest = Type.Object(
  {
    org: Type.String({minLength: 1}),
    name: Type.Optional(Type.String({pattern: NAME_PATTERN, description: `${NAME_RULES}; generated when absent`})),
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
    connections: Ref(UsageFigure),
    commandsToday: Ref(UsageFigure),
    bandwidthTodayBytes: Ref(UsageFigure),
    dataSizeBytes: Ref(UsageFigure),
    replicationLagMs: Type.Record(Type.String(), Nullable(Type.Number())),
  },
  {$id: 'DatabaseStats'},
);

// The regional cache of an organization (routes/cache.ts).
/** How a client verifies rediss:// endpoints (databases and the regional cache). */
function tlsInfo() {
  return Nullable(
    Type.Object(
      {
        caFile: Nullable(Type.String({description: "the CA certificate's path on the server's machine"})),
        caPem: Nullable(Type.String({description: 'the CA certificate (PEM); null when the certificate chains to a public CA'})),
      },
      {description: 'How a client verifies the rediss:// endpoints; null when they are redis:// (no TLS)'},
    ),
  );
}

const CacheRegionUrl = Type.Object({
  region: Type.String(),
  url: Type.String({description: 'redis://default:<cache password>@<gateway host>:<port of the region endpoint>'}),
  env: Type.Array(Type.String(), {description: `${CACHE_ENV_NAMES.join(', ')}=<url>`}),
  restUrl: Type.Optional(Type.String({description: "URL of database 0's REST API (Upstash's) in this region"})),
});
export const CacheInfo = Type.Object(
  {
    org: Type.String(),
    regions: Type.Array(CacheRegionUrl),
    restToken: Type.Optional(Type.String({description: 'REST API token of database 0, every command'})),
    readOnlyRestToken: Type.Optional(Type.String({description: 'REST API token of database 0, read commands only'})),
    tls: Type.Optional(tlsInfo()),
  },
  {description: 'Where the regional cache of an organization is reached in each region'},
);

const nullableInt = Nullable(Type.Integer());
export const CACHE_REGION_STATES = ['idle', 'connecting', 'catching-up', 'live', 'down', 'stopped'] as const;
const CacheRegionStatus = Type.Object({
  region: Type.String(),
  state: Type.Union(CACHE_REGION_STATES.map((s) => Type.Literal(s)), {
    description: "'idle': not used in this region yet; it starts on first connection",
  }),
  keys: nullableInt,
  memoryBytes: nullableInt,
  maxmemoryBytes: Type.Integer(),
  appliedSeq: Type.Integer(),
  lagEntries: Type.Integer(),
  lagMs: Type.Integer(),
  dropped: Type.Integer(),
  replayErrors: Type.Integer(),
  lastReplayError: Nullable(Type.String()),
});
export const CacheStatus = Type.Object(
  {
    org: Type.String(),
    lastSeq: Type.Integer(),
    backlog: Type.Object({
      entries: Type.Integer(),
      bytes: Type.Integer(),
      maxBytes: Type.Integer(),
      maxAgeMs: Type.Integer(),
      trimmed: Type.Integer(),
    }),
    regions: Type.Array(CacheRegionStatus),
  },
  {description: 'Per region: keys, memory and replay lag of database 1'},
);

export const IdOrNameParams = Type.Object({idOrName: Type.String({minLength: 1, maxLength: 200})});
export const TokenParams = Type.Object({id: Type.String({minLength: 1, maxLength: 200})});

/** Narrows a database's name to one organization: names are unique per organization only. */
export const OrgQuery = Type.Object({
  org: Type.Optional(
    Type.String({minLength: 1, maxLength: 200, description: 'the organization of the database, when its name is used in several'}),
  ),
});
export const SlugParams = Type.Object({slug: Type.String({minLength: 1, maxLength: 200})});

export const ListQuery = Type.Object({
  org: Type.Optional(Type.String({minLength: 1})),
  limit: Type.Optional(Type.Integer({minimum: 1, maximum: 1000, default: 100})),
  cursor: Type.Optional(Type.String({minLength: 1})),
});
export type ListQuery = Static<typeof ListQuery>;

export type ErrorBody = Static<typeof ErrorBody>;
export type Region = Static<typeof Region>;
export type Plan = Static<typeof Plan>;
export type Organization = Static<typeof Organization>;
export type CreateOrganizationRequest = Static<typeof CreateOrganizationRequest>;
export type CreateTokenRequest = Static<typeof CreateTokenRequest>;
export type Token = Static<typeof Token>;
export type Whoami = Static<typeof Whoami>;
export type ProcessInfo = Static<typeof ProcessInfo>;
export type Database = Static<typeof Database>;
export type Host = Static<typeof Host>;
export type HostList = {hosts: Host[]};
export type DatabaseList = Static<typeof DatabaseList>;
export type UsageFigure = Static<typeof UsageFigure>;
export type DatabaseStats = Static<typeof DatabaseStats>;
export type CacheInfo = Static<typeof CacheInfo>;
export type CacheRegionUrl = Static<typeof CacheRegionUrl>;
export type CacheStatus = Static<typeof CacheStatus>;
export type CacheRegionStatus = Static<typeof CacheRegionStatus>;

export const sharedSchemas = [ErrorBody, Region, Plan, Organization, Token, Whoami, ProcessInfo, Host, HostList, Database, DatabaseList, UsageFigure, DatabaseStats];

/** Standard error responses for the OpenAPI document. */
export const errorResponses = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, Type.Ref('ErrorBody#')]));
