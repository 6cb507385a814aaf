// The bundle loads https and tls only when a URL needs them (see scripts/bundle-cli.js); this
// proves an https API still works through the built CLI. fixtures/loopback-*.pem: a self-signed
// certificate for 127.0.0.1 made for this test only (openssl req -x509 -days 36500), so the
// test needs no openssl at run time.
import * as fs from 'node:fs';
import * as https from 'node:https';
import type {AddressInfo} from 'node:net';
import * as path from 'node:path';
import {assertBuilt, cliEnv, ok, redfly, tempHome} from './helpers';

let dir: string;
let server: https.Server;
let url: string;

beforeAll(async () => {
  assertBuilt();
  dir = tempHome('redfly-https-');
  const key = path.join(__dirname, 'fixtures', 'loopback-key.pem');
  const cert = path.join(__dirname, 'fixtures', 'loopback-cert.pem');
  server = https.createServer({key: fs.readFileSync(key), cert: fs.readFileSync(cert)}, (req, res) => {
    res.writeHead(req.headers.authorization === 'Bearer tls-token' ? 200 : 401, {'content-type': 'application/json'});
    res.end(JSON.stringify([{code: 'mad', name: 'Madrid, Spain', latitude: 40.4, longitude: -3.7}]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (dir) fs.rmSync(dir, {recursive: true, force: true});
});

it('talks to an https API', async () => {
  const env = cliEnv(dir, {NODE_EXTRA_CA_CERTS: path.join(__dirname, 'fixtures', 'loopback-cert.pem')});
  const result = ok(await redfly(['regions', 'list', '--json', '--api-url', url, '-t', 'tls-token'], {env}));
  expect(JSON.parse(result.stdout)[0].code).toBe('mad');
});
