// The rules a database request must follow, as pure functions of the catalogue and the record:
// no store, no provisioner, no Redis, so they are tested on their own (test/unit/control).
// Each throws an ApiError (400 or 422) that names the bad value and what would be accepted.
import type {DesiredDatabase, ProcessSpec} from '../../provision/types';
import type {DatabaseRecord, ProcessRecord} from '../../store';
import type {Catalogue} from '../catalogue';
import {ApiError, badRequest} from '../errors';
import type {UpdateDatabaseRequest} from '../schemas';
import {readRegionProblem} from '../../lib/read-regions';

/** The plan with this id; 400 unknown_plan listing the valid ones otherwise. */
export function checkPlan(catalogue: Catalogue, id: string) {
  const plan = catalogue.plan(id);
  if (!plan) {
    throw badRequest(`unknown plan "${id}"; valid plans: ${catalogue.plans.map((p) => p.id).join(', ')}`, 'unknown_plan');
  }
  return plan;
}

/** 400 unknown_region unless `code` is a region of the catalogue; `what` names the field. */
export function checkRegion(catalogue: Catalogue, code: string, what: string): void {
  if (!catalogue.region(code)) {
    throw badRequest(
      `unknown ${what} "${code}"; valid region codes: ${catalogue.regions.map((r) => r.code).join(', ')}`,
      'unknown_region',
    );
  }
}

/** Read regions: no empty entry, known, not the primary region, none twice (src/lib/read-regions.ts,
 *  the rule the CLI applies too). Returns them unchanged. */
export function checkReadRegions(catalogue: Catalogue, regions: string[], primary: string): string[] {
  const problem = readRegionProblem(regions, primary, catalogue.regions.map((r) => r.code));
  if (problem) throw badRequest(problem.message, problem.code);
  return regions;
}

/** An update may not rename, move the primary region, or touch a database being deleted (422). */
export function checkUpdatable(rec: DatabaseRecord, body: UpdateDatabaseRequest): void {
  if (body.name !== undefined && body.name !== rec.name) {
    throw new ApiError(422, 'immutable_field', 'the name of a database cannot be changed');
  }
  if (body.primaryRegion !== undefined && body.primaryRegion !== rec.primaryRegion) {
    throw new ApiError(
      422,
      'immutable_field',
      `the primary region of a database cannot be changed (it is ${rec.primaryRegion}); create a new database in ${body.primaryRegion} instead`,
    );
  }
  checkNotDeleting(rec);
}

/** 422 invalid_change for a database whose delete was accepted. */
export function checkNotDeleting(rec: DatabaseRecord): void {
  if (rec.status === 'deleting') throw new ApiError(422, 'invalid_change', `database ${rec.name} is being deleted`);
}

/** 409 name_taken: the organization has a database of that name (names are unique per organization). */
export function nameTaken(name: string, org: string): ApiError {
  return new ApiError(409, 'name_taken', `organization ${org} already has a database named ${name}; choose another name`);
}

/** 409 ambiguous_name: the name is used in several of the token's organizations; `details.orgs` lists them. */
export function ambiguousName(name: string, orgs: string[]): ApiError {
  return new ApiError(
    409,
    'ambiguous_name',
    `${orgs.length} databases are named ${name}, in organizations ${orgs.join(', ')}: pass ?org=<slug> (CLI: --org) or use the database id`,
    {orgs},
  );
}

/** The processes a database should have; a new one gets port 0 so that the provisioner picks it
 *  (and may move it if it is taken at start). The private URL is final once the record is ready. */
export function withPorts(primary: string, readRegions: string[], existing: ProcessRecord[]): ProcessRecord[] {
  const wanted: Array<Pick<ProcessRecord, 'region' | 'role'>> = [
    {region: primary, role: 'primary'},
    ...readRegions.map((region) => ({region, role: 'replica' as const})),
  ];
  return wanted.map((w) => ({
    ...w,
    port: existing.find((p) => p.region === w.region && p.role === w.role)?.port ?? 0,
  }));
}

/** What the provisioner should run for a record. */
export function desired(catalogue: Catalogue, rec: DatabaseRecord): DesiredDatabase {
  const plan = catalogue.plan(rec.plan);
  return {
    id: rec.id,
    password: rec.password,
    // a plan removed from the operator's catalogue keeps the database running at its last size
    maxmemoryBytes: plan?.maxDataSizeBytes ?? 0,
    eviction: rec.eviction,
    // From the wanted regions, not the process rows: rows written by an earlier ensure() that
    // finished after this change was accepted may still list the old set.
    processes: withPorts(rec.primaryRegion, rec.readRegions, rec.processes).map(
      (p): ProcessSpec => ({region: p.region, role: p.role, port: p.port}),
    ),
  };
}

/** Same members, whatever the order. */
export function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
