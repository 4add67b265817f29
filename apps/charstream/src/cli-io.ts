// What a command gets from the process: its streams, an AbortSignal raised by Ctrl-C, and the
// error class for problems the user can fix (bad input file, bad checkpoint), which exit with 2.
import type { Flags, FlagTable } from './args.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream;
  /** Aborted on the first SIGINT/SIGTERM: commands stop, save and return. */
  signal: AbortSignal;
}

/** A problem with the user's input (not a bug): one line on stderr, exit code 2. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** A command: its flag table, a one-line summary and the code that runs it. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Command lines shown under "examples" in --help (without the leading `charstream`). */
  examples?: readonly string[];
  flags: FlagTable;
  run(flags: Flags, io: CliIo): Promise<number>;
}
