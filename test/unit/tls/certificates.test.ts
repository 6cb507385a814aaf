// redfly's own CA and server certificates: made once, kept, reissued for new names; keys 0600;
// a TLS client that trusts the CA verifies the server for every name it was made for.
import {X509Certificate} from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import {ensureOwnTls} from '../../../src/tls/certificates';

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-tls-unit-'));
});
afterEach(() => fs.rmSync(home, {recursive: true, force: true}));

it('makes a CA once and a server certificate for the names asked, verifiable with the CA', async () => {
  const first = await ensureOwnTls(home, ['db.example.test', '127.0.0.1']);
  const cert = new X509Certificate(first.cert);
  expect(cert.checkHost('db.example.test')).toBe('db.example.test');
  expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  expect(cert.verify(new X509Certificate(first.caPem!).publicKey)).toBe(true);
  for (const f of ['ca-key.pem', 'server-key.pem', 'ca.pem', 'server.pem']) {
    expect(fs.statSync(path.join(home, 'tls', f)).mode & 0o777).toBe(0o600);
  }
  // Same names: nothing changes. New name: a new server certificate from the same CA.
  const again = await ensureOwnTls(home, ['db.example.test', '127.0.0.1']);
  expect(again.cert).toBe(first.cert);
  const moved = await ensureOwnTls(home, ['other.example.test']);
  expect(moved.caPem).toBe(first.caPem);
  expect(moved.cert).not.toBe(first.cert);
  expect(new X509Certificate(moved.cert).checkHost('other.example.test')).toBe('other.example.test');
});

it('serves a TLS handshake that a client trusting only the CA verifies', async () => {
  const m = await ensureOwnTls(home, ['127.0.0.1']);
  const server = tls.createServer({cert: m.cert, key: m.key}, (s) => s.end('hi'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as {port: number}).port;
  try {
    const got = await new Promise<string>((resolve, reject) => {
      const c = tls.connect({host: '127.0.0.1', port, ca: m.caPem!}, () => c.on('data', (d) => resolve(String(d))));
      c.on('error', reject);
    });
    expect(got).toBe('hi');
  } finally {
    server.close();
  }
});
