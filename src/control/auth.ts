import type {FastifyRequest} from 'fastify';
import type {Store, TokenRecord} from '../store';
import {ApiError} from './errors';
import {sha256} from './ids';

const unauthorized = (message: string) => new ApiError(401, 'unauthorized', message);

/** Resolves the bearer token of a request to its record (and so its organizations). */
export function authenticate(store: Store, req: FastifyRequest): TokenRecord {
  const header = req.headers.authorization;
  if (!header) throw unauthorized('missing access token: send "Authorization: Bearer <token>"');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized('malformed Authorization header: expected "Bearer <token>"');
  const token = store.findTokenBySecretHash(sha256(match[1]));
  if (!token) throw unauthorized('invalid access token');
  return token;
}
