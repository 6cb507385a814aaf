import {Args, Command, Flags} from '@oclif/core';
import {runAutocomplete} from '../cli/autocomplete';

// @oclif/plugin-autocomplete's `autocomplete`, loaded on use (src/cli/autocomplete.ts).
export default class Autocomplete extends Command {
  static summary = 'Set up tab completion of commands and flags for bash, zsh or PowerShell';
  static description = 'Builds the completion cache from the installed commands and prints the line to add to your shell profile.';
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> bash', '<%= config.bin %> <%= command.id %> zsh', '<%= config.bin %> <%= command.id %> --refresh-cache'];
  static args = {shell: Args.string({description: 'shell type', options: ['zsh', 'bash', 'powershell'], required: false})};
  static flags = {'refresh-cache': Flags.boolean({char: 'r', summary: 'refresh the cache only (no instructions)'})};

  async run(): Promise<void> {
    await runAutocomplete('commands/autocomplete/index.js', this.argv, this.config);
  }
}
