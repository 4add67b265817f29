// Command-line flags of rxrnn-nats: node:util parseArgs for the words, then every value checked
// (integer ranges, choices) with a UsageError naming the flag; shared flags (servers, stream).
import { parseArgs } from 'node:util';

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the CLI reports in one line (exit code 2): bad input, a deployment that does not exist… */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** One flag of a command. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  help: string;
  /** Shown in the usage after the flag name (e.g. N, URLS, FILE). */
  arg?: string;
  default?: string;
}

/** Flags of a command by name. */
export type Flags = Record<string, FlagSpec>;

/** The flags every command that talks to NATS takes. */
export const CONNECTION_FLAGS: Flags = {
  servers: {
    type: 'string',
    arg: 'URLS',
    help: 'NATS server URLs, comma-separated (every cluster node); default $NATS_URL or nats://127.0.0.1:4222',
  },
  stream: { type: 'string', arg: 'NAME', help: 'deployment name (streams, buckets, subjects)', default: 'rxrnn' },
};

/** Parsed flag values (strings and booleans as given). */
export type Values = Record<string, string | boolean | undefined>;

/** Parses `argv` against `flags`; a positional word or an unknown flag is a UsageError. */
export function parse(argv: readonly string[], flags: Flags): Values {
  const options: Record<string, { type: 'string' | 'boolean'; default?: string }> = {};
  for (const [name, f] of Object.entries(flags))
    options[name] = { type: f.type, ...(f.default !== undefined ? { default: f.default } : {}) };
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}, expected a --flag`);
    return values as Values;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message.replace(/\. To specify.*$/s, ''));
  }
}

/** The servers flag as a list (default $NATS_URL or the local default port). */
export function servers(v: Values): string[] {
  const raw = (v.servers as string | undefined) ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw new UsageError('--servers needs at least one URL');
  return list;
}

/** An integer flag in [min, max], or `def` when absent. */
export function int(
  v: Values,
  name: string,
  def: number | undefined,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const raw = v[name];
  if (raw === undefined) return def;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isSafeInteger(n)) {
    throw new UsageError(`--${name} ${JSON.stringify(raw)}, expected an integer`);
  }
  if (n < min || n > max)
    throw new UsageError(
      `--${name} ${n}, expected ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`}`,
    );
  return n;
}

/** A number flag ≥ min, or `def` when absent. */
export function num(v: Values, name: string, def: number | undefined, min = 0): number | undefined {
  const raw = v[name];
  if (raw === undefined) return def;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) {
    throw new UsageError(`--${name} ${JSON.stringify(raw)}, expected a number`);
  }
  if (n < min) throw new UsageError(`--${name} ${n}, expected >= ${min}`);
  return n;
}

/** A string flag that must be one of `choices`. */
export function choice<T extends string>(v: Values, name: string, choices: readonly T[], def: T): T {
  const raw = v[name] ?? def;
  if (!choices.includes(raw as T))
    throw new UsageError(`--${name} ${JSON.stringify(raw)}, expected one of ${choices.join(', ')}`);
  return raw as T;
}

/** The flag list of a usage message. */
export function describeFlags(flags: Flags): string {
  const rows = Object.entries(flags).map(([name, f]) => [
    `  --${name}${f.type === 'string' ? ` ${f.arg ?? 'VALUE'}` : ''}`,
    `${f.help}${f.default !== undefined ? ` (default ${f.default})` : ''}`,
  ]);
  const width = Math.max(...rows.map(([l]) => l!.length)) + 2;
  return rows.map(([l, r]) => l!.padEnd(width) + r).join('\n');
}
