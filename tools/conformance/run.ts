// `npm run --silent conformance -- FIXTURE.json`: rebuilds a PyTorch fixture's model through the
// public API and prints what the project computed as one JSON object (docs/conformance.md).
// Each fixture kind is handled by tools/conformance/kinds/<kind>.ts (default export: fixture → result).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function fail(message: string): never {
  console.error(`conformance: ${message}`);
  process.exit(2);
}

const USAGE = `usage: npm run --silent conformance -- FIXTURE.json

Rebuilds the model of a PyTorch fixture through rxrnn's public API and prints what rxrnn computes
as one JSON object, under the fixture's own field names (docs/conformance.md). The fixtures the
tests check are in test/fixtures/torch/; tools/torch/gen_fixtures.py writes more.

example: npm run --silent conformance -- test/fixtures/torch/cell_lstm.json`;

const file = process.argv[2];
if (file === '--help' || file === '-h') {
  console.log(USAGE);
  process.exit(0);
}
if (!file || process.argv.length > 3) fail(USAGE);
let fixture: { kind?: unknown; schema_version?: unknown };
try {
  fixture = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  fail(`cannot read ${file} as JSON: ${(err as Error).message}`);
}
if (fixture.schema_version !== 1) fail(`unsupported schema_version ${String(fixture.schema_version)}, expected 1`);
const kind = String(fixture.kind);
const handler = join(here, 'kinds', `${kind.replace(/[^a-z_]/g, '')}.ts`);
if (!existsSync(handler)) fail(`unsupported fixture kind "${kind}"`);
const mod = (await import(handler)) as { default: (fixture: unknown) => unknown };
try {
  process.stdout.write(`${JSON.stringify({ kind, ...(mod.default(fixture) as object) })}\n`);
} catch (err) {
  fail((err as Error).message);
}
