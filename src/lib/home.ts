// The state folder of redfly, shared by the CLI and the server: $REDFLY_HOME, else ~/.redfly.
// Built-ins only, so the CLI side may import it.
import * as os from 'node:os';
import * as path from 'node:path';

export function redflyHome(): string {
  return path.resolve(process.env.REDFLY_HOME || path.join(os.homedir(), '.redfly'));
}
