'use strict';
// Helpers every benchmark script shares. Node built-ins only.
const net = require('node:net');

/**
 * A TCP port that was free on 127.0.0.1 a moment ago (the kernel picked it for a listener that
 * closed at once). Resolves to the port number; rejects if no listener could be opened.
 */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Numeric `--name value` options of a script: `numberOptions(argv)('reps', 3)` is the number after
 * `--reps` in argv, or 3 when argv has no `--reps`.
 */
function numberOptions(argv) {
  return (name, dflt) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
}

module.exports = {freePort, numberOptions};
