// Redis replies (raw RESP2 frames from the gateway) as the REST API's JSON values, following the
// hosted service's documentation (upstash docs, redis/features/restapi.mdx, "Response"):
// `{"result": ...}` holds null, an integer, a string or an array of those; `{"error": "..."}`
// holds Redis's error text. Strings are UTF-8 (an invalid sequence becomes U+FFFD) unless the
// request asked for `Upstash-Encoding: base64`: then every string is base64 except the status
// reply "OK", which the hosted service and its SDK (@upstash/redis, decode()) leave as is.
import {parseReply, Reply, ReplyError} from '../redis/client';

export type JsonValue = null | number | string | JsonValue[];

/** `{"result": ...}` or `{"error": ...}` for one reply. */
export type Outcome = {result: JsonValue} | {error: string};

/** One raw RESP2 reply as the API's outcome. */
export function outcome(raw: Buffer, base64: boolean): Outcome {
  const parsed = parseReply(raw, 0);
  if (parsed === undefined) return {error: 'ERR incomplete reply from the database'};
  if (parsed.value instanceof ReplyError) return {error: parsed.value.message};
  return {result: toJson(parsed.value, base64)};
}

/** The elements of an array reply (EXEC's), each as an outcome; null when it is not an array. */
export function elementOutcomes(raw: Buffer, base64: boolean): Outcome[] | null {
  const parsed = parseReply(raw, 0);
  if (parsed === undefined || !Array.isArray(parsed.value)) return null;
  return parsed.value.map((v) => (v instanceof ReplyError ? {error: v.message} : {result: toJson(v, base64)}));
}

function toJson(v: Reply, base64: boolean): JsonValue {
  if (v === null || typeof v === 'number') return v;
  if (Buffer.isBuffer(v)) return base64 ? v.toString('base64') : v.toString('utf8');
  if (typeof v === 'string') return base64 && v !== 'OK' ? Buffer.from(v).toString('base64') : v;
  if (v instanceof ReplyError) return v.message; // an error nested in an array (a script's reply)
  return v.map((x) => toJson(x, base64));
}
