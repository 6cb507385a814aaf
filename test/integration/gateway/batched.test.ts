// The gateway's plain sockets read by the native batch (src/net/batched-io.ts), where this machine
// can build it: what a client sees (io-cases.ts), and that the batch is really in use.
import {spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {batchedIoUnavailable, batchedIoUsable, nativeWrite} from '../../../src/net/batched-io';
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

test("the addon's write takes a range of a buffer, and refuses one outside it", () => {
  const write = nativeWrite();
  if (write === null) return; // without the addon there is nothing to call (the test above says whether that is right)
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-write-')), 'out');
  const fd = fs.openSync(file, 'w');
  try {
    const buf = Buffer.from('stale *1\r\n$4\r\nPING\r\n stale');
    expect(write(fd, buf, 6, 20)).toBe(14);
    for (const [s, e] of [[0, buf.length + 1], [-1, 3], [5, 4]]) expect(() => write(fd, buf, s, e)).toThrow(/write range out of bounds/);
  } finally {
    fs.closeSync(fd);
  }
  expect(fs.readFileSync(file, 'utf8')).toBe('*1\r\n$4\r\nPING\r\n');
  fs.rmSync(path.dirname(file), {recursive: true, force: true});
});

ioCases('batched');
