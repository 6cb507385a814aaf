import {Args, Command} from '@oclif/core';
import {runAutocomplete} from '../../cli/autocomplete';

// @oclif/plugin-autocomplete's `autocomplete script`: the line a shell profile evals.
export default class AutocompleteScript extends Command {
  static hidden = true;
  static summary = 'Print the shell setup line for completion';
  static description = 'Prints the line that a shell profile evaluates to load completion for redfly. `autocomplete` shows where to put it.';
  static examples = ['<%= config.bin %> autocomplete script bash'];
  static args = {shell: Args.string({description: 'shell type', required: false})};

  async run(): Promise<void> {
    await runAutocomplete('commands/autocomplete/script.js', this.argv, this.config);
  }
}
