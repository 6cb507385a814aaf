// Small memories of the CLI between runs (the last primary region chosen), under $REDFLY_HOME.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {home} from './credentials';

interface CliState {
  lastRegion?: string;
}

const file = () => path.join(home(), 'cli-state.json');

export function readState(): CliState {
  try {
    return JSON.parse(fs.readFileSync(file(), 'utf8')) as CliState;
  } catch {
    return {};
  }
}

export function rememberRegion(code: string): void {
  try {
    fs.mkdirSync(home(), {recursive: true, mode: 0o700});
    fs.writeFileSync(file(), JSON.stringify({...readState(), lastRegion: code}) + '\n');
  } catch {
    // A preference that cannot be saved is not worth failing a create for.
  }
}
