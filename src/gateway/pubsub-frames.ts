// Recognising RESP2 Pub/Sub frames in an upstream's reply stream (messages and (un)subscribe
// confirmations), split from upstream.ts, which decides where such a frame is due.

const PUBSUB_KINDS = new Set(['message', 'pmessage', 'smessage', 'subscribe', 'psubscribe', 'ssubscribe',
  'unsubscribe', 'punsubscribe', 'sunsubscribe']);

/** The kind of a RESP2 Pub/Sub frame (`*3` or `*4` whose first element names a message or a
 *  confirmation), or null. Only meaningful where such a frame is due, see Upstream.outOfBand. */
export function pubsubKind(data: Buffer, p: number): string | null {
  if (data[p] !== 42 /* '*' */ || (data[p + 1] !== 51 && data[p + 1] !== 52) || data[p + 2] !== 13) return null;
  if (data[p + 4] !== 36 /* '$' */) return null;
  const cr = data.indexOf(13, p + 5);
  if (cr < 0 || cr - (p + 5) > 2) return null;
  const len = Number(data.toString('latin1', p + 5, cr));
  if (!(len >= 7 && len <= 12)) return null;
  const kind = data.toString('latin1', cr + 2, cr + 2 + len);
  return PUBSUB_KINDS.has(kind) ? kind : null;
}

/** The integer that ends a confirmation frame `...:<n>\r\n` ending at e. */
export function lastInteger(data: Buffer, p: number, e: number): number {
  let i = e - 3;
  while (i > p && data[i] !== 58 /* ':' */) i--;
  const n = Number(data.toString('latin1', i + 1, e - 2));
  return Number.isFinite(n) ? n : 0;
}
