// Command-line flag parsing from a per-command table: `--name value`, `--name=value` and boolean
// switches; every value is checked (type, range, choices) and a problem is a UsageError (exit 2).

/** A bad command line: the CLI prints the message and the command's usage, then exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** One flag: its value type, default, and the limits a value must respect. */
export type FlagSpec =
  | { type: 'boolean'; help: string }
  | { type: 'string'; help: string; default?: string; choices?: readonly string[]; allowEmpty?: boolean; arg?: string }
  | { type: 'int'; help: string; default?: number; min?: number; max?: number }
  | {
      type: 'number';
      help: string;
      default?: number;
      min?: number;
      max?: number;
      exclusiveMin?: boolean;
      /** When this flag is not given but flag `defaultFrom` is, it takes that flag's value. */
      defaultFrom?: string;
    };

export type FlagTable = Record<string, FlagSpec>;

/** Parsed values: booleans are always present, the rest when given or defaulted. */
export type Flags = Record<string, string | number | boolean | undefined>;

/** Parses `argv` (the words after the command name) against `table`. Positional words are refused. */
export function parseFlags(command: string, argv: readonly string[], table: FlagTable): Flags {
  const out: Flags = {};
  const given = new Set<string>();
  for (const [name, spec] of Object.entries(table)) {
    if (spec.type === 'boolean') out[name] = false;
    else if (spec.default !== undefined) out[name] = spec.default;
  }
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('--') || word === '--') {
      throw new UsageError(`unexpected argument ${JSON.stringify(word)}, expected a --flag`, command);
    }
    const eq = word.indexOf('=');
    const name = word.slice(2, eq === -1 ? undefined : eq);
    const spec = table[name];
    if (!spec) throw new UsageError(`unknown flag --${name} for "${command}"`, command);
    if (spec.type === 'boolean') {
      if (eq !== -1) throw new UsageError(`--${name} is a switch and takes no value`, command);
      out[name] = true;
      continue;
    }
    let raw: string;
    if (eq !== -1) raw = word.slice(eq + 1);
    else {
      // "-" alone is a value (stdin); any other word starting with "--" means the value is missing.
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2))
        throw new UsageError(`--${name} needs a value`, command);
      raw = next;
      i++;
    }
    out[name] = parseValue(command, name, spec, raw);
    given.add(name);
  }
  for (const [name, spec] of Object.entries(table)) {
    if (spec.type === 'number' && spec.defaultFrom && !given.has(name) && given.has(spec.defaultFrom))
      out[name] = out[spec.defaultFrom];
  }
  return out;
}

function parseValue(
  command: string,
  name: string,
  spec: Exclude<FlagSpec, { type: 'boolean' }>,
  raw: string,
): string | number {
  if (spec.type === 'string') {
    if (raw === '' && !spec.allowEmpty) throw new UsageError(`--${name} needs a non-empty value`, command);
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new UsageError(`--${name} ${JSON.stringify(raw)}, expected one of ${spec.choices.join(', ')}`, command);
    }
    return raw;
  }
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(
      `--${name} ${JSON.stringify(raw)}, expected ${spec.type === 'int' ? 'an integer' : 'a number'}`,
      command,
    );
  }
  if (spec.type === 'int' && !Number.isInteger(value))
    throw new UsageError(`--${name} ${raw}, expected an integer`, command);
  const low = spec.type === 'number' && spec.exclusiveMin;
  if (spec.min !== undefined && (low ? value <= spec.min : value < spec.min)) {
    throw new UsageError(`--${name} ${raw}, expected ${low ? '>' : '>='} ${spec.min}`, command);
  }
  if (spec.max !== undefined && value > spec.max)
    throw new UsageError(`--${name} ${raw}, expected <= ${spec.max}`, command);
  return value;
}

/** The flag list of a usage message, one flag a line, with defaults. */
export function describeFlags(table: FlagTable): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const value =
      spec.type === 'boolean'
        ? ''
        : spec.type === 'string' && spec.choices
          ? ` ${spec.choices.join('|')}`
          : ` ${spec.type === 'string' ? (spec.arg ?? 'TEXT') : spec.type === 'int' ? 'N' : 'X'}`;
    const from = spec.type === 'number' ? spec.defaultFrom : undefined;
    const def =
      spec.type === 'boolean'
        ? ''
        : spec.default !== undefined
          ? ` (default ${spec.default}${from ? `, or --${from}'s value when that is given` : ''})`
          : from
            ? ` (default: --${from}'s value)`
            : '';
    return [`  --${name}${value}`, `${spec.help}${def}`] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => l.padEnd(width) + r).join('\n');
}
