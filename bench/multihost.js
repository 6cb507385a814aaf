'use strict';
// Figures across hosts (issue 11): a control node and region hosts mad and ams as network
// namespaces (test/helpers/netns.ts, netem delays from the regions' distance when the kernel has
// netem), one database in mad with a read region ams. From a client in the root namespace,
// through ams's gateway (TLS): p50/p99 of GET (served by ams's replica) and of SET (forwarded to
// mad's primary over TLS), against the round trip the delays add, and a baseline in the same
// run: GET and SET through mad's own gateway.
//
//   npm run build && node bench/multihost.js [--ops 2000]
// Needs root, iproute2 and PostgreSQL (as the tests). The cluster helper is TypeScript: it is
// compiled by loadSource (bench/common.js) and loaded from there.
const {loadSource, numberOptions} = require('./common');

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timed(ops, fn) {
  const t = [];
  for (let i = 0; i < ops; i++) {
    const s = process.hrtime.bigint();
    await fn(i);
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return {p50: pct(t, 50), p99: pct(t, 99)};
}

async function main() {
  const opt = numberOptions(process.argv);
  const ops = opt('ops', 2000);
  const Redis = require('ioredis');
  const {createCluster} = loadSource('test/multihost/cluster.ts');
  const c = await createCluster(['mad', 'ams']);
  try {
    await c.start('control');
    await Promise.all([c.start('mad'), c.start('ams')]);
    const api = c.api();
    let db = await api.createDatabase({name: 'bench-hosts', primaryRegion: 'mad', readRegions: ['ams'], plan: '200mb', org: 'personal'});
    db = await api.waitUntilReady(db.id, {timeoutMs: 60_000});
    api.close();
    const tls = {ca: c.caPem(), checkServerIdentity: () => undefined};
    const mad = new Redis(db.endpoints.mad, {tls});
    const ams = new Redis(db.endpoints.ams, {tls});
    await mad.set('k', 'v');
    // let ams's gateway see its replica in sync (its monitor samples it) before reading there
    await new Promise((r) => setTimeout(r, 3000));
    const rows = [];
    for (const [label, op] of [
      ['GET via mad (primary host)', () => mad.get('k')],
      ['SET via mad (primary host)', (i) => mad.set(`m${i}`, 'x')],
      ['GET via ams (its replica)', () => ams.get('k')],
      ['SET via ams (-> mad over TLS)', (i) => ams.set(`a${i}`, 'x')],
    ]) {
      await timed(100, op); // warm-up
      rows.push([label, await timed(ops, op)]);
    }
    // a fresh connection per row: read-your-writes would send ams's GETs after its SETs to mad
    const ams2 = new Redis(db.endpoints.ams, {tls});
    await ams2.get('k');
    rows.push(['GET via ams, new connection', await timed(ops, () => ams2.get('k'))]);
    mad.disconnect();
    ams.disconnect();
    ams2.disconnect();
    console.log(`hosts: control, mad, ams as namespaces; delays: ${c.net.delays ? `netem, mad<->ams RTT ${c.net.rttMs('mad', 'ams')} ms` : c.net.why}`);
    console.log(`${ops} sequential commands per row, client in the root namespace, TLS to each gateway`);
    for (const [label, r] of rows) console.log(`${label.padEnd(32)} p50 ${r.p50.toFixed(3)} ms   p99 ${r.p99.toFixed(3)} ms`);
  } finally {
    await c.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
