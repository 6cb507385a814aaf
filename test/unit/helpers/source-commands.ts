// Every command of src/commands, by oclif id ("redis:cache:url"), loaded from the TypeScript
// source: the harness gives oclif this module instead of the bundle (dist/cli/bundle.js), so the
// unit tests run on a fresh clone without a build, and suites that cover every command
// enumerate them from here instead of by hand.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type {Command} from '@oclif/core';

export const COMMANDS_DIR = path.resolve(__dirname, '../../../src/commands');

function commandFiles(dir: string, prefix: string[] = []): {id: string; file: string}[] {
  const out: {id: string; file: string}[] = [];
  for (const entry of fs.readdirSync(dir, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory()) out.push(...commandFiles(path.join(dir, entry.name), [...prefix, entry.name]));
    else if (entry.name.endsWith('.ts')) out.push({id: [...prefix, entry.name.slice(0, -3)].join(':'), file: path.join(dir, entry.name)});
  }
  return out;
}

/** Command id -> command class, as the bundle's COMMANDS export (oclif's "explicit" strategy). */
export const COMMANDS: Record<string, typeof Command> = Object.fromEntries(
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  commandFiles(COMMANDS_DIR).map(({id, file}) => [id, (require(file) as {default: typeof Command}).default]),
);
