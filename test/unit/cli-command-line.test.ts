import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { readCommandLine, usageError } from '../../src/cli/commandLine.js';

/** src/cli/commandLine.ts: how every CLI answers a bad command line and --help. */

const USAGE = 'Usage: npm run x -- [options]';

afterEach(() => {
  jest.restoreAllMocks();
});

describe('readCommandLine', () => {
  test('returns what parse returned when it neither threw nor asked for help, printing nothing', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    expect(readCommandLine(USAGE, () => ({ help: false, site: 'a/b' }))).toEqual({ help: false, site: 'a/b' });
    expect(log).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });

  test('a throwing parse prints its reason and the usage on stderr and gives 2', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    const code = readCommandLine(USAGE, () => {
      throw new Error('invalid --site "x"');
    });
    expect(code).toBe(2);
    expect(error.mock.calls).toEqual([[`invalid --site "x"\n\n${USAGE}`]]);
    expect(log).not.toHaveBeenCalled();
  });

  test('--help prints the usage on stdout and gives 0', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    expect(readCommandLine(USAGE, () => ({ help: true }))).toBe(0);
    expect(log.mock.calls).toEqual([[USAGE]]);
    expect(error).not.toHaveBeenCalled();
  });

  test('usageError prints the reason and the usage and gives 2', () => {
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    expect(usageError(new Error('--table is required'), USAGE)).toBe(2);
    expect(error.mock.calls).toEqual([[`--table is required\n\n${USAGE}`]]);
  });
});
