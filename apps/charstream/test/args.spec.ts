// parseFlags: values, defaults, limits and the UsageErrors the CLI turns into exit code 2.
import { describe, expect, it } from 'vitest';
import { describeFlags, type FlagTable, parseFlags, UsageError } from '../src/args.js';

const table: FlagTable = {
  input: { type: 'string', help: 'file' },
  cell: { type: 'string', choices: ['lstm', 'gru'], default: 'lstm', help: 'cell' },
  hidden: { type: 'int', min: 1, max: 64, default: 8, help: 'H' },
  lr: { type: 'number', min: 0, exclusiveMin: true, max: 1, help: 'lr' },
  json: { type: 'boolean', help: 'json' },
};

describe('parseFlags', () => {
  it('reads both flag forms, fills defaults and keeps "-" as a value', () => {
    const f = parseFlags('train', ['--input', '-', '--hidden=16', '--lr', '0.5', '--json'], table);
    expect(f).toEqual({ input: '-', cell: 'lstm', hidden: 16, lr: 0.5, json: true });
  });

  it('a flag with defaultFrom takes the other flag’s value when only that one is given', () => {
    const t: FlagTable = {
      dropout: { type: 'number', default: 0.25, help: 'p' },
      emb: { type: 'number', default: 0.1, defaultFrom: 'dropout', help: 'e' },
      out: { type: 'number', defaultFrom: 'dropout', help: 'o' },
    };
    expect(parseFlags('train', [], t)).toEqual({ dropout: 0.25, emb: 0.1 });
    expect(parseFlags('train', ['--dropout', '0.3'], t)).toEqual({ dropout: 0.3, emb: 0.3, out: 0.3 });
    expect(parseFlags('train', ['--dropout', '0.3', '--emb', '0'], t)).toEqual({ dropout: 0.3, emb: 0, out: 0.3 });
    expect(describeFlags(t)).toContain("e (default 0.1, or --dropout's value when that is given)");
    expect(describeFlags(t)).toContain("o (default: --dropout's value)");
  });

  it('leaves switches false and optional values absent', () => {
    expect(parseFlags('train', [], table)).toEqual({ cell: 'lstm', hidden: 8, json: false });
  });

  it.each([
    [['--nope', '1'], /unknown flag --nope/],
    [['--hidden', 'abc'], /--hidden "abc", expected an integer/],
    [['--hidden', '1.5'], /expected an integer/],
    [['--hidden', '0'], /expected >= 1/],
    [['--hidden', '65'], /expected <= 64/],
    [['--lr', '0'], /expected > 0/],
    [['--lr', 'NaN'], /expected a number/],
    [['--cell', 'tcn'], /expected one of lstm, gru/],
    [['--input'], /--input needs a value/],
    [['--input', '--json'], /--input needs a value/],
    [['--json=yes'], /takes no value/],
    [['stray'], /unexpected argument "stray"/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseFlags('train', argv, table)).toThrow(UsageError);
    expect(() => parseFlags('train', argv, table)).toThrow(message);
  });

  it('describes every flag with its default', () => {
    const text = describeFlags(table);
    expect(text).toContain('--cell lstm|gru');
    expect(text).toContain('(default 8)');
    expect(text.split('\n')).toHaveLength(Object.keys(table).length);
  });
});
