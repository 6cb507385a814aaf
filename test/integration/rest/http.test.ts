// The REST API's raw shapes and statuses (curl and fetch), and that a command over REST is the
// same command as over RESP: the same refusals, limits and counters.
import {execFile} from 'node:child_process';
import * as net from 'node:net';
import Redis from 'ioredis';
import {GatewayHandle, Limits} from '../../../src/gateway';
import {RestGrant, RestHandle, startRest} from '../../../src/rest/server';
import {BIG_PLAN, Cluster, gateway, MemoryDirectory, startDatabase, stopDatabase, tempRoot, until} from '../gateway/harness';

let db: Cluster;
let gw: GatewayHandle;
let rest: RestHandle;
let url: string;
const dir = new MemoryDirectory();
const SMALL: Limits = {...BIG_PLAN, maxDailyCommands: 6, maxRequestSizeBytes: 1000, maxConnections: 2};
const grants = new Map<string, RestGrant>([
  ['tok', {password: 'pw-http', readOnly: false, maxRequestBytes: BIG_PLAN.maxRequestSizeBytes}],
  ['ro', {password: 'pw-http', readOnly: true, maxRequestBytes: BIG_PLAN.maxRequestSizeBytes}],
  ['small', {password: 'pw-small', readOnly: false, maxRequestBytes: SMALL.maxRequestSizeBytes}],
  ['one', {password: 'pw-one', readOnly: false, maxRequestBytes: SMALL.maxRequestSizeBytes}],
]);

beforeAll(async () => {
  db = await startDatabase(tempRoot(), 'http', 'pw-http', 'mad', []);
  dir.set('pw-http', db.tenant);
  // A second tenant with a small plan on the same processes: its own counters and limits.
  dir.set('pw-small', {...db.tenant, id: 'small', plan: SMALL});
  dir.set('pw-one', {...db.tenant, id: 'one', plan: {...BIG_PLAN, maxConnections: 1}});
  gw = await gateway(dir, ['mad']);
  rest = await startRest({regions: ['mad'], gateway: gw, directory: {byToken: (t) => grants.get(t)}});
  url = rest.urls.mad;
});

afterAll(async () => {
  await rest?.close();
  await gw?.close();
  await stopDatabase(db);
});

function curl(args: string[]): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', ...args], (err, stdout) => {
      if (err) return reject(err);
      const i = stdout.lastIndexOf('\n');
      resolve({status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i)});
    });
  });
}

async function call(path: string, init: RequestInit & {token?: string | null} = {}): Promise<{status: number; body: unknown; res: Response}> {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set('Authorization', `Bearer ${init.token ?? 'tok'}`);
  const res = await fetch(url + path, {...init, headers});
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // resp2 and the like stay text
  }
  return {status: res.status, body, res};
}

test('curl: the command as path segments, with the bearer header or _token', async () => {
  expect(await curl([`${url}/set/foo/bar`, '-H', 'Authorization: Bearer tok'])).toEqual({status: 200, body: '{"result":"OK"}'});
  expect(await curl([`${url}/get/foo?_token=tok`])).toEqual({status: 200, body: '{"result":"bar"}'});
  expect(await curl([`${url}/mget/foo/nope?_token=tok`])).toEqual({status: 200, body: '{"result":["bar",null]}'});
  // Percent-encoded segments are decoded: a slash inside a key.
  expect((await curl([`${url}/set/a%2Fb/x%20y?_token=tok`])).status).toBe(200);
  expect(await curl([`${url}/get/a%2Fb?_token=tok`])).toEqual({status: 200, body: '{"result":"x y"}'});
  expect(await curl(['-X', 'POST', '-d', '["INCRBY","n",5]', url, '-H', 'Authorization: Bearer tok'])).toEqual({status: 200, body: '{"result":5}'});
});

test('a POST body is the value, then the query pairs follow it', async () => {
  const r = await call('/set/json?EX=100', {method: 'POST', body: '{"a":[1,2]}'});
  expect(r).toMatchObject({status: 200, body: {result: 'OK'}});
  expect(await call('/get/json')).toMatchObject({body: {result: '{"a":[1,2]}'}});
  const ttl = await call('/ttl/json');
  expect((ttl.body as {result: number}).result).toBeGreaterThan(90);
});

test('pipeline: one outcome per command, errors in place, status 200', async () => {
  const r = await call('/pipeline', {method: 'POST', body: JSON.stringify([['SET', 'pk', 'x'], ['INCR', 'pk'], ['GET', 'pk'], ['NOSUCH']])});
  expect(r.status).toBe(200);
  expect(r.body).toEqual([
    {result: 'OK'},
    {error: 'ERR value is not an integer or out of range'},
    {result: 'x'},
    {error: expect.stringMatching(/^ERR unknown command 'NOSUCH'/)},
  ]);
});

test('multi-exec: results per command; a refused command discards the whole transaction', async () => {
  const ok = await call('/multi-exec', {method: 'POST', body: JSON.stringify([['SET', 'mk', 'x'], ['INCR', 'mk'], ['SET', 'mk2', 1], ['INCR', 'mk2']])});
  expect(ok).toMatchObject({status: 200, body: [{result: 'OK'}, {error: 'ERR value is not an integer or out of range'}, {result: 'OK'}, {result: 2}]});
  const refused = await call('/multi-exec', {method: 'POST', body: JSON.stringify([['SET', 'mk3', 'y'], ['BLPOP', 'l', '1']])});
  expect(refused).toMatchObject({status: 400, body: {error: "ERR Command is not supported over the REST API: 'BLPOP'"}});
  const syntax = await call('/multi-exec', {method: 'POST', body: JSON.stringify([['SET', 'mk3', 'y'], ['GET']])});
  expect(syntax).toMatchObject({status: 400, body: {error: "ERR wrong number of arguments for 'get' command"}});
  expect(await call('/exists/mk3')).toMatchObject({body: {result: 0}});
});

test('every error status: 400 command error, 401 no or wrong token, 405 other methods', async () => {
  expect(await call('/incr/foo')).toMatchObject({status: 400, body: {error: 'ERR value is not an integer or out of range'}});
  expect(await call('/get/foo', {token: null})).toMatchObject({status: 401, body: {error: expect.stringMatching(/missing REST token/)}});
  expect(await call('/get/foo', {token: 'wrong'})).toMatchObject({status: 401, body: {error: 'WRONGPASS invalid REST token'}});
  for (const method of ['DELETE', 'PATCH', 'OPTIONS']) {
    const r = await call('/get/foo', {method});
    expect(r.status).toBe(405);
    expect(r.res.headers.get('allow')).toBe('HEAD, GET, POST, PUT');
  }
  expect(await call('/', {method: 'POST', body: '{not json'})).toMatchObject({status: 400, body: {error: expect.stringMatching(/not valid JSON/)}});
  expect(await call('/', {method: 'POST', body: '[]'})).toMatchObject({status: 400, body: {error: 'ERR empty command'}});
  expect(await call('/get/foo', {headers: {'Upstash-Response-Format': 'xml'}})).toMatchObject({status: 400});
  expect(await call('/get/foo', {headers: {'Upstash-Response-Format': 'resp2', 'Upstash-Encoding': 'base64'}})).toMatchObject({status: 400});
  // Blocking commands, WATCH and SUBSCRIBE are refused over REST, as the hosted service does.
  for (const cmd of ['blpop/l/1', 'xread/block/10/streams/s/$', 'watch/foo', 'unsubscribe/chat', 'select/0', 'client/id', 'monitor']) {
    expect(await call(`/${cmd}`)).toMatchObject({status: 400, body: {error: expect.stringMatching(/not supported over the REST API/)}});
  }
  // PUT and HEAD are allowed methods.
  expect(await call('/set/putk/v', {method: 'PUT'})).toMatchObject({status: 200});
  expect((await call('/get/putk', {method: 'HEAD'})).status).toBe(200);
});

test('Upstash-Response-Format: resp2 answers the raw reply', async () => {
  const r = await call('/get/foo', {headers: {'Upstash-Response-Format': 'resp2'}});
  expect(r.status).toBe(200);
  expect(r.res.headers.get('content-type')).toBe('application/octet-stream');
  expect(r.body).toBe('$3\r\nbar\r\n');
  const p = await call('/pipeline', {method: 'POST', headers: {'Upstash-Response-Format': 'resp2'}, body: '[["PING"],["GET","nope"]]'});
  expect(p.body).toBe('+PONG\r\n$-1\r\n');
  // base64: every string but OK.
  expect(await call('/get/foo', {headers: {'Upstash-Encoding': 'base64'}})).toMatchObject({body: {result: 'YmFy'}});
  expect(await call('/set/foo/bar', {headers: {'Upstash-Encoding': 'base64'}})).toMatchObject({body: {result: 'OK'}});
  expect(await call('/ping', {headers: {'Upstash-Encoding': 'base64'}})).toMatchObject({body: {result: 'UE9ORw=='}});
});

test('the read-only token reads, and is refused writes with NOPERM', async () => {
  expect(await call('/get/foo', {token: 'ro'})).toMatchObject({status: 200, body: {result: 'bar'}});
  expect(await call('/set/foo/x', {token: 'ro'})).toMatchObject({status: 400, body: {error: "NOPERM this user has no permissions to run the 'set' command"}});
  expect(await call('/pipeline', {token: 'ro', method: 'POST', body: '[["GET","foo"],["DEL","foo"],["EVAL","return 1","0"]]'})).toMatchObject({
    body: [{result: 'bar'}, {error: expect.stringMatching(/^NOPERM .*'del'/)}, {error: expect.stringMatching(/^NOPERM .*'eval'/)}],
  });
  expect(await call('/get/foo')).toMatchObject({body: {result: 'bar'}});
});

test("the gateway's refusals and its counters are the same over REST and RESP", async () => {
  // Refused by the platform whichever protocol carries it, with the same text.
  const resp = new Redis({port: gw.endpoints.mad.port, password: 'pw-http', maxRetriesPerRequest: 0});
  const respErr = await resp.call('DEBUG', 'SLEEP', '0').catch((e: Error) => e.message);
  expect(await call('/debug/sleep/0')).toMatchObject({status: 400, body: {error: respErr}});
  expect(respErr).toBe("ERR Command is not available: 'DEBUG'");
  resp.disconnect();

  // One daily budget for both protocols: 6 commands.
  const small = new Redis({port: gw.endpoints.mad.port, password: 'pw-small', maxRetriesPerRequest: 0, enableReadyCheck: false});
  await small.set('d1', '1');
  await small.get('d1');
  expect(await call('/pipeline', {token: 'small', method: 'POST', body: '[["INCR","d1"],["INCR","d1"],["GET","d1"]]'})).toMatchObject({status: 200});
  expect(gw.usage('small').commandsToday).toBe(5);
  expect(await call('/get/d1', {token: 'small'})).toMatchObject({body: {result: '3'}});
  const over = 'ERR max daily request limit exceeded. Limit: 6, Usage: 6.';
  expect(await call('/get/d1', {token: 'small'})).toMatchObject({status: 400, body: {error: over}});
  await expect(small.get('d1')).rejects.toThrow(over);
  small.disconnect();
  // The request size is the plan's.
  expect(await call('/set/big', {token: 'small', method: 'POST', body: 'x'.repeat(2000)})).toMatchObject({
    status: 400,
    body: {error: 'ERR max request size exceeded. Limit: 1000 bytes, Actual: 2000 bytes'},
  });
});

test('a REST request is a connection while it runs: it counts against the plan, then frees its place', async () => {
  expect(await call('/set/c/1', {token: 'one'})).toMatchObject({status: 200});
  const resp = new Redis({port: gw.endpoints.mad.port, password: 'pw-one', maxRetriesPerRequest: 0, enableReadyCheck: false});
  await resp.ping();
  expect(await call('/get/c', {token: 'one'})).toMatchObject({status: 400, body: {error: 'ERR max concurrent connections exceeded'}});
  resp.disconnect();
  await until(() => gw.usage('one').connections === 0);
  expect(await call('/get/c', {token: 'one'})).toMatchObject({status: 200, body: {result: '1'}});
  expect(gw.usage('one').connections).toBe(0);
});

test('/subscribe streams Server-Sent Events; refused forms get a 400', async () => {
  const ac = new AbortController();
  const res = await fetch(`${url}/subscribe/news/sport`, {method: 'POST', headers: {Authorization: 'Bearer tok', Accept: 'text/event-stream'}, signal: ac.signal});
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const reader = res.body!.getReader();
  let text = '';
  const readUntil = async (want: string) => {
    while (!text.includes(want)) text += Buffer.from((await reader.read()).value!).toString();
  };
  await readUntil('data: subscribe,sport,2\n\n');
  expect(await call('/publish/news/two%0Alines')).toMatchObject({body: {result: 1}});
  await readUntil('lines\n\n');
  expect(text).toBe('data: subscribe,news,1\n\ndata: subscribe,sport,2\n\ndata: message,news,two\ndata: lines\n\n');
  ac.abort();
  expect(await call('/subscribe/news', {token: 'ro'})).toMatchObject({status: 400, body: {error: expect.stringMatching(/^NOPERM .*'subscribe'/)}});
  expect(await call('/subscribe/news', {token: 'wrong'})).toMatchObject({status: 401});
  expect(await call('/pipeline', {method: 'POST', body: '[["SUBSCRIBE","x"]]'})).toMatchObject({
    body: [{error: "ERR Command is not supported over the REST API: 'SUBSCRIBE'"}],
  });
});

test('keep-alive: many requests travel on one connection', async () => {
  // A raw socket rather than an HTTP client library: what is asserted is the server's behaviour
  // (and a test file run before this one may have patched node:http, as nock does).
  const sock = net.connect(rest.endpoints.mad.port, '127.0.0.1');
  let text = '';
  sock.on('data', (d) => (text += d.toString()));
  const req = 'GET /ping HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nAuthorization: Bearer tok\r\n\r\n';
  for (let i = 1; i <= 5; i++) {
    sock.write(req);
    await until(() => text.split('{"result":"PONG"}').length - 1 === i);
  }
  expect(text.match(/HTTP\/1\.1 200 OK\r\n/g)).toHaveLength(5);
  expect(text.match(/\r\nConnection: keep-alive\r\n/gi)).toHaveLength(5);
  expect(sock.destroyed).toBe(false);
  sock.destroy();
});
