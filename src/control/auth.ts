import type {FastifyRequest} from 'fastify';
import type {Store, TokenRecord} from '../store';
import {ApiError} from './errors';
import {sha256} from './ids';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authenticated scope's onRequest hook (null outside it). */
    token: TokenRecord | null;
  }
}

/** `lastUsedAt` is kept to the minute: a busy token costs one write a minute, not one a request. */
const LAST_USE_RESOLUTION_MS = 60_000;

const unauthorized = (message: string) => new ApiError(401, 'unauthorized', message);
const MISSING_TOKEN = 'missing access token: send "Authorization: Bearer <token>"';

/** The token the scope's onRequest hook resolved; 401 when there is none. */
export function requireToken(req: FastifyRequest): TokenRecord {
  if (!req.token) throw unauthorized(MISSING_TOKEN);
  return req.token;
}

/** Resolves the bearer token of a request to its record (and so its organizations). */
export async function authenticate(store: Store, req: FastifyRequest): Promise<TokenRecord> {
  const header = req.headers.authorization;
  if (!header) throw unauthorized(MISSING_TOKEN);
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized('malformed Authorization header: expected "Bearer <token>"');
  const token = await store.findTokenBySecretHash(sha256(match[1]));
  if (!token) throw unauthorized('invalid access token');
  await store.touchToken(token.id, new Date().toISOString(), LAST_USE_RESOLUTION_MS);
  return token;
}

/** A token made by POST /v1/orgs/{slug}/tokens: limited to its organization for good. Read
 *  from the record (tokens made before the rfo_ prefix are recognised too). */
export function isOrgScoped(token: TokenRecord): boolean {
  return token.scope === 'org';
}
