import {Command} from '@oclif/core';
import {runAutocomplete} from '../../cli/autocomplete';

// @oclif/plugin-autocomplete's `autocomplete create`: writes the completion cache.
export default class AutocompleteCreate extends Command {
  static hidden = true;
  static summary = 'Create the completion cache';

  async run(): Promise<void> {
    await runAutocomplete('commands/autocomplete/create.js', this.argv, this.config);
  }
}
