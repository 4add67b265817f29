#!/usr/bin/env node
// Process entry of `charstream` (and of `npm start` with no arguments): wires stdio and signals
// to runCli. The first Ctrl-C asks the command to stop and save; a second one exits at once.
import { runCli } from './cli.js';

const controller = new AbortController();
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals) => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  if (process.stderr.isTTY)
    process.stderr.write(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping (again to quit at once)\n`);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// A closed pipe downstream (`charstream sample | head`) is the end of the output, not a crash.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  signal: controller.signal,
});
process.exitCode = code;
// Writes to a pipe are asynchronous: wait until everything written so far has reached the OS
// (the empty writes' callbacks run after the queued ones), or process.exit would cut the output.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((done) => s.write('', done))));
// Servers, workers and stdin keep the loop alive; the command has finished, so leave now.
process.exit(code);
