import type { Command } from '../cli-io.js';
export const serveCommand: Command = { name: 'serve', summary: 'x', usage: 'serve', flags: {}, async run() { return 0; } };
