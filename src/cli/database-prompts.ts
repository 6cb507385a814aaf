// The questions of create and update, each with the flag that answers it instead.
import type {Database, Organization, Plan, Region} from '../api/types';
import {planSummary, price} from './format';
import {orderRegions} from './database-inputs';
import * as prompts from './prompts';
import {NAME_PATTERN, NAME_RULES} from '../lib/names';

export const NAME_RE = new RegExp(NAME_PATTERN);

export function askOrg(orgs: Organization[]): Promise<string> {
  return prompts.select({
    message: 'Select an organization:',
    choices: orgs.map((o) => ({name: `${o.name} (${o.slug})${o.type === 'personal' ? ' [personal]' : ''}`, value: o.slug})),
  });
}

export function askName(): Promise<string> {
  return prompts.input({
    message: 'Choose a database name (leave blank to generate one):',
    validate: (value) =>
      value.trim() === '' || NAME_RE.test(value.trim())
        ? true
        : NAME_RULES,
  });
}

export function askPrimaryRegion(regions: Region[], lastUsed?: string): Promise<string> {
  return askRegion(regions, "Choose a primary region (can't be changed later):", lastUsed);
}

/** One region, by name, the last used or the time zone's city first and the rest nearest first. */
export function askRegion(regions: Region[], message: string, lastUsed?: string): Promise<string> {
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const {ordered, nearest} = orderRegions(regions, lastUsed, timeZone);
  return prompts.select({
    message,
    choices: ordered.map((r) => ({name: `${r.name} (${r.code})`, value: r.code})),
    default: nearest?.code,
  });
}

export function askReplicaRegions(regions: Region[], primary: string, current: string[] = []): Promise<string[]> {
  // Nearest to the primary first: the usual reason for a replica is a neighbouring audience.
  const {ordered} = orderRegions(regions, primary);
  return prompts.checkbox({
    message: 'Optionally, choose replica regions (can be changed later):',
    choices: ordered
      .filter((r) => r.code !== primary)
      .map((r) => ({name: `${r.name} (${r.code})`, value: r.code, checked: current.includes(r.code)})),
  });
}

export function askPlan(plans: Plan[], current?: string): Promise<string> {
  return prompts.select({
    message: 'Select a plan:',
    choices: plans.map((p) => ({
      name: `${p.displayName} (${p.id}) - ${price(p)}`,
      value: p.id,
      description: planSummary(p),
    })),
    default: current,
  });
}

export const EVICTION_EXPLAINED =
  'Eviction: when the database is full, remove keys (those with a TTL first) instead of refusing writes. Useful for caches; can be changed later.';

export function askEviction(current = false): Promise<boolean> {
  prompts.say(EVICTION_EXPLAINED);
  return prompts.confirm({message: 'Enable eviction?', default: current});
}

export function confirmDelete(db: Database): Promise<boolean> {
  return prompts.confirm({
    message: `Delete database ${db.name} (${db.id}) and all its data? This cannot be undone.`,
    default: false,
  });
}

