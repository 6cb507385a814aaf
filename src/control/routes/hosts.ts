import {Type} from '@sinclair/typebox';
import type {ApiApp} from '../app';
import {errorResponses, type Host} from '../schemas';
import type {HostRecord} from '../../hosts/types';
import {isUp, reportOf} from '../../hosts/types';

/** GET /v1/hosts: every node of a multi-host deployment (server start --role), with how long
 *  ago it was last seen, whether it counts as up, and the copies it reports. A single-process
 *  server (no --role) has no hosts registry: an empty list. */
export function hostRoutes(app: ApiApp, hosts: (() => HostRecord[]) | undefined): void {
  app.get(
    '/v1/hosts',
    {
      schema: {
        summary: 'The hosts of a multi-host deployment and what runs on them',
        tags: ['hosts'],
        response: {200: Type.Ref('HostList#'), ...errorResponses(401)},
      },
    },
    async () => ({hosts: [...(hosts?.() ?? [])].sort(byPlace).map((h) => hostView(h))}),
  );
}

/** A host record as the API shows it, at `now` (ms). */
export function hostView(h: HostRecord, now = Date.now()): Host {
  return {
    id: h.id,
    role: h.role,
    region: h.region,
    address: h.address,
    apiUrl: h.apiUrl,
    gatewayPort: h.gatewayPort,
    restPort: h.restPort,
    pid: h.pid,
    startedAt: h.startedAt,
    lastSeenAt: h.lastSeenAt,
    lastSeenSecondsAgo: Math.max(0, Math.floor((now - Date.parse(h.lastSeenAt)) / 1000)),
    up: isUp(h, now),
    processes: reportOf(h).processes.map((p) => ({
      database: p.database,
      region: p.region,
      role: p.role,
      port: p.port,
      ...(p.tlsPort ? {tlsPort: p.tlsPort} : {}),
      state: p.state,
      restarts: p.restarts,
    })),
  };
}

const ROLE_ORDER = {all: 0, control: 1, region: 2};

/** Control nodes first, then region hosts by region, then by address. */
function byPlace(a: HostRecord, b: HostRecord): number {
  return ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || (a.region ?? '').localeCompare(b.region ?? '') || a.address.localeCompare(b.address);
}
