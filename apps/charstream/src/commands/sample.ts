// `charstream sample`: streams characters from a checkpoint's model to stdout as generate() emits
// them. Ctrl-C or a closed pipe ends the stream early.
import { generate } from '@rxrnn/cells';
import { setStepThreads } from '@rxrnn/kernels';
import { CliError, type Command } from '../cli-io.js';
import { loadModel } from '../model-io.js';
import { defaultPrime } from '../sample-text.js';

export const sampleCommand: Command = {
  name: 'sample',
  summary: 'stream generated text from a checkpoint to stdout',
  usage:
    'sample --checkpoint FILE [--prime TEXT --length N --temperature T --top-k K --top-p P --seed S --step-threads 2]',
  examples: [
    'charstream sample --checkpoint charstream.ckpt --prime "ROMEO:" --length 300',
    'charstream sample --checkpoint charstream.ckpt --temperature 0.5 --seed 7 > sample.txt',
  ],
  flags: {
    checkpoint: { type: 'string', arg: 'FILE', help: 'checkpoint written by train or serve' },
    prime: {
      type: 'string',
      help: 'text the generated text continues (printed first; default: a newline, not printed)',
    },
    length: { type: 'int', min: 0, max: 10_000_000, default: 500, help: 'characters to generate' },
    temperature: { type: 'number', min: 0, exclusiveMin: true, max: 100, default: 0.8, help: 'sampling temperature' },
    'top-k': { type: 'int', min: 1, max: 1_000_000, help: 'sample among the K most likely characters only' },
    'top-p': {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1,
      help: 'nucleus sampling: the smallest set with probability >= P',
    },
    seed: { type: 'int', min: 0, max: 2 ** 31 - 1, help: 'seed of the sampler (default random)' },
    'step-threads': {
      type: 'int',
      min: 1,
      max: 2,
      default: 1,
      help: '2: a helper thread shares the large steps (LSTM hidden >= 152); same text, less time per character',
    },
    verbose: { type: 'boolean', help: 'stack traces on errors' },
  },
  async run(flags, io) {
    if (flags.checkpoint === undefined) throw new CliError('--checkpoint F is required');
    const { model } = loadModel(flags.checkpoint as string);
    const vocab = model.config.vocab;
    const prime = (flags.prime as string | undefined) ?? defaultPrime(vocab);
    const unknown = [...prime].find((ch) => !vocab.includes(ch));
    if (unknown !== undefined)
      throw new CliError(
        `--prime has ${JSON.stringify(unknown)}, which the model's vocabulary of ${vocab.length} characters does not contain`,
      );
    await setStepThreads(flags['step-threads'] as 1 | 2);
    const text$ = generate(model, {
      prime,
      length: flags.length as number,
      temperature: flags.temperature as number,
      topK: flags['top-k'] as number | undefined,
      topP: flags['top-p'] as number | undefined,
      seed: flags.seed as number | undefined,
    });
    // The prime the user gave is the start of the text; the default (a newline) is not shown.
    let last = '\n';
    if (flags.prime !== undefined && prime !== '') {
      io.stdout.write(prime);
      last = prime.at(-1)!;
    }
    await new Promise<void>((resolve, reject) => {
      const sub = text$.subscribe({
        next: (ch) => {
          io.stdout.write(ch);
          last = ch;
        },
        error: reject,
        complete: resolve,
      });
      io.signal.addEventListener(
        'abort',
        () => {
          sub.unsubscribe();
          resolve();
        },
        { once: true },
      );
    });
    await setStepThreads(1);
    // Text ends with a newline, so the shell prompt (or the next file) starts on a line of its own.
    if (last !== '\n') io.stdout.write('\n');
    return 0;
  },
};
