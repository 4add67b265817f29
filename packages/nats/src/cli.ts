#!/usr/bin/env node
// `rxrnn-nats` bin: runs the command line with the process's streams; Ctrl-C (or SIGTERM) asks
// the running command to stop gracefully, a second one exits at once.
import { main } from './cli/main.js';

let signals = 0;
const interrupted = new Promise<void>((resolve) => {
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    resolve();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
});
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, interrupted }).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`rxrnn-nats: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
