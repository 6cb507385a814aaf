// An HTTP request of the REST API as the commands it carries, following the hosted service's
// documentation (upstash docs, redis/features/restapi.mdx):
//   GET|POST /set/foo/bar           the command as path segments (URL-decoded)
//   POST /set/foo?EX=100  body=v    a non-empty body is the last word, then the query's pairs
//   POST /   ["SET","foo","bar"]    the command as a JSON array
//   POST /pipeline   [[...],[...]]  several commands, not atomic, one outcome each
//   POST /multi-exec [[...],[...]]  one transaction
// Words in JSON may be strings, numbers or booleans (sent as their text, as redis-js does).

export type Mode = 'single' | 'pipeline' | 'transaction';

export interface ParsedCommands {
  mode: Mode;
  commands: Buffer[][];
}

/** A request the API cannot run: answered 400 with this text. */
export class BadRequest extends Error {}

/** The path (without query) and query of a request URL, without allocating a URL object. */
export function splitUrl(url: string): {path: string; query: URLSearchParams | null} {
  const q = url.indexOf('?');
  if (q < 0) return {path: url, query: null};
  return {path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1))};
}

/** The commands of a request; throws BadRequest for a malformed one. */
export function parseCommands(path: string, query: URLSearchParams | null, method: string, body: Buffer): ParsedCommands {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '/pipeline' || trimmed === '/multi-exec') {
    const rows = parseJsonBody(body);
    if (rows.length === 0) throw new BadRequest(`ERR empty ${trimmed.slice(1)}: send a JSON array of commands`);
    const commands = rows.map((row, i) => {
      if (!Array.isArray(row)) throw new BadRequest(`ERR command ${i + 1} is not a JSON array`);
      return words(row);
    });
    return {mode: trimmed === '/pipeline' ? 'pipeline' : 'transaction', commands};
  }
  if (trimmed === '') {
    if (body.length === 0) throw new BadRequest('ERR no command: send it as path segments or as a JSON array in the body');
    return {mode: 'single', commands: [words(parseJsonBody(body))]};
  }
  const args: Buffer[] = [];
  for (const seg of trimmed.split('/')) {
    if (seg === '') continue;
    let text: string;
    try {
      text = decodeURIComponent(seg);
    } catch {
      throw new BadRequest(`ERR malformed percent-encoding in the path: '${seg}'`);
    }
    args.push(Buffer.from(text, 'utf8'));
  }
  // A subscription's channels are all in the path; @upstash/redis posts `[]` with it.
  const sse = args.length > 0 && /^p?subscribe$/i.test(args[0].toString('latin1'));
  if ((method === 'POST' || method === 'PUT') && body.length > 0 && !sse) {
    // The value as sent (JSON, binary...), then what follows it in the command.
    args.push(body);
    if (query !== null) {
      for (const [k, v] of query) {
        if (k === '_token') continue;
        args.push(Buffer.from(k, 'utf8'));
        if (v !== '') args.push(Buffer.from(v, 'utf8'));
      }
    }
  }
  return {mode: 'single', commands: [args]};
}

function parseJsonBody(body: Buffer): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new BadRequest(`ERR the body is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(v)) throw new BadRequest('ERR the body must be a JSON array');
  return v;
}

function words(row: unknown[]): Buffer[] {
  if (row.length === 0) throw new BadRequest('ERR empty command');
  return row.map((w) => {
    if (typeof w === 'string') return Buffer.from(w, 'utf8');
    if (typeof w === 'number' || typeof w === 'boolean') return Buffer.from(String(w));
    throw new BadRequest(`ERR a command word must be a string or a number, not ${w === null ? 'null' : typeof w}`);
  });
}
