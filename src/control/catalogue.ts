import {existsSync, readFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import type {Plan, Region} from './schemas';

// data/ sits at the package root: two levels up from both src/control and dist/control.
const DATA_DIR = resolve(__dirname, '..', '..', 'data');

export interface Catalogue {
  regions: Region[];
  plans: Plan[];
  region(code: string): Region | undefined;
  plan(id: string): Plan | undefined;
}

/** The shipped catalogue, or the operator's copy in $REDFLY_HOME when one exists. */
export function loadCatalogue(home?: string): Catalogue {
  const regions = readCatalogueFile<Region[]>('regions.json', home);
  const plans = readCatalogueFile<Plan[]>('plans.json', home);
  const regionByCode = new Map(regions.map((r) => [r.code, r]));
  const planById = new Map(plans.map((p) => [p.id, p]));
  return {
    regions,
    plans,
    region: (code) => regionByCode.get(code),
    plan: (id) => planById.get(id),
  };
}

function readCatalogueFile<T>(name: string, home?: string): T {
  const override = home ? join(home, name) : undefined;
  const file = override && existsSync(override) ? override : join(DATA_DIR, name);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(`cannot read the catalogue file ${file}: ${(err as Error).message}`);
  }
}
