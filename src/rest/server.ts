// The REST API of Upstash Redis, one HTTP listener per region, in the data plane's process.
// A request is authenticated by its REST token (a database's or a cache's), turned into commands
// (request.ts), checked against what REST refuses (policy.ts) and run by the gateway
// (GatewayHandle.execute: the same tenant, limits, routing and accounting as a RESP client);
// the replies become JSON (reply.ts) or stay RESP2. Statuses as the hosted service documents:
// 200, 400 (a command error, a malformed request), 401 (no or wrong token), 405 (a method other
// than HEAD, GET, POST, PUT). Listeners come from one factory (`listener`), so TLS can wrap them.
import * as http from 'node:http';
import type * as net from 'node:net';
import type {Endpoint, ExecuteResult, GatewayHandle} from '../gateway';
import {restCheck} from './policy';
import {elementOutcomes, Outcome, outcome} from './reply';
import {BadRequest, parseCommands, splitUrl} from './request';
import {adaptScriptCommand} from './scripts';

/** What a REST token grants. */
export interface RestGrant {
  /** The tenant's current password: the gateway checks it like AUTH. */
  password: string;
  readOnly: boolean;
  /** The plan's request-size limit (bytes), applied to the whole body. */
  maxRequestBytes: number;
}

export interface RestDirectory {
  /** Called on every request: keep it in memory. Undefined = 401. */
  byToken(token: string): RestGrant | undefined;
}

export interface RestOptions {
  host?: string; // default 127.0.0.1
  regions: string[];
  port?: (region: string) => number; // 0 / absent = ephemeral
  gateway: Pick<GatewayHandle, 'execute' | 'subscribe'>;
  directory: RestDirectory;
  /** Makes each region's server around the handler; default a plain HTTP server. A TLS
   *  listener is `(h) => https.createServer(tlsOptions, h)` with `scheme: 'https'`. */
  listener?: (handler: http.RequestListener) => net.Server;
  scheme?: 'http' | 'https';
  log?: (msg: string) => void;
}

export interface RestHandle {
  endpoints: Record<string, Endpoint>;
  /** The REST URL of each region, e.g. http://127.0.0.1:41234 */
  urls: Record<string, string>;
  close(): Promise<void>;
}

const SYNC_HEADER = 'upstash-sync-token';
const ALLOWED = new Set(['HEAD', 'GET', 'POST', 'PUT']);

export async function startRest(opts: RestOptions): Promise<RestHandle> {
  const host = opts.host ?? '127.0.0.1';
  const scheme = opts.scheme ?? 'http';
  const servers: net.Server[] = [];
  const endpoints: Record<string, Endpoint> = {};
  const urls: Record<string, string> = {};
  const make = opts.listener ?? ((h: http.RequestListener) => http.createServer(h));
  try {
    for (const region of opts.regions) {
      const server = make((req, res) => {
        handle(opts, region, req, res).catch((e: Error) => {
          opts.log?.(`rest: ${req.method} in ${region} failed: ${e.message}`);
          if (!res.headersSent) send(res, 500, {error: `ERR internal error: ${e.message}`});
          else res.destroy();
        });
      });
      if (server instanceof http.Server) {
        // Serverless clients keep connections for a while between invocations.
        server.keepAliveTimeout = 60_000;
        server.headersTimeout = 65_000;
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port?.(region) ?? 0, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
      const port = (server.address() as net.AddressInfo).port;
      endpoints[region] = {host, port};
      urls[region] = `${scheme}://${host}:${port}`;
    }
  } catch (e) {
    for (const s of servers) s.close();
    throw e;
  }
  return {
    endpoints,
    urls,
    async close() {
      await Promise.all(
        servers.map((s) => new Promise<void>((r) => {
          s.close(() => r());
          (s as http.Server).closeAllConnections?.();
        })),
      );
    },
  };
}

function tokenOf(req: http.IncomingMessage, query: URLSearchParams | null): string | null {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^bearer\s+(\S+)\s*$/i.exec(auth);
    if (m !== null) return m[1];
  }
  return query?.get('_token') ?? null;
}

async function handle(opts: RestOptions, region: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  if (!ALLOWED.has(method)) {
    res.setHeader('Allow', 'HEAD, GET, POST, PUT');
    send(res, 405, {error: `ERR method ${method} is not allowed: use GET, POST, PUT or HEAD`});
    return;
  }
  const {path, query} = splitUrl(req.url ?? '/');
  const token = tokenOf(req, query);
  if (token === null) {
    send(res, 401, {error: 'ERR missing REST token: send "Authorization: Bearer <token>" or ?_token=<token>'});
    return;
  }
  const grant = opts.directory.byToken(token);
  if (grant === undefined) {
    send(res, 401, {error: 'WRONGPASS invalid REST token'});
    return;
  }
  const encoding = header(req, 'upstash-encoding');
  const format = header(req, 'upstash-response-format');
  const base64 = encoding !== undefined && encoding.toLowerCase() === 'base64';
  if (format !== undefined && format !== 'json' && format !== 'resp2') {
    send(res, 400, {error: `ERR unknown Upstash-Response-Format '${format}': use json or resp2`});
    return;
  }
  const resp2 = format === 'resp2';
  if (resp2 && base64) {
    send(res, 400, {error: 'ERR Upstash-Encoding: base64 cannot be combined with Upstash-Response-Format: resp2'});
    return;
  }
  const body = await readBody(req, grant.maxRequestBytes);
  if (typeof body === 'number') {
    send(res, 400, {error: `ERR max request size exceeded. Limit: ${grant.maxRequestBytes} bytes, Actual: ${body} bytes`});
    return;
  }
  let parsed;
  try {
    parsed = parseCommands(path, query, method, body);
  } catch (e) {
    if (!(e instanceof BadRequest)) throw e;
    send(res, 400, {error: e.message});
    return;
  }
  const first = parsed.commands[0][0]?.toString('latin1').toLowerCase();
  if (parsed.mode === 'single' && (first === 'subscribe' || first === 'psubscribe')) {
    await streamEvents(opts, region, grant, parsed.commands[0], req, res);
    return;
  }
  for (const c of parsed.commands) adaptScriptCommand(c);
  const r = await opts.gateway.execute({
    region,
    password: grant.password,
    commands: parsed.commands,
    transaction: parsed.mode === 'transaction',
    syncToken: header(req, SYNC_HEADER) ?? null,
    check: restCheck(grant.readOnly),
  });
  if (answeredTurnedAway(res, r)) return;
  res.setHeader(SYNC_HEADER, r.syncToken);
  if (parsed.mode === 'transaction') {
    answerTransaction(res, r, base64);
    return;
  }
  if (resp2 && r.lost === null) {
    const failed = parsed.mode === 'single' && r.replies[0][0] === 45;
    res.writeHead(failed ? 400 : 200, {'Content-Type': 'application/octet-stream'});
    res.end(Buffer.concat(r.replies));
    return;
  }
  if (parsed.mode === 'single') {
    if (r.replies.length === 0) {
      send(res, 500, {error: r.lost ?? 'ERR no reply'});
      return;
    }
    const o = outcome(r.replies[0], base64);
    send(res, 'error' in o ? 400 : 200, o);
    return;
  }
  const all: Outcome[] = parsed.commands.map((_, i) =>
    i < r.replies.length ? outcome(r.replies[i], base64) : {error: r.lost ?? 'ERR no reply'});
  send(res, 200, all);
}

/**
 * /subscribe/<channel>... and /psubscribe/<pattern>...: Server-Sent Events, as the hosted service
 * serves them and @upstash/redis reads them (`redis.subscribe()`): one `data:` line per frame
 * Redis sends, its words joined by commas (`subscribe,chat,1`, `message,chat,hello`,
 * `pmessage,ch*,chat,hello`). The subscription is one connection of the tenant until the client
 * goes away.
 */
async function streamEvents(opts: RestOptions, region: string, grant: RestGrant, command: Buffer[],
                            req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  let open = true;
  let close: (() => void) | null = null;
  const r = await opts.gateway.subscribe({
    region,
    password: grant.password,
    command,
    check: restCheck(grant.readOnly, true),
    onFrame: (frame: Buffer) => {
      if (!open) return;
      if (!res.headersSent) {
        // The first frame is the confirmation, or the error SUBSCRIBE got (a limit): a 400.
        if (frame[0] === 45) {
          open = false;
          send(res, 400, outcome(frame, false));
          close?.();
          return;
        }
        startStream(res);
      }
      res.write(sseEvent(frame));
    },
  });
  if (answeredTurnedAway(res, r)) return;
  close = r.close;
  res.on('close', () => {
    open = false;
    r.close();
  });
  if (!open) r.close(); // refused with an error frame already
  void r.ended.then(() => {
    open = false;
    if (!res.writableEnded) res.end();
  });
}

/** A run the gateway did not start: the token's database went away between the lookup and the
 *  run (401, as for an unknown token), or the whole request was refused before reaching Redis (400). */
type TurnedAway = {kind: 'unauthorized'} | {kind: 'refused'; error: string};

/** Answers a turned-away run (401 or 400) and says so; narrows `r` to the runs that started. */
function answeredTurnedAway<R extends {kind: string}>(res: http.ServerResponse, r: R | TurnedAway): r is Extract<R, TurnedAway> | TurnedAway {
  if (r.kind === 'unauthorized') {
    send(res, 401, {error: 'WRONGPASS invalid REST token'});
    return true;
  }
  if (r.kind === 'refused') {
    send(res, 400, {error: (r as {error: string}).error});
    return true;
  }
  return false;
}

function startStream(res: http.ServerResponse): void {
  res.writeHead(200, {'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive'});
  res.flushHeaders();
}

function sseEvent(frame: Buffer): string {
  const o = outcome(frame, false);
  const words = 'error' in o ? ['error', o.error] : Array.isArray(o.result) ? o.result : [o.result];
  // A line break inside a message continues the event on another data: line (SSE's rule).
  return `data: ${words.map((w) => String(w)).join(',').replace(/\r?\n/g, '\ndata: ')}\n\n`;
}

function answerTransaction(res: http.ServerResponse, r: Extract<ExecuteResult, {kind: 'done'}>, base64: boolean): void {
  if (r.exec === null) {
    send(res, 500, {error: r.lost ?? 'ERR the transaction got no reply'});
    return;
  }
  const items = elementOutcomes(r.exec, base64);
  if (items !== null) {
    send(res, 200, items);
    return;
  }
  // Discarded as a whole (EXECABORT): say why with the first command Redis refused to queue.
  const queued = r.replies.map((q) => outcome(q, false)).find((o) => 'error' in o);
  const execError = outcome(r.exec, false);
  send(res, 400, queued ?? ('error' in execError ? execError : {error: 'ERR transaction discarded'}));
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v === '' ? undefined : v;
}

/** The body, or its size in bytes when it is over `limit` (what was over is read and dropped). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | number> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    return Promise.resolve(declared);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve(size > limit ? size : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)});
  res.end(res.req?.method === 'HEAD' ? undefined : text);
}
