// Loading an ESM-only package (the oclif plugins) from the CommonJS CLI, only when needed.
import * as path from 'node:path';
import {pathToFileURL} from 'node:url';

type Importer = (specifier: string) => Promise<Record<string, unknown>>;

/**
 * import() of a file of an installed package, by path (the plugins' "exports" hide their
 * files from a bare specifier). Goes through bin/run.js's import() when it gave one (the bundle,
 * compiled with a V8 code cache, cannot import() on Node 20: see scripts/bundle-cli.js); under
 * ts-jest or a plain require, through a Function made in the main context.
 */
export async function importPackageFile(pkg: string, file: string): Promise<Record<string, unknown>> {
  const entry = require.resolve(pkg); // "exports": "./lib/index.js"
  const url = pathToFileURL(path.join(path.dirname(entry), file)).href;
  const viaEntry = (globalThis as Record<symbol, Importer | undefined>)[Symbol.for('redfly.import')];
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const importer: Importer = viaEntry ?? (new Function('s', 'return import(s)') as Importer);
  return importer(url);
}
