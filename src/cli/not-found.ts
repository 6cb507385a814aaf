// oclif's command_not_found hook, declared in package.json so that oclif loads it only when a
// command is not found: it hands over to @oclif/plugin-not-found, which is ESM and stays unloaded
// on every other run (listing it under oclif.plugins would read its files at every start-up).
// At a terminal the plugin asks "Did you mean redis list?" and runs the answer; without one it
// would only say the command does not exist, so there the suggestion is printed here, with the
// plugin's own choice of the nearest command.
import type {Hook} from '@oclif/core';
import {importPackageFile} from './esm';

const hook: Hook<'command_not_found'> = async function (options) {
  if (process.stdin.isTTY) {
    const plugin = (await importPackageFile('@oclif/plugin-not-found', 'index.js')).default as Hook<'command_not_found'>;
    return plugin.call(this, options);
  }
  const {config, id} = options;
  const utils = (await importPackageFile('@oclif/plugin-not-found', 'utils.js')).default as {
    closest(target: string, possibilities: string[]): string;
  };
  const hidden = new Set(config.commands.filter((c) => c.hidden).map((c) => c.id));
  const ids = [...config.commandIDs, ...config.commands.flatMap((c) => c.aliases)].filter((c) => !hidden.has(c));
  const spaced = (commandId: string) => commandId.split(':').join(config.topicSeparator ?? ' ');
  const suggestion = utils.closest(id, ids);
  const topic = config.findTopic(id.split(':')[0]) ? ` ${id.split(':')[0]}` : '';
  this.warn(`${spaced(id)} is not a ${config.bin} command.${suggestion ? ` Did you mean ${spaced(suggestion)}?` : ''}`);
  this.error(`Run ${config.bin} help${topic} for a list of available commands.`, {exit: 127});
};

export default hook;
