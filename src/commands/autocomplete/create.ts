import {Command} from '@oclif/core';
import {runAutocomplete} from '../../cli/autocomplete';

// @oclif/plugin-autocomplete's `autocomplete create`: writes the completion cache.
export default class AutocompleteCreate extends Command {
  static hidden = true;
  static summary = 'Create the completion cache';
  static description = 'Writes the list of commands and flags that tab completion reads. `autocomplete` runs it for you; run it again after an upgrade if completion lists old commands.';
  static examples = ['<%= config.bin %> autocomplete create'];

  async run(): Promise<void> {
    await runAutocomplete('commands/autocomplete/create.js', this.argv, this.config);
  }
}
