// The certificates redfly serves with when TLS is on: the operator's (a certificate chain and key
// in PEM files), or its own: a CA made once under $REDFLY_HOME/tls and a server certificate
// signed by it for the names clients use (the public host, the listen address, localhost). A
// client verifies the server with the CA (`redis-cli --tls --cacert ca.pem`, `rediss://` with
// `ca`). ECDSA P-256 keys and SHA-256 signatures, which every Redis client's TLS stack takes.
// Built on @peculiar/x509 over Node's WebCrypto, no ASN.1 of our own.
import {webcrypto, X509Certificate} from 'node:crypto';
import {existsSync, mkdirSync, readFileSync} from 'node:fs';
import {isIP} from 'node:net';
import {join} from 'node:path';
import type * as X509 from '@peculiar/x509';
import type {TlsMaterial} from '../net/listener';
import {writePrivate} from '../lib/private-files';

let x509lib: typeof X509 | null = null;
/** @peculiar/x509, loaded on first use: loading it is about a tenth of a server start that serves
 *  no TLS (the default on loopback), where nothing here needs it. */
function x509(): typeof X509 {
  if (!x509lib) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    x509lib = require('@peculiar/x509') as typeof X509;
    x509lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof X509.cryptoProvider.set>[0]);
  }
  return x509lib;
}

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = {name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256'} as const;
const DAY = 24 * 3600 * 1000;
const CA_DAYS = 3650;
const SERVER_DAYS = 365;
/** A server certificate with less left than this is made again at start. */
const RENEW_DAYS = 30;

/** What the server listens with, and what a client needs to verify it. */
export interface ServerTls extends TlsMaterial {
  /** The CA file a client verifies with (redfly's own CA, or the operator's --tls-ca); null when
   *  the operator's certificate chains to a CA the client already trusts. */
  caFile: string | null;
  caPem: string | null;
}

export interface OperatorFiles {
  certFile: string;
  keyFile: string;
  caFile?: string;
}

/** The operator's certificate and key (PEM). Throws naming the file that cannot be read or used. */
export function loadOperatorTls(files: OperatorFiles): ServerTls {
  const read = (f: string, what: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} ${f}: ${(err as Error).message}`);
    }
  };
  const cert = read(files.certFile, 'certificate');
  const key = read(files.keyFile, 'key');
  try {
    new X509Certificate(cert);
  } catch (err) {
    throw new Error(`${files.certFile} is not a PEM certificate: ${(err as Error).message}`);
  }
  const caPem = files.caFile ? read(files.caFile, 'CA certificate') : null;
  return {cert, key, caFile: files.caFile ?? null, caPem};
}

export function tlsDir(home: string): string {
  return join(home, 'tls');
}

/**
 * redfly's own CA and a server certificate valid for `names` (host names and IP addresses),
 * under `<home>/tls`: ca.pem, ca-key.pem, server.pem, server-key.pem (keys 0600). The CA is made
 * once and kept, so clients that trust it keep working; the server certificate is made again
 * when a name is missing from it or it is about to expire.
 */
export async function ensureOwnTls(home: string, names: string[]): Promise<ServerTls> {
  const dir = tlsDir(home);
  mkdirSync(dir, {recursive: true, mode: 0o700});
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca-key.pem');
  const certFile = join(dir, 'server.pem');
  const keyFile = join(dir, 'server-key.pem');
  let ca: {cert: X509.X509Certificate; key: CryptoKey};
  if (existsSync(caFile) && existsSync(caKeyFile)) {
    ca = {cert: new (x509().X509Certificate)(readFileSync(caFile, 'utf8')), key: await importKey(readFileSync(caKeyFile, 'utf8'))};
  } else {
    ca = await makeCa();
    writePrivate(caKeyFile, await exportKey(ca.key));
    writePrivate(caFile, ca.cert.toString('pem') + '\n');
  }
  const wanted = [...new Set(names.filter((n) => n !== ''))];
  if (!(existsSync(certFile) && existsSync(keyFile) && covers(readFileSync(certFile, 'utf8'), wanted, ca.cert))) {
    const made = await makeServer(ca, wanted);
    writePrivate(keyFile, made.key);
    writePrivate(certFile, made.cert);
  }
  const caPem = readFileSync(caFile, 'utf8');
  return {cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), caFile, caPem};
}

function covers(pem: string, names: string[], ca: X509.X509Certificate): boolean {
  try {
    const c = new X509Certificate(pem);
    if (Date.parse(c.validTo) - Date.now() < RENEW_DAYS * DAY) return false;
    if (!c.checkIssued(new X509Certificate(ca.toString('pem')))) return false;
    return names.every((n) => (isIP(n) ? c.checkIP(n) !== undefined : c.checkHost(n) !== undefined));
  } catch {
    return false;
  }
}

function serial(): string {
  // positive, 16 random bytes
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] &= 0x7f;
  return Buffer.from(b).toString('hex');
}

async function makeCa(): Promise<{cert: X509.X509Certificate; key: CryptoKey}> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509().X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=redfly local CA ${serial().slice(0, 8)}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + CA_DAYS * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new (x509().BasicConstraintsExtension)(true, 0, true),
      new (x509().KeyUsagesExtension)(x509().KeyUsageFlags.keyCertSign | x509().KeyUsageFlags.cRLSign, true),
      await x509().SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {cert, key: keys.privateKey};
}

async function makeServer(ca: {cert: X509.X509Certificate; key: CryptoKey}, names: string[]): Promise<{cert: string; key: string}> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cn = names.find((n) => !isIP(n)) ?? names[0] ?? 'localhost';
  const cert = await x509().X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${cn}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + SERVER_DAYS * DAY),
    signingKey: ca.key,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new (x509().BasicConstraintsExtension)(false, undefined, true),
      new (x509().KeyUsagesExtension)(x509().KeyUsageFlags.digitalSignature | x509().KeyUsageFlags.keyAgreement, true),
      new (x509().ExtendedKeyUsageExtension)([x509().ExtendedKeyUsage.serverAuth]),
      new (x509().SubjectAlternativeNameExtension)(names.map((n) => (isIP(n) ? {type: 'ip', value: n} : {type: 'dns', value: n}))),
      await x509().AuthorityKeyIdentifierExtension.create(ca.cert),
      await x509().SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey)};
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509().PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = x509().PemConverter.decode(pem)[0];
  return webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
}
