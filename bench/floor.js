#!/usr/bin/env node
// The floor of a proxy in Node on redfly's own I/O layer (src/net): each accepted connection is
// paired with a connection to Redis and their bytes are copied both ways through the native
// batch (readInBatches) and writeDirect(), with no parsing, no command table, no limits and no
// shared upstream. What it costs per command is what Node, libuv and the addon cost before the
// gateway does anything: bench/gateway.js --floor runs it as the target "node floor", so the
// gateway's own per-command work shows as its distance from this row.
//   node bench/floor.js <listen port> <redis port>   (prints "ready" once listening)
'use strict';
const net = require('node:net');
const {loadSource} = require('./common');

const {readInBatches, stopBatched, batchedIoUsable, batchedIoUnavailable} = loadSource('src/net/batched-io.ts');
const {writeDirect} = loadSource('src/net/direct-write.ts');

const [listenPort, redisPort] = process.argv.slice(2).map(Number);

/** Copies what `from` reads to `to` (in order: what one write leaves, the socket queues). */
function pipeBatched(from, to) {
  const fd = from._handle?.fd;
  const b = readInBatches(fd, (buf, off, n) => {
    if (n > 0) writeDirect(to, buf, true, off, off + n, true);
    else from.destroy(); // end of stream or an error: this floor ends the pair (on 'close')
  });
  if (b === null) throw new Error(`floor: the native batch is off (${batchedIoUnavailable()})`);
  from.once('close', () => {
    stopBatched(b);
    to.destroy();
  });
}

net.createServer({pauseOnConnect: true, noDelay: true}, (client) => {
  const up = net.connect({host: '127.0.0.1', port: redisPort, noDelay: true});
  up.pause();
  client.on('error', () => client.destroy());
  up.on('error', () => up.destroy());
  up.once('connect', () => {
    if (client.destroyed) return up.destroy();
    pipeBatched(client, up);
    pipeBatched(up, client);
  });
}).listen(listenPort, '127.0.0.1', () => {
  if (!batchedIoUsable()) {
    console.error(`floor: the native batch is off (${batchedIoUnavailable()})`);
    process.exit(1);
  }
  console.log('ready');
});
