// The command line of the small tools (export-torch, export-onnx, import-onnx): flags parsed
// strictly, --help prints the usage (exit 0), and a bad flag or a wrong number of paths prints
// one line and the usage (exit 2).
import { parseArgs } from 'node:util';

type Flag = { type: 'boolean' } | { type: 'string' };

/** The parsed flags (--help excluded) and the positional paths, exactly as many as `paths` names. */
export function parseToolArgs(
  tool: string,
  usage: string,
  flags: Record<string, Flag>,
  paths: readonly string[],
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: { ...flags, help: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    console.error(`${tool}: ${(e as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (parsed.values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (parsed.positionals.length !== paths.length) {
    console.error(`${tool}: expected ${paths.join(' and ')}, got ${parsed.positionals.length} argument(s)\n${usage}`);
    process.exit(2);
  }
  return parsed;
}
