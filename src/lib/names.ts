// Names both sides use. The rule for database names, checked by the CLI before it asks anything and by the API that
// decides. No imports: both sides use it, so the two cannot drift apart.

export const NAME_PATTERN = '^[a-z][a-z0-9-]{2,62}$';
/** NAME_PATTERN in words, for error messages. */
export const NAME_RULES = '3-63 lowercase letters, digits or dashes, starting with a letter';

/** The one wording of a refused database name, for the CLI's early check and the API's. */
export function invalidName(name: unknown): string {
  return `invalid name${typeof name === 'string' ? ` "${name}"` : ''}: use ${NAME_RULES}`;
}

/** The environment variables an app reads its cache URL from: Fly's, and redfly's twin. */
export const CACHE_ENV_NAMES = ['FLY_REDIS_CACHE_URL', 'REDFLY_CACHE_URL'] as const;
