// Hosts on one machine for multi-host tests: one Linux network namespace per host, joined by a
// bridge in the root namespace (which keeps the first address, so a server started here, e.g.
// PostgreSQL, is reachable from every host), and `tc netem` delays on each host's link derived
// from the distance between the hosts' regions (src/gateway/latency.ts: RTT ≈ km / 100 + 1 ms,
// half on each side). Needs root (CI runs as root) and iproute2.
//
// Names are unique per run (a random tag), and teardown() ALWAYS removes everything it made:
// the processes started through spawn() (their whole process group), the namespaces, the
// bridge. It is idempotent, registered on process exit as well, and a failed step of
// createNetwork() tears down what it had made before throwing.
import {ChildProcess, execFileSync, spawn, SpawnOptions} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {latencyFromDistance} from '../../src/gateway/latency';

export interface HostSpec {
  name: string; // short: it is part of the namespace's name
  /** Its region (for delays); null = a host without one (a control node). */
  region: string | null;
}

export interface NetHost {
  name: string;
  region: string | null;
  ns: string;
  address: string;
  /** The host's end of its link (in its namespace). */
  dev: string;
}

export interface Network {
  /** The root namespace's address on the bridge (start PostgreSQL listening on it). */
  bridgeAddress: string;
  hosts: Record<string, NetHost>;
  /** Whether netem delays are in place (false when the kernel lacks sch_netem: see `why`). */
  delays: boolean;
  why: string | null;
  /** The round trip between two hosts' regions that the delays add (ms). */
  rttMs(a: string, b: string): number;
  /** Runs a command inside the host's namespace; the child is killed by teardown(). */
  spawn(host: string, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Sync command in the host's namespace (stdout). */
  exec(host: string, cmd: string, args: string[]): string;
  /** Kills every process spawn() started in the host (SIGKILL, whole process groups, and
   *  everything else still in its namespace, e.g. the redis-servers they started). */
  killHost(host: string): void;
  linkDown(host: string): void;
  linkUp(host: string): void;
  teardown(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, {stdio: ['ignore', 'pipe', 'pipe']}).toString();

/** Creates the namespaces, the bridge and the links; see the file's comment. */
export function createNetwork(specs: HostSpec[]): Network {
  const tag = randomBytes(3).toString('hex');
  // 10.<a>.<b>.0/24 drawn per run, so two runs at once do not share a subnet
  const a = 64 + (randomBytes(1)[0] % 128);
  const b = randomBytes(1)[0];
  const subnet = `10.${a}.${b}`;
  const bridge = `rfb${tag}`;
  const made: {ns: string[]; links: string[]} = {ns: [], links: []};
  const children = new Map<string, Set<ChildProcess>>();
  let down = false;

  const hosts: Record<string, NetHost> = {};
  const teardown = () => {
    if (down) return;
    down = true;
    for (const name of Object.keys(hosts)) killAll(name);
    for (const ns of made.ns) tryRun(() => ip('netns', 'del', ns));
    for (const link of made.links) tryRun(() => ip('link', 'del', link));
    process.off('exit', teardown);
  };
  process.on('exit', teardown);

  const killAll = (name: string) => {
    for (const c of children.get(name) ?? []) {
      if (c.pid && c.exitCode === null && c.signalCode === null) tryRun(() => process.kill(-c.pid!, 'SIGKILL'));
    }
    children.get(name)?.clear();
    // Whatever else runs in the namespace (daemons that left the process group).
    const ns = hosts[name]?.ns;
    if (ns) {
      const pids = tryRun(() => ip('netns', 'pids', ns)) ?? '';
      for (const pid of pids.split(/\s+/).filter(Boolean)) tryRun(() => process.kill(Number(pid), 'SIGKILL'));
    }
  };

  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    made.links.push(bridge);
    ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    specs.forEach((spec, i) => {
      const ns = `rf${tag}-${spec.name}`;
      const outer = `rfv${tag}${i}`;
      const inner = `rfi${tag}${i}`;
      ip('netns', 'add', ns);
      made.ns.push(ns);
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
      made.links.push(outer);
      ip('link', 'set', inner, 'netns', ns);
      ip('link', 'set', outer, 'master', bridge);
      ip('link', 'set', outer, 'up');
      const address = `${subnet}.${10 + i}`;
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', inner);
      ip('-n', ns, 'link', 'set', inner, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      hosts[spec.name] = {name: spec.name, region: spec.region, ns, address, dev: inner};
    });
  } catch (err) {
    teardown();
    throw err;
  }

  const rttMs = (x: string, y: string): number => {
    const rx = hosts[x]?.region;
    const ry = hosts[y]?.region;
    return rx && ry ? latencyFromDistance(rx, ry) : 0;
  };

  // Delays: on each host's egress, one netem class per other host (half the round trip each
  // way), chosen by destination address.
  let delays = true;
  let why: string | null = null;
  try {
    for (const h of Object.values(hosts)) {
      const others = Object.values(hosts).filter((o) => o !== h && rttMs(h.name, o.name) > 0);
      if (others.length === 0) continue;
      ip('-n', h.ns, 'link', 'show', h.dev); // the device exists
      tc(h.ns, 'qdisc', 'add', 'dev', h.dev, 'root', 'handle', '1:', 'htb', 'default', '1');
      tc(h.ns, 'class', 'add', 'dev', h.dev, 'parent', '1:', 'classid', '1:1', 'htb', 'rate', '10gbit');
      others.forEach((o, j) => {
        const id = 10 + j;
        const oneWay = rttMs(h.name, o.name) / 2;
        tc(h.ns, 'class', 'add', 'dev', h.dev, 'parent', '1:', 'classid', `1:${id}`, 'htb', 'rate', '10gbit');
        tc(h.ns, 'qdisc', 'add', 'dev', h.dev, 'parent', `1:${id}`, 'netem', 'delay', `${oneWay}ms`);
        tc(h.ns, 'filter', 'add', 'dev', h.dev, 'parent', '1:', 'protocol', 'ip', 'u32', 'match', 'ip', 'dst', `${o.address}/32`, 'flowid', `1:${id}`);
      });
    }
  } catch (err) {
    delays = false;
    why = `no netem delays: ${((err as {stderr?: Buffer}).stderr?.toString() || (err as Error).message).trim()}`;
    for (const h of Object.values(hosts)) tryRun(() => tc(h.ns, 'qdisc', 'del', 'dev', h.dev, 'root'));
  }

  return {
    bridgeAddress: `${subnet}.1`,
    hosts,
    delays,
    why,
    rttMs,
    spawn(host, cmd, args, opts = {}) {
      const h = hosts[host];
      if (!h) throw new Error(`no host ${host}`);
      const child = spawn('ip', ['netns', 'exec', h.ns, cmd, ...args], {...opts, detached: true});
      if (!children.has(host)) children.set(host, new Set());
      children.get(host)!.add(child);
      return child;
    },
    exec(host, cmd, args) {
      return execFileSync('ip', ['netns', 'exec', hosts[host].ns, cmd, ...args], {stdio: ['ignore', 'pipe', 'pipe']}).toString();
    },
    killHost: killAll,
    linkDown(host) {
      ip('-n', hosts[host].ns, 'link', 'set', hosts[host].dev, 'down');
    },
    linkUp(host) {
      ip('-n', hosts[host].ns, 'link', 'set', hosts[host].dev, 'up');
    },
    teardown,
  };
}

function tc(ns: string, ...args: string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, 'tc', ...args], {stdio: ['ignore', 'pipe', 'pipe']});
}

function tryRun<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
