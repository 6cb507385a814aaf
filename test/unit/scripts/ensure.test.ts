// scripts/ensure.js decides whether `npm start`, `npm test` and `npm pack` install and build
// first. Real files in a temp tree shaped like a checkout.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ensure = require('../../../scripts/ensure.js') as {
  buildNeeded(root: string): string | undefined;
  installNeeded(root: string): string | undefined;
  writeBuildStamp(root: string): void;
};

let root: string;

function write(rel: string, content: string) {
  fs.mkdirSync(path.dirname(path.join(root, rel)), {recursive: true});
  fs.writeFileSync(path.join(root, rel), content);
}

const lock = {
  name: 'redfly',
  lockfileVersion: 3,
  packages: {
    '': {name: 'redfly', version: '0.1.0'},
    'node_modules/fastify': {version: '5.6.1'},
    'node_modules/@esbuild/darwin-arm64': {version: '0.25.12', optional: true, dev: true},
  },
};

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-ensure-'));
  write('package.json', '{"name":"redfly"}\n');
  write('package-lock.json', JSON.stringify(lock));
  write('tsconfig.json', '{}');
  write('tsconfig.build.json', '{}');
  write('scripts/bundle-cli.js', '// bundler\n');
  write('src/index.ts', 'export const a = 1;\n');
  write('src/store/migrations/001.sql', 'create table t (x);\n');
  for (const out of ['dist/cli/bundle.js', 'dist/control/main.js', 'oclif.manifest.json']) write(out, 'built');
});

afterEach(() => fs.rmSync(root, {recursive: true, force: true}));

describe('build', () => {
  test('a dist/ built from the current sources needs no build', () => {
    ensure.writeBuildStamp(root);
    expect(ensure.buildNeeded(root)).toBeUndefined();
  });

  test('a fresh clone (no dist/) needs a build', () => {
    fs.rmSync(path.join(root, 'dist'), {recursive: true});
    expect(ensure.buildNeeded(root)).toBe('dist/cli/bundle.js is missing');
  });

  test('a dist/ from before the stamp existed, or from an interrupted build, needs a build', () => {
    expect(ensure.buildNeeded(root)).toMatch(/does not say which sources/);
  });

  test('a missing output needs a build even with a matching stamp', () => {
    ensure.writeBuildStamp(root);
    fs.rmSync(path.join(root, 'oclif.manifest.json'));
    expect(ensure.buildNeeded(root)).toBe('oclif.manifest.json is missing');
  });

  test.each([
    ['an edited source file', () => write('src/index.ts', 'export const a = 2;\n')],
    ['a new source file', () => write('src/lib/new.ts', 'export {};\n')],
    ['a deleted source file', () => fs.rmSync(path.join(root, 'src/store/migrations/001.sql'))],
    ['a migration', () => write('src/store/migrations/002.sql', 'alter table t add y;\n')],
    ['package.json', () => write('package.json', '{"name":"redfly","version":"0.2.0"}\n')],
    ['package-lock.json', () => write('package-lock.json', JSON.stringify({...lock, lockfileVersion: 2}))],
    ['the bundler', () => write('scripts/bundle-cli.js', '// bundler v2\n')],
    ['tsconfig.build.json', () => write('tsconfig.build.json', '{"include":[]}')],
  ])('%s makes dist/ stale', (_what, change) => {
    ensure.writeBuildStamp(root);
    change();
    expect(ensure.buildNeeded(root)).toBe('the sources changed since the last build');
  });

  test('a checkout that touches files without changing them does not', () => {
    ensure.writeBuildStamp(root);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(root, 'src/index.ts'), later, later);
    expect(ensure.buildNeeded(root)).toBeUndefined();
  });
});

describe('install', () => {
  const installed = (packages: Record<string, unknown>) => write('node_modules/.package-lock.json', JSON.stringify({name: 'redfly', lockfileVersion: 3, packages}));

  test('a fresh clone (no node_modules) needs npm ci', () => {
    expect(ensure.installNeeded(root)).toBe('node_modules is missing');
  });

  test('every locked package at its version needs nothing; another platform\'s optional binary may be absent', () => {
    installed({'node_modules/fastify': {version: '5.6.1'}});
    expect(ensure.installNeeded(root)).toBeUndefined();
  });

  test('a package the lock added since the last install needs npm ci', () => {
    installed({});
    expect(ensure.installNeeded(root)).toBe('fastify is not installed');
  });

  test('a package at another version than the lock says needs npm ci', () => {
    installed({'node_modules/fastify': {version: '5.5.0'}});
    expect(ensure.installNeeded(root)).toBe('fastify is 5.5.0, package-lock.json says 5.6.1');
  });
});
