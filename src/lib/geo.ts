// Great-circle distance between two places, used by the CLI to offer the nearest regions first
// and by the gateway to simulate inter-region round trips. No imports: both sides use it.

export interface LatLon {
  latitude: number;
  longitude: number;
}

export function distanceKm(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}
