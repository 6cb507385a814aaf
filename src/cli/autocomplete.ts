// The commands of @oclif/plugin-autocomplete, run through thin stand-ins in src/commands so that
// the plugin (ESM, with its own files and manifest) is loaded only by `redfly autocomplete`,
// not read at every start-up as an oclif.plugins entry would be.
import type {Interfaces} from '@oclif/core';
import {importPackageFile} from './esm';

/** Runs the plugin's command `file` (e.g. "commands/autocomplete/index.js") with our argv and config. */
export async function runAutocomplete(file: string, argv: string[], config: Interfaces.Config): Promise<unknown> {
  const real = (await importPackageFile('@oclif/plugin-autocomplete', file)).default as {
    run(argv: string[], config: Interfaces.Config): Promise<unknown>;
  };
  return real.run(argv, config);
}
