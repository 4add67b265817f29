#!/usr/bin/env node
// `charstream` bin: runs src/main.ts from TypeScript source in a child Node with the tsx loader and
// the @rxrnn/source condition (conditions cannot be added to a running process).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--conditions=@rxrnn/source', cli, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
// Ctrl-C already reaches the child through the terminal's process group (forwarding it would
// count as a second Ctrl-C); a SIGTERM aimed at this process alone is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1)));
