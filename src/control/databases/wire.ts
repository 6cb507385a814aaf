// A database record as the API shows it (the Database schema): the password only inside the
// URLs, one URL per region through the gateway, and each process's live state from supervision.
import type {ProcessHealth} from '../../provision/types';
import type {DatabaseRecord} from '../../store';
import type {Database, ProcessInfo} from '../schemas';

/** `url(rec, region)`: the gateway's URL of the database in that region ("" before it ran). */
export type UrlOf = (rec: DatabaseRecord, region: string) => string;

/** How a client verifies the endpoints' TLS certificate (null: redis://, no TLS). */
export type TlsOf = () => Database['tls'];

/** `restUrl(region)`: the REST API's URL in a region, the same for every database (src/rest). */
export type RestUrlOf = (region: string) => string;

/** The wire shape of a record, given the processes' health (empty when none runs here); with
 *  `restUrl`, also the REST API's URLs and the record's two REST tokens. */
export function toWire(rec: DatabaseRecord, url: UrlOf, health: ProcessHealth[], tls: TlsOf = () => null, restUrl?: RestUrlOf): Database {
  const endpoints: Record<string, string> = {};
  const restEndpoints: Record<string, string> = {};
  // The primary region's URL, and one per region the database is in (primary first).
  for (const region of [rec.primaryRegion, ...rec.readRegions]) {
    endpoints[region] = url(rec, region);
    if (restUrl) restEndpoints[region] = restUrl(region);
  }
  const rest = restUrl
    ? {restUrl: restEndpoints[rec.primaryRegion], restEndpoints, restToken: rec.restToken, readOnlyRestToken: rec.readOnlyRestToken}
    : {};
  return {
    id: rec.id,
    name: rec.name,
    org: rec.org,
    plan: rec.plan,
    primaryRegion: rec.primaryRegion,
    readRegions: rec.readRegions,
    eviction: rec.eviction,
    status: rec.status,
    statusMessage: rec.statusMessage,
    privateUrl: endpoints[rec.primaryRegion],
    endpoints,
    tls: tls(),
    ...rest,
    processes: processInfo(rec, health),
    createdAt: rec.createdAt,
    updatedAt: rec.updatedAt,
  };
}

function processInfo(rec: DatabaseRecord, health: ProcessHealth[]): ProcessInfo[] {
  const transitional = rec.status === 'provisioning' || rec.status === 'updating';
  return rec.processes.map((p) => {
    const h = health.find((x) => x.region === p.region && x.role === p.role);
    return {
      region: p.region,
      role: p.role,
      port: h?.port ?? p.port,
      state: h?.state ?? (transitional ? 'starting' : 'stopped'),
      restarts: h?.restarts ?? 0,
      lastExit: h?.lastExit ?? null,
    };
  });
}
