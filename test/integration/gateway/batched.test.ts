// The gateway's plain sockets read by the native batch (src/net/batched-io.ts), where this machine
// can build it: what a client sees (io-cases.ts), and that the batch is really in use.
import {spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {batchedIoUnavailable, batchedIoUsable} from '../../../src/net/batched-io';
import {ioCases} from './io-cases';

/** What scripts/build-native.js needs: Linux, this Node's headers, a C compiler. */
function canBuild(): boolean {
  const include = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
  return process.platform === 'linux' && fs.existsSync(path.join(include, 'node_api.h')) &&
    fs.existsSync(path.join(include, 'uv.h')) && spawnSync(process.env.CC || 'cc', ['--version']).status === 0;
}

test('the build made the native batch and the gateway uses it (where the machine can build it)', () => {
  // Not a skip: on a machine without a compiler the gateway uses Node's reads (node-reads.test.ts).
  const usable = batchedIoUsable();
  if (canBuild()) expect({usable, why: batchedIoUnavailable()}).toEqual({usable: true, why: ''});
  else expect(usable).toBe(false);
});

ioCases('batched');
