// How `server status` shows the hosts of a multi-host deployment (GET /v1/hosts).
import type {Host} from '../api/types';

/** "5s ago", "3m ago", "2h ago". */
export function ago(seconds: number): string {
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m ago`;
  return `${Math.floor(seconds / 3600)}h ago`;
}

/** One line per host: role, region, address, last seen ("down" once not seen for 10 s), copies. */
export function hostLines(hosts: Host[]): string[] {
  const rows = hosts.map((h) => [
    h.role,
    h.region ?? '-',
    h.address,
    h.up ? `up, seen ${ago(h.lastSeenSecondsAgo)}` : `down, last seen ${ago(h.lastSeenSecondsAgo)}`,
    h.role === 'region' ? copies(h) : h.apiUrl ?? '',
  ]);
  const widths = rows.reduce((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), [] as number[]);
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`.trimEnd());
}

function copies(h: Host): string {
  const running = h.processes.filter((p) => p.state === 'running').length;
  return `${h.processes.length} cop${h.processes.length === 1 ? 'y' : 'ies'}${running === h.processes.length ? '' : `, ${running} running`}`;
}
