// Runs one command in-process as a user would meet it: stdout, stderr and the exit code that
// bin/run.js would give (through oclif's own error handler), with the API faked by nock.
import './oclif-env';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import nock from 'nock';
import {Command, Config} from '@oclif/core';
import * as terminal from '../../../src/cli/terminal';
import type {Database, Organization, Plan, Region} from '../../../src/api/types';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const oclifHandle = require('@oclif/core/handle') as {
  handle: (err: unknown) => Promise<void>;
  Exit: {exit: (code?: number) => void};
};

export const API = 'http://api.redfly.test';
const ROOT = path.resolve(__dirname, '../../..');

let config: Config | undefined;

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function run(
  Cmd: typeof Command,
  argv: string[],
  options: {interactive?: boolean} = {},
): Promise<RunResult> {
  config ??= await sourceConfig();
  // The id oclif gives a command it loads ("redis:create"); Cmd.run alone would use the class name.
  if (!Cmd.id) {
    const {COMMANDS} = await import('./source-commands');
    Cmd.id = Object.keys(COMMANDS).find((id) => COMMANDS[id] === Cmd) ?? Cmd.id;
  }
  const interactive = jest.spyOn(terminal, 'isInteractive').mockReturnValue(options.interactive ?? false);
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  let exited: number | undefined;
  const exit = jest.spyOn(oclifHandle.Exit, 'exit').mockImplementation((code?: number) => {
    exited = code ?? 0;
  });
  process.exitCode = undefined;
  try {
    await Cmd.run(argv, config);
  } catch (error) {
    await oclifHandle.handle(error);
  } finally {
    out.mockRestore();
    err.mockRestore();
    exit.mockRestore();
    interactive.mockRestore();
  }
  const exitCode = exited ?? (typeof process.exitCode === 'number' ? process.exitCode : 0);
  process.exitCode = undefined;
  return {stdout, stderr: withoutJestWarnings(stderr), exitCode};
}

/** oclif's config for this package, with the commands loaded from the source (source-commands.ts)
 *  instead of the bundle and its manifest, which exist only after a build. */
async function sourceConfig(): Promise<Config> {
  const pjson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  pjson.oclif = {
    ...pjson.oclif,
    commands: {strategy: 'explicit', target: './test/unit/helpers/source-commands.ts', identifier: 'COMMANDS'},
  };
  return Config.load({root: ROOT, pjson, ignoreManifest: true});
}

/**
 * Jest's cleanup of globals left by nock in an earlier test file makes Node print a
 * DeprecationWarning on stderr in the middle of a test; that is not the CLI's output.
 */
function withoutJestWarnings(text: string): string {
  return text.replace(/\(node:\d+\) \[JEST-01\][\s\S]*?See https:\/\/jestjs\.io\S*\n(\(Use `node --trace-deprecation[^\n]*\n)?/g, '');
}

/** A fresh REDFLY_HOME and API target per test; nock refuses anything not faked. */
export function useFakeApi(): {home: () => string} {
  let dir = '';
  const saved = {...process.env};
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => nock.enableNetConnect());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-cli-test-'));
    process.env.REDFLY_HOME = dir;
    process.env.REDFLY_API_URL = API;
    process.env.REDFLY_ACCESS_TOKEN = 'test-token';
    process.env.REDFLY_AUTOSTART = '0';
    delete process.env.REDFLY_ORG;
    delete process.env.REDFLY_REGION;
    delete process.env.CI;
  });
  afterEach(() => {
    nock.cleanAll();
    process.env = {...saved};
    fs.rmSync(dir, {recursive: true, force: true});
  });
  return {home: () => dir};
}

export const api = () => nock(API, {reqheaders: {authorization: 'Bearer test-token'}});

export function db(overrides: Partial<Database> = {}): Database {
  return {
    id: 'abcdefghijklmno',
    name: 'my-cache',
    org: 'personal',
    plan: 'free',
    primaryRegion: 'mad',
    readRegions: [],
    eviction: false,
    status: 'ready',
    privateUrl: 'redis://default:secret@127.0.0.1:7001',
    createdAt: '2026-11-24T03:00:00.000Z',
    updatedAt: '2026-11-24T03:00:00.000Z',
    ...overrides,
  };
}

export const DB_KEYS = [
  'id',
  'name',
  'org',
  'plan',
  'primaryRegion',
  'readRegions',
  'eviction',
  'status',
  'privateUrl',
  'createdAt',
  'updatedAt',
];

export const REGIONS: Region[] = [
  {code: 'ams', name: 'Amsterdam, Netherlands', latitude: 52.37, longitude: 4.9},
  {code: 'fra', name: 'Frankfurt, Germany', latitude: 50.11, longitude: 8.68},
  {code: 'mad', name: 'Madrid, Spain', latitude: 40.42, longitude: -3.7},
  {code: 'syd', name: 'Sydney, Australia', latitude: -33.87, longitude: 151.21},
];

export const PLANS: Plan[] = [
  {
    id: 'free',
    displayName: 'Free',
    maxDataSizeBytes: 104857600,
    maxConnections: 100,
    maxCommandsPerSecond: 300,
    maxDailyCommands: 10000,
    maxDailyBandwidthBytes: 10737418240,
    maxRequestSizeBytes: 10485760,
    pricePerMonthPerRegionUsd: 0,
  },
  {
    id: '200mb',
    displayName: '200 MB',
    maxDataSizeBytes: 209715200,
    maxConnections: 300,
    maxCommandsPerSecond: 300,
    maxDailyCommands: null,
    maxDailyBandwidthBytes: 10737418240,
    maxRequestSizeBytes: 10485760,
    pricePerMonthPerRegionUsd: 10,
  },
];

export const ORGS: Organization[] = [
  {slug: 'personal', name: 'Personal', type: 'personal', createdAt: '2026-11-24T00:00:00.000Z'},
];

export function apiError(code: string, message: string, details?: unknown) {
  return {error: {code, message, requestId: 'req-test', ...(details === undefined ? {} : {details})}};
}
