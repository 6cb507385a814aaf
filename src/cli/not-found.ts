// oclif's command_not_found hook, declared in package.json so that oclif loads it only when a
// command is not found: it hands over to @oclif/plugin-not-found ("Did you mean redis list?" at
// a terminal), which is ESM and stays unloaded on every other run. Listing the plugin under
// oclif.plugins instead would read its files at every start-up.
import type {Hook} from '@oclif/core';
import {importPackageFile} from './esm';

const hook: Hook<'command_not_found'> = async function (options) {
  const plugin = (await importPackageFile('@oclif/plugin-not-found', 'index.js')).default as Hook<'command_not_found'>;
  return plugin.call(this, options);
};

export default hook;
