// How messages name the CLI's binary: oclif's config.bin ("redfly", from package.json), set by
// BaseCommand.init() before any command runs, so every hint and usage line says the same name.
let name = 'redfly';

/** The binary's name, for hints: `${bin()} redis list`. */
export function bin(): string {
  return name;
}

/** Called once by BaseCommand with this.config.bin. */
export function setBin(value: string): void {
  name = value;
}
