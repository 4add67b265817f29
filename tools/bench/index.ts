// `npm run bench -- <suite> [--json]`: runs tools/bench/<suite>.ts, whose default export is an
// async function (args: string[]) => void printing JSON records (one per line) with --json.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));
const [suite, ...args] = process.argv.slice(2);
const usage = `usage: npm run --silent bench -- <suite> [--json] [suite flags]\nsuites: ${suites.join(', ')}\nWhat each suite measures and its flags: tools/bench/README.md`;
if (suite === '--help' || suite === '-h') {
  console.log(usage);
  process.exit(0);
}
if (!suite || !existsSync(join(here, `${suite}.ts`))) {
  console.error(suite ? `bench: no suite "${suite}"\n${usage}` : usage);
  process.exit(2);
}
const mod = (await import(join(here, `${suite}.ts`))) as { default: (args: string[]) => Promise<void> };
await mod.default(args);
