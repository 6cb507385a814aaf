// The proxy's TLS side (issue 13): a rediss:// endpoint is reached over TLS, verified with the CA
// the API gives (caPem, or caFile when readable), while the local side stays plain.
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import {startProxy} from '../../../src/cli/proxy';

let dir: string;
let cert: string;
let key: string;
let gateway: tls.Server;
let gatewayPort: number;
const seen: string[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-proxy-tls-'));
  // A self-signed certificate for 127.0.0.1 stands in for the CA redfly makes.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=redfly-test',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
  ], {stdio: 'ignore'});
  cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  key = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
  // A stand-in gateway: answers +PONG to every chunk and remembers what it received.
  gateway = tls.createServer({cert, key}, (socket) => {
    socket.on('data', (chunk) => {
      seen.push(chunk.toString());
      socket.write('+PONG\r\n');
    });
  });
  await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
  gatewayPort = (gateway.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => gateway.close(r));
  fs.rmSync(dir, {recursive: true, force: true});
});

function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (d) => {
      resolve(d.toString());
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

it.each([
  ['caPem', () => ({caPem: cert})],
  ['caFile', () => ({caFile: path.join(dir, 'cert.pem')})],
])('rediss:// with the CA as %s: plain locally, TLS to the gateway, bytes unchanged', async (_how, ca) => {
  const proxy = await startProxy({target: `rediss://default:pw@127.0.0.1:${gatewayPort}`, port: 0, tls: ca()});
  try {
    expect(proxy.tls).toBe(true);
    expect(await ping(proxy.port)).toBe('+PONG\r\n');
    expect(seen.at(-1)).toBe('*1\r\n$4\r\nPING\r\n');
  } finally {
    await proxy.close();
  }
});

it('rediss:// without the CA: the gateway certificate is not trusted, the connection is closed', async () => {
  const proxy = await startProxy({target: `rediss://127.0.0.1:${gatewayPort}`, port: 0, tls: null});
  try {
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(proxy.port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.on('data', (d) => resolve(d.toString()));
      socket.on('close', () => resolve('closed'));
      socket.on('error', () => resolve('closed'));
    });
    expect(answer).toBe('closed');
  } finally {
    await proxy.close();
  }
});

it('a taken local port is an EADDRINUSE error', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  await expect(startProxy({target: 'redis://127.0.0.1:1', port})).rejects.toMatchObject({code: 'EADDRINUSE'});
  await new Promise((r) => blocker.close(r));
});
