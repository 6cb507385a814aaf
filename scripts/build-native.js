#!/usr/bin/env node
// Builds the gateway's native addon (src/native/batched-io.c, Node-API + libuv + epoll) into
// dist/native/batched-io.node with the system C compiler and the headers this Node ships
// (<prefix>/include/node: node_api.h, uv.h). Part of `npm run build`.
//
// The addon only makes the gateway faster (src/net/batched-io.ts): where it cannot be built
// (not Linux, no C compiler, no headers) this prints why and exits 0, and the gateway uses Node's
// own reads. REDFLY_REQUIRE_NATIVE=1 makes that an error instead, for a build that must have it.
'use strict';
const {spawnSync} = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SOURCE = path.join(ROOT, 'src', 'native', 'batched-io.c');
const OUT = path.join(ROOT, 'dist', 'native', 'batched-io.node');

function skip(why) {
  const text = `build-native: batched-io not built (${why}); the gateway will read with Node's own sockets`;
  if (process.env.REDFLY_REQUIRE_NATIVE === '1') {
    console.error(text);
    process.exit(1);
  }
  console.warn(text);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`epoll is Linux's; this is ${process.platform}`);
const include = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
for (const h of ['node_api.h', 'uv.h']) {
  if (!fs.existsSync(path.join(include, h))) skip(`${path.join(include, h)} is missing`);
}
const cc = process.env.CC || 'cc';
fs.mkdirSync(path.dirname(OUT), {recursive: true});
const args = ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-I', include, '-o', OUT, SOURCE];
const r = spawnSync(cc, args, {stdio: ['ignore', 'inherit', 'inherit']});
if (r.error) skip(`${cc}: ${r.error.message}`);
if (r.status !== 0) {
  // A compiler that is there but fails is a fault in the source: say so loudly.
  console.error(`build-native: ${cc} ${args.join(' ')} failed`);
  process.exit(1);
}
