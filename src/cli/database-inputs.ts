// Checks and orderings of the inputs of create/update, free of oclif and prompts so they can be
// tested on their own.
import type {Organization, Plan, Region} from '../api/types';
import {distanceKm} from '../lib/geo';
import {readRegionProblem, splitRegionList} from '../lib/read-regions';
import {UsageError} from './errors';
import {bin} from './bin';

/** A --replica-regions value as typed: nothing dropped or merged, so that validateReplicaRegions
 *  can refuse ",,," and "ams,ams" as the API does. "" is the empty set (update: remove all). */
export function parseRegionList(value: string): string[] {
  return splitRegionList(value);
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

/**
 * flyctl drops unknown codes silently; we refuse them, and every list the API would refuse (empty
 * entries, a code twice, the primary), with the API's own words (src/lib/read-regions.ts). An
 * empty `primary` (not chosen yet) skips the primary check.
 */
export function validateReplicaRegions(replicas: string[], primary: string, regions: Region[]): string[] {
  const problem = readRegionProblem(replicas, primary, regions.map((r) => r.code));
  if (problem) {
    const message = problem.message[0].toUpperCase() + problem.message.slice(1);
    throw new UsageError(message, problem.code === 'unknown_region' ? 'unknown_region' : 'invalid_replica_regions', [
      `${bin()} regions list`,
    ]);
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
