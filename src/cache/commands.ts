// The cache's view of Redis's own command table (src/redis/command-table.ts): "known command"
// and "right number of arguments" mean exactly what the backend that will run the command means
// by them, and are refused with Redis's own error texts.
import {arityOk as arityFits, CommandEntry} from '../redis/command-table';

export type CommandSpec = CommandEntry;

export type Lookup =
  | {ok: true; spec: CommandSpec}
  | {ok: false; error: string};

export class CommandTable {
  constructor(private readonly byName: ReadonlyMap<string, CommandSpec>) {}

  get size(): number {
    return this.byName.size;
  }

  /** The top-level command by lower-case name. */
  get(lower: string): CommandSpec | undefined {
    return this.byName.get(lower);
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

const arityOk = (spec: CommandSpec, words: number): boolean => arityFits(spec.arity, words);

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
