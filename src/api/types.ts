// Wire types of the provisioning API (JSON over HTTP under /v1), derived from the server's
// schemas (src/control/schemas.ts), the one source of these shapes; its OpenAPI document is
// generated from the same schemas. Type-only imports: the CLI bundle loads none of the server.
import type {Static} from '@sinclair/typebox';
import type * as S from '../control/schemas';

export type DatabaseStatus = Database['status'];
export type Region = S.Region; // code: Fly region code, e.g. "mad"
export type Plan = S.Plan; // maxDailyCommands: null = unlimited
export type Organization = S.Organization;
export type ProcessInfo = S.ProcessInfo; // lastExit: e.g. "killed by SIGKILL at 2026-11-24T03:30:00Z"
export type Database = S.Database;
export type DatabaseList = S.DatabaseList;
export type Host = S.Host; // a node of a multi-host deployment (server start --role)
export type HostList = S.HostList;
export type CreateDatabaseRequest = Static<typeof S.CreateDatabaseRequest>;
/** name and primaryRegion are accepted only to be refused with 422 (immutable). */
export type UpdateDatabaseRequest = Static<typeof S.UpdateDatabaseRequest>;
export type UsageFigure = S.UsageFigure; // limit: null = unlimited
export type DatabaseStats = S.DatabaseStats; // replicationLagMs: per read region; null when unknown/down
export type Token = S.Token;
export type Whoami = S.Whoami;
export type ErrorBody = S.ErrorBody;

/** What a client needs to verify a TLS endpoint: the CA (path on the server's machine, and PEM). */
export type DatabaseTls = NonNullable<Database['tls']>;
