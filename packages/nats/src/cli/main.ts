// The rxrnn-nats command line: picks the command, parses its flags, runs it, and maps failures
// to exit codes — 2 for usage and reported problems (one line), 1 for anything unexpected (with
// the stack under --verbose).
import { COMMANDS, type Command, type Io } from './commands.js';
import { CliError, describeFlags, parse, UsageError } from './flags.js';

/** The usage of one command, or the list of commands. */
export function usage(command?: Command): string {
  if (command) {
    const examples = command.examples.map((e) => `  ${e}`).join('\n');
    return `usage: rxrnn-nats ${command.usage}\n\n${command.summary}\n\n${describeFlags(command.flags)}\n\nexamples:\n${examples}\n`;
  }
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n');
  return `usage: rxrnn-nats <command> [--flags]\n\nKeyed RNN streams on NATS JetStream.\n\ncommands:\n${list}\n\nrxrnn-nats <command> --help shows a command's flags and examples.\n`;
}

/** Runs the CLI with `argv` (the words after the program) and resolves with the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const verbose = argv.includes('--verbose');
  const args = argv.filter((a) => a !== '--verbose');
  if (args.length === 0 || args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
    (args.length === 0 ? io.stderr : io.stdout).write(usage());
    return args.length === 0 ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === args[0]);
  if (!command) {
    io.stderr.write(`rxrnn-nats: unknown command ${JSON.stringify(args[0])}\n\n${usage()}`);
    return 2;
  }
  let rest = args.slice(1);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(usage(command));
    return 0;
  }
  try {
    if (command.name === 'model') {
      if (rest[0] !== 'put') throw new UsageError(`expected "model put", got ${JSON.stringify(rest[0] ?? '')}`);
      rest = rest.slice(1);
    }
    return await command.run(parse(rest, command.flags), io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`rxrnn-nats ${command.name}: ${e.message}\n\n${usage(command)}`);
      return 2;
    }
    const known = e instanceof CliError;
    io.stderr.write(`rxrnn-nats ${command.name}: ${known ? '' : 'error: '}${(e as Error).message ?? String(e)}\n`);
    if (verbose && e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
    else if (!known) io.stderr.write('(run with --verbose for the stack trace)\n');
    return known ? 2 : 1;
  }
}
