// Redis's own command table (the reply of COMMAND), fetched once from a backend so that "known
// command" and "right number of arguments" mean exactly what the backend that will run the
// command means by them, for whatever redis-server version is installed.
import {asText, Reply} from './resp';

export interface CommandSpec {
  name: string; // lowercase, "xgroup|create" for a subcommand
  arity: number; // Redis convention: n = exactly n words, -n = at least n
  flags: Set<string>;
  tips: string[];
  subcommands: Map<string, CommandSpec>; // key: lowercase subcommand name ("create")
}

function parseEntry(entry: Reply): CommandSpec | null {
  if (!Array.isArray(entry) || entry.length < 3) return null;
  const name = asText(entry[0]).toLowerCase();
  const arity = Number(entry[1]);
  const flags = new Set(Array.isArray(entry[2]) ? entry[2].map((f) => asText(f).toLowerCase()) : []);
  const tips = Array.isArray(entry[7]) ? entry[7].map((t) => asText(t).toLowerCase()) : [];
  const subcommands = new Map<string, CommandSpec>();
  if (Array.isArray(entry[9])) {
    for (const sub of entry[9]) {
      const spec = parseEntry(sub);
      if (spec) subcommands.set(spec.name.slice(spec.name.indexOf('|') + 1), spec);
    }
  }
  return {name, arity, flags, tips, subcommands};
}

export type Lookup =
  | {ok: true; spec: CommandSpec}
  | {ok: false; error: string};

export class CommandTable {
  private constructor(private readonly byName: Map<string, CommandSpec>) {}

  static fromReply(reply: Reply): CommandTable {
    const map = new Map<string, CommandSpec>();
    if (Array.isArray(reply)) {
      for (const entry of reply) {
        const spec = parseEntry(entry);
        if (spec) map.set(spec.name, spec);
      }
    }
    if (map.size === 0) throw new Error('COMMAND returned no commands');
    return new CommandTable(map);
  }

  get size(): number {
    return this.byName.size;
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  /** Resolves the command (and its subcommand for container commands) and checks arity, with
   *  Redis's own error texts so clients display them as they would from Redis. */
  lookup(args: ReadonlyArray<Buffer>): Lookup {
    const name = args[0].toString('utf8');
    const spec = this.byName.get(name.toLowerCase());
    if (!spec) return {ok: false, error: unknownCommandError(name, args)};
    if (spec.subcommands.size > 0) {
      if (args.length < 2) return {ok: false, error: arityError(spec.name)};
      const subName = args[1].toString('utf8');
      const sub = spec.subcommands.get(subName.toLowerCase());
      if (!sub) return {ok: false, error: `ERR unknown subcommand '${clip(subName)}'. Try ${name.toUpperCase()} HELP.`};
      return arityOk(sub, args.length) ? {ok: true, spec: sub} : {ok: false, error: arityError(sub.name)};
    }
    return arityOk(spec, args.length) ? {ok: true, spec} : {ok: false, error: arityError(spec.name)};
  }
}

const arityOk = (spec: CommandSpec, words: number): boolean =>
  spec.arity >= 0 ? words === spec.arity : words >= -spec.arity;

const clip = (s: string): string => (s.length > 128 ? s.slice(0, 128) : s);

export const arityError = (fullName: string): string => `ERR wrong number of arguments for '${fullName}' command`;

function unknownCommandError(name: string, args: ReadonlyArray<Buffer>): string {
  // Same shape as Redis 7: up to 128 bytes of arguments, each quoted.
  let rest = '';
  for (const a of args.slice(1)) {
    if (rest.length >= 128) break;
    rest += `'${a.toString('utf8').slice(0, 128 - rest.length)}' `;
  }
  return `ERR unknown command '${clip(name)}', with args beginning with: ${rest}`;
}
