// `charstream serve`: trains online in a worker thread (on --input, on a checkpoint's run, or on the
// built-in corpus) and serves the web page and the JSON/SSE API. Ctrl-C stops training, saves the
// checkpoint (with --checkpoint) and closes the server.
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { resolveCharModelConfig, Vocabulary } from '@rxrnn/cells';
import { CliError, type Command } from '../cli-io.js';
import { defaultCorpus } from '../default-corpus.js';
import { loadModel } from '../model-io.js';
import { createCharstreamServer } from '../server/http-server.js';
import { TrainingHost } from '../server/training-host.js';
import { buildWeb } from '../web-build.js';
import { MODEL_FLAGS, modelConfig } from './model-flags.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'train online in a worker thread and serve the live web page and the API',
  usage: 'serve [--port 8080 --host 127.0.0.1 --input FILE --checkpoint FILE]',
  examples: [
    'charstream serve                          # the built-in corpus; open http://127.0.0.1:8080/',
    'charstream serve --input input.txt --checkpoint live.ckpt --port 0',
  ],
  flags: {
    port: { type: 'int', min: 0, max: 65535, default: 8080, help: 'TCP port (0 picks a free one)' },
    host: {
      type: 'string',
      arg: 'ADDRESS',
      default: '127.0.0.1',
      help: 'address to listen on (0.0.0.0 exposes it to the network)',
    },
    input: { type: 'string', arg: 'FILE', help: 'text file to learn from in a loop (default: the built-in corpus)' },
    checkpoint: {
      type: 'string',
      arg: 'FILE',
      help: 'continue from this checkpoint if it exists, and save to it (atomically)',
    },
    'checkpoint-every': {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1e7,
      default: 30,
      help: 'seconds between checkpoints',
    },
    ...MODEL_FLAGS,
    clip: {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1e6,
      default: 5,
      help: 'global-norm clipping threshold θ (the page marks the updates it clipped)',
    },
    'max-generations': {
      type: 'int',
      min: 1,
      max: 1000,
      default: 4,
      help: 'generations streaming at once (429 past it)',
    },
    'max-length': {
      type: 'int',
      min: 1,
      max: 10_000_000,
      default: 5000,
      help: 'longest generation a request may ask for',
    },
    verbose: { type: 'boolean', help: 'stack traces on errors' },
  },
  async run(flags, io) {
    let text: string;
    let sourceName: string;
    if (flags.input !== undefined) {
      try {
        text = readFileSync(flags.input as string, 'utf8');
      } catch (e) {
        throw new CliError(
          `cannot read --input ${String(flags.input)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        );
      }
      if (text.length < 2) throw new CliError(`--input ${String(flags.input)} is empty; give some text to learn from`);
      sourceName = basename(flags.input as string);
    } else {
      text = defaultCorpus({ chars: 1_500_000 });
      sourceName = 'built-in corpus';
    }
    const checkpointPath = flags.checkpoint as string | undefined;
    let resume: Uint8Array | null = null;
    if (checkpointPath !== undefined && existsSync(checkpointPath)) {
      // Validate here (format and model) so a bad file is a one-line error before anything starts.
      loadModel(checkpointPath);
      resume = readFileSync(checkpointPath);
    }
    const config = resume ? null : resolveCharModelConfig(modelConfig(flags, Vocabulary.fromText(text).chars));
    const training = await TrainingHost.start({
      text,
      sourceName,
      config,
      resume,
      bptt: flags.seq as number,
      lr: flags.lr as number,
      maxGradNorm: flags.clip as number,
      flowWindow: 100,
      checkpointPath: checkpointPath ?? null,
      checkpointEvery: flags['checkpoint-every'] as number,
      publishEvery: 1,
      updateEvery: 0.2,
    });
    let server: ReturnType<typeof createCharstreamServer>;
    try {
      const webRoot = await buildWeb();
      server = createCharstreamServer({
        training,
        webRoot,
        maxGenerations: flags['max-generations'] as number,
        maxLength: flags['max-length'] as number,
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', (e: NodeJS.ErrnoException) =>
          reject(
            ['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code ?? '')
              ? new CliError(`cannot listen on ${String(flags.host)}:${String(flags.port)}: ${e.code}`)
              : e,
          ),
        );
        server!.listen(flags.port as number, flags.host as string, resolve);
      });
    } catch (e) {
      await training.stop();
      throw e;
    }
    const { port, address } = server.address() as AddressInfo;
    const shown = address.includes(':') ? `[${address}]` : address;
    // The first line is machine-readable enough for scripts and tests to find the port.
    io.stdout.write(
      `charstream serving http://${shown}:${port}/ (training on ${sourceName}${resume ? `, resumed from ${checkpointPath}` : ''})\n`,
    );
    training.on('error-event', (m: string) => io.stderr.write(`training stopped: ${m}\n`));

    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    io.stdout.write('stopping: saving and closing\n');
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await training.stop();
    if (checkpointPath) io.stdout.write(`checkpoint: ${checkpointPath}\n`);
    return 0;
  },
};
