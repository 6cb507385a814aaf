// The only door to @inquirer/prompts: prompts render on stderr (stdout is for data), the library
// loads only when a prompt is really shown, and tests can swap the streams to type answers.
import type {Readable, Writable} from 'node:stream';

export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
  checked?: boolean;
  disabled?: boolean | string;
}

interface Streams {
  input?: Readable;
  output?: Writable;
}

let streams: Streams = {};

/** Tests: drive prompts from a fake keyboard. */
export function setPromptStreams(next: Streams): void {
  streams = next;
}

function context() {
  return {input: streams.input, output: streams.output ?? process.stderr};
}

function lib(): typeof import('@inquirer/prompts') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@inquirer/prompts');
}

/** A line of explanation before a question, on the same stream as the prompts. */
export function say(text: string): void {
  context().output.write(`${text}\n`);
}

export function select<T>(config: {message: string; choices: Choice<T>[]; default?: T; pageSize?: number}): Promise<T> {
  return lib().select<T>({pageSize: 15, ...config}, context());
}

export function checkbox<T>(config: {
  message: string;
  choices: Choice<T>[];
  pageSize?: number;
  validate?: (selected: readonly {value: T}[]) => boolean | string;
}): Promise<T[]> {
  return lib().checkbox<T>({pageSize: 15, ...config}, context());
}

export function input(config: {
  message: string;
  default?: string;
  validate?: (value: string) => boolean | string;
}): Promise<string> {
  return lib().input(config, context());
}

export function password(config: {message: string; validate?: (value: string) => boolean | string}): Promise<string> {
  return lib().password({mask: '*', ...config}, context());
}

export function confirm(config: {message: string; default?: boolean}): Promise<boolean> {
  return lib().confirm(config, context());
}
