// Simulated round trip between regions: light in fibre covers about 200 km per ms, and real
// routes are longer than great circles, so RTT ≈ distance / 100 km per ms, plus 1 ms.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {distanceKm} from '../lib/geo';

interface RegionRow {
  code: string;
  latitude: number;
  longitude: number;
}

let regions: Map<string, RegionRow> | null = null;

function load(): Map<string, RegionRow> {
  if (regions === null) {
    const file = path.join(__dirname, '..', '..', 'data', 'regions.json');
    const rows = JSON.parse(fs.readFileSync(file, 'utf8')) as RegionRow[];
    regions = new Map(rows.map((r) => [r.code, r]));
  }
  return regions;
}

export function latencyFromDistance(from: string, to: string): number {
  if (from === to) return 0;
  const m = load();
  const a = m.get(from);
  const b = m.get(to);
  if (a === undefined || b === undefined) return 0;
  return Math.round(distanceKm(a, b) / 100) + 1;
}
