// The charstream command line: picks the command (default: the built-in demo), parses its flags
// and maps failures to exit codes — 2 for usage, input and checkpoint problems (one line, no
// stack unless --verbose), 1 for anything unexpected.
import { CheckpointError } from '@rxrnn/trainer/node';
import { describeFlags, parseFlags, UsageError } from './args.js';
import { CliError, type CliIo, type Command } from './cli-io.js';
import { demoCommand } from './commands/demo.js';
import { exportCommand } from './commands/export.js';
import { gradientsCommand } from './commands/gradients.js';
import { sampleCommand } from './commands/sample.js';
import { scoreCommand } from './commands/score.js';
import { serveCommand } from './commands/serve.js';
import { trainCommand } from './commands/train.js';

export const COMMANDS: readonly Command[] = [
  demoCommand,
  trainCommand,
  sampleCommand,
  scoreCommand,
  serveCommand,
  gradientsCommand,
  exportCommand,
];

export function usage(command?: Command): string {
  if (command) {
    const examples = command.examples?.length
      ? `\n\nexamples:\n${command.examples.map((e) => `  ${e}`).join('\n')}`
      : '';
    return `usage: charstream ${command.usage}\n\n${command.summary}\n\n${describeFlags(command.flags)}${examples}\n`;
  }
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`).join('\n');
  return `usage: charstream [command] [--flags]\n\ncommands (default: demo):\n${list}\n\ncharstream <command> --help shows a command's flags.\n`;
}

/** Runs the CLI with `argv` (the words after the script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const verbose = argv.includes('--verbose');
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(usage());
    return 0;
  }
  const named = argv.length > 0 && !argv[0]!.startsWith('-');
  const command = named ? COMMANDS.find((c) => c.name === argv[0]) : demoCommand;
  if (!command) {
    io.stderr.write(`charstream: unknown command ${JSON.stringify(argv[0])}\n\n${usage()}`);
    return 2;
  }
  const rest = named ? argv.slice(1) : argv;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(usage(command));
    return 0;
  }
  try {
    const flags = parseFlags(command.name, rest, command.flags);
    return await command.run(flags, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`charstream ${command.name}: ${e.message}\n\n${usage(command)}`);
      return 2;
    }
    const known = e instanceof CliError || e instanceof CheckpointError;
    const message = e instanceof Error ? e.message : String(e);
    io.stderr.write(`charstream ${command.name}: ${known ? '' : 'error: '}${message}\n`);
    if (verbose && e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
    else if (!known) io.stderr.write('(run with --verbose for the stack trace)\n');
    return known ? 2 : 1;
  }
}
