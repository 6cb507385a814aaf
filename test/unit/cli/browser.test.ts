import * as child from 'node:child_process';
import {openBrowser} from '../../../src/cli/browser';

jest.mock('node:child_process', () => ({spawn: jest.fn(() => ({on: jest.fn(), unref: jest.fn()}))}));
const spawn = child.spawn as unknown as jest.Mock;

describe('openBrowser', () => {
  afterEach(() => spawn.mockClear());

  it('on a Linux machine without a display there is no browser: nothing is started', () => {
    expect(openBrowser('http://x/', {}, 'linux')).toBe(false);
    expect(spawn).not.toHaveBeenCalled();
  });

  it('with a display: xdg-open, detached', () => {
    expect(openBrowser('http://x/', {DISPLAY: ':0'}, 'linux')).toBe(true);
    expect(spawn).toHaveBeenCalledWith('xdg-open', ['http://x/'], expect.objectContaining({detached: true}));
  });

  it('$BROWSER wins over the platform', () => {
    expect(openBrowser('http://x/', {BROWSER: 'firefox'}, 'darwin')).toBe(true);
    expect(spawn).toHaveBeenCalledWith('firefox', ['http://x/'], expect.anything());
  });

  it('macOS: open', () => {
    expect(openBrowser('http://x/', {}, 'darwin')).toBe(true);
    expect(spawn).toHaveBeenCalledWith('open', ['http://x/'], expect.anything());
  });
});
