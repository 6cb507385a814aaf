// The one rule for a database's read (replica) regions, used by the CLI before it sends anything
// and by the API that decides (src/control/databases/rules.ts), so both refuse the same lists
// with the same words. No imports: both sides use it.

/** Why a list of read regions is refused: `code` is the API's error code. */
export interface ReadRegionProblem {
  code: 'unknown_region' | 'invalid_request';
  message: string;
}

/**
 * The first problem of `regions` as read regions of a database whose primary is `primary`, or
 * undefined when the list is acceptable. Refused: an empty entry (`",,,"`, `"ams,"`), a code the
 * catalogue does not know (`known`), the primary region, and a code listed twice. The empty
 * list is acceptable (no replicas).
 */
export function readRegionProblem(regions: readonly string[], primary: string, known: readonly string[]): ReadRegionProblem | undefined {
  const valid = known.filter((c) => c !== primary).join(', ');
  if (regions.some((r) => r.trim() === '')) {
    return {code: 'invalid_request', message: `read regions contain an empty entry; valid region codes: ${valid}`};
  }
  const unknown = regions.filter((r) => !known.includes(r));
  if (unknown.length > 0) {
    return {
      code: 'unknown_region',
      message: `unknown read region${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; valid region codes: ${valid}`,
    };
  }
  if (primary && regions.includes(primary)) {
    return {code: 'invalid_request', message: `read region ${primary} is the primary region; a read region must differ from it`};
  }
  const dup = regions.find((r, i) => regions.indexOf(r) !== i);
  if (dup) return {code: 'invalid_request', message: `read region ${dup} is listed twice`};
  return undefined;
}

/**
 * A comma-separated flag value as a list, without dropping anything: `"ams, FRA"` -> ["ams","fra"],
 * `",,"` -> ["","",""] (refused later by readRegionProblem). Only an empty or blank value is the
 * empty list ("no replicas").
 */
export function splitRegionList(value: string): string[] {
  if (value.trim() === '') return [];
  return value.split(',').map((s) => s.trim().toLowerCase());
}
