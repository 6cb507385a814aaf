// Idempotency-Key for creates: a retry with the same key and body gets the database of the first
// request (200 instead of 201); the same key with another body is a 422.
import type {DatabaseRecord, Store, TokenRecord} from '../../store';
import {ApiError} from '../errors';
import {sha256} from '../ids';

/** JSON with sorted keys and no undefined fields, so equal requests hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The hash a key is stored with (hex SHA-256 of the canonical body). */
export const requestSha256 = (body: unknown): string => sha256(canonicalJson(body));

/** The database an earlier request with this key created, undefined for a new key; 422
 *  idempotency_mismatch when the key was used with another body. */
export async function replayed(store: Store, token: TokenRecord, key: string, bodySha256: string): Promise<DatabaseRecord | undefined> {
  const hit = await store.findIdempotency(key, token.id);
  if (!hit) return undefined;
  if (hit.requestSha256 !== bodySha256) {
    throw new ApiError(422, 'idempotency_mismatch', `Idempotency-Key ${key} was already used with a different request body`);
  }
  return store.getDatabase(hit.databaseId);
}
