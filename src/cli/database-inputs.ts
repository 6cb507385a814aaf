// Checks and orderings of the inputs of create/update, free of oclif and prompts so they can be
// tested on their own.
import type {Organization, Plan, Region} from '../api/types';
import {distanceKm} from '../lib/geo';
import {UsageError} from './errors';
import {bin} from './bin';

/** "a, b,,c" -> ["a","b","c"]; an empty string is the empty set (update: remove all replicas). */
export function parseRegionList(value: string): string[] {
  return [...new Set(value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))];
}

export function validatePrimaryRegion(code: string, regions: Region[]): string {
  const wanted = code.trim().toLowerCase();
  if (!regions.some((r) => r.code === wanted)) {
    throw new UsageError(`Unknown region "${code}". Valid codes: ${codes(regions)}`, 'unknown_region', [
      `${bin()} regions list`,
    ]);
  }
  return wanted;
}

/** flyctl drops unknown codes silently; we refuse them and say which codes would work. */
export function validateReplicaRegions(replicas: string[], primary: string, regions: Region[]): string[] {
  const unknown = replicas.filter((code) => !regions.some((r) => r.code === code));
  const valid = regions.filter((r) => r.code !== primary);
  if (unknown.length) {
    throw new UsageError(
      `Unknown replica ${unknown.length === 1 ? 'region' : 'regions'} ${unknown.map((c) => `"${c}"`).join(', ')}. Valid codes: ${codes(valid)}`,
      'unknown_region',
      [`${bin()} regions list`],
    );
  }
  if (replicas.includes(primary)) {
    throw new UsageError(
      `"${primary}" is the primary region and cannot also be a replica region. Valid codes: ${codes(valid)}`,
      'invalid_replica_region',
    );
  }
  return replicas;
}

export function validatePlan(id: string, plans: Plan[]): Plan {
  const plan = plans.find((p) => p.id === id || p.displayName.toLowerCase() === id.toLowerCase());
  if (!plan) {
    throw new UsageError(`Unknown plan "${id}". Valid plans: ${plans.map((p) => p.id).join(', ')}`, 'unknown_plan', [
      `${bin()} redis plans`,
    ]);
  }
  return plan;
}

export function validateOrg(slug: string, orgs: Organization[]): Organization {
  const org = orgs.find((o) => o.slug === slug);
  if (!org) {
    throw new UsageError(
      `Organization "${slug}" not found. Your organizations: ${orgs.map((o) => o.slug).join(', ') || 'none'}`,
      'unknown_org',
      [`${bin()} orgs list`],
    );
  }
  return org;
}

function codes(regions: Region[]): string {
  return regions.map((r) => r.code).join(', ');
}

/**
 * The region to offer first: the last one used, else the one named after the city of the
 * machine's time zone (Europe/Madrid -> mad), else none. The rest follow by distance from it.
 */
export function orderRegions(regions: Region[], lastUsed?: string, timeZone?: string): {ordered: Region[]; nearest?: Region} {
  let anchor = lastUsed ? regions.find((r) => r.code === lastUsed) : undefined;
  if (!anchor && timeZone) {
    const city = timeZone.split('/').pop()?.replace(/_/g, ' ').toLowerCase();
    if (city) anchor = regions.find((r) => r.name.toLowerCase().split(',')[0] === city);
  }
  if (!anchor) return {ordered: [...regions]};
  const from = anchor;
  const ordered = [...regions].sort((a, b) => distanceKm(from, a) - distanceKm(from, b));
  return {ordered, nearest: anchor};
}
