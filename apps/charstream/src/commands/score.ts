// `charstream score`: per-line surprisal in bits/char as lines arrive (the trainer's scoreOnline);
// --learn adapts the model to the stream while scoring (dynamic evaluation). Lines are printed
// when their newline is scored; a last line without one is printed at the end of input.
import { accessSync, constants, createReadStream, statSync } from 'node:fs';
import { scoreOnline } from '@rxrnn/trainer/node';
import { concat, of, tap } from 'rxjs';
import { CliError, type Command } from '../cli-io.js';
import { loadModel, optimizerFromState } from '../model-io.js';
import { readableText } from '../text-source.js';

export const scoreCommand: Command = {
  name: 'score',
  summary: 'print the surprisal (bits/char) of each line as it arrives; --learn adapts to the stream',
  usage: 'score --checkpoint FILE [--input FILE|- --learn --lr X --seq N --threshold BITS --json]',
  examples: [
    'charstream score --checkpoint charstream.ckpt --input notes.txt',
    'tail -f app.log | charstream score --checkpoint logs.ckpt --learn --threshold 4',
  ],
  flags: {
    checkpoint: { type: 'string', arg: 'FILE', help: 'checkpoint written by train or serve' },
    input: { type: 'string', arg: 'FILE', default: '-', help: 'text file, or - for stdin' },
    learn: { type: 'boolean', help: 'learn from each line after scoring it (dynamic evaluation)' },
    lr: { type: 'number', min: 0, exclusiveMin: true, max: 10, default: 1e-3, help: 'learning rate with --learn' },
    seq: { type: 'int', min: 2, max: 4096, default: 64, help: 'characters per learning window with --learn' },
    threshold: { type: 'number', min: 0, max: 1000, help: 'mark lines above this many bits/char with "!"' },
    json: { type: 'boolean', help: 'one JSON object per line instead of text' },
    verbose: { type: 'boolean', help: 'stack traces on errors' },
  },
  async run(flags, io) {
    if (flags.checkpoint === undefined) throw new CliError('--checkpoint F is required');
    const { model, checkpoint } = loadModel(flags.checkpoint as string);
    if (!model.config.vocab.includes('\n'))
      throw new CliError("the model's vocabulary has no newline, so it cannot score lines");
    const input = flags.input as string;
    if (input !== '-') {
      try {
        if (!statSync(input).isFile()) throw new Error('not a file');
        accessSync(input, constants.R_OK);
      } catch (e) {
        throw new CliError(
          `cannot read --input ${input}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        );
      }
    }
    const readable: NodeJS.ReadableStream = input === '-' ? io.stdin : createReadStream(input);
    const threshold = flags.threshold as number | undefined;
    const learn = flags.learn as boolean;
    // Learning continues the checkpoint's optimizer (its moments) when it has one.
    const optimizer = learn ? optimizerFromState(checkpoint.optimizer, model.params.length) : undefined;
    let line = 0;
    // The raw text of lines not yet printed: characters outside the vocabulary are not scored
    // but still printed. Each raw newline is scored exactly once ("\n" is in the vocabulary).
    let raw = '';
    let bits = 0;
    let count = 0;
    let flagged = 0;
    const print = () => {
      line++;
      const mean = count > 0 ? bits / count : NaN;
      const unusual = threshold !== undefined && mean > threshold;
      if (unusual) flagged++;
      const end = raw.indexOf('\n');
      const text = end === -1 ? raw : raw.slice(0, end);
      raw = end === -1 ? '' : raw.slice(end + 1);
      if (flags.json)
        io.stdout.write(`${JSON.stringify({ line, bits: count ? mean : null, chars: count, unusual, text })}\n`);
      else io.stdout.write(`${unusual ? '!' : ' '} ${count ? mean.toFixed(3).padStart(7) : '      -'}  ${text}\n`);
      bits = 0;
      count = 0;
    };
    // A leading newline gives the first real character a context to be predicted from.
    const source = concat(of('\n'), readableText(readable, 1024).pipe(tap((chunk) => (raw += chunk))));
    await new Promise<void>((resolve, reject) => {
      const sub = source
        .pipe(
          scoreOnline(model, {
            learn,
            lr: flags.lr as number,
            bptt: flags.seq as number,
            optimizer,
            unknownChars: 'skip',
          }),
        )
        .subscribe({
          next: (e) => {
            bits += e.bits;
            count++;
            if (e.char === '\n') print();
          },
          error: reject,
          complete: () => {
            if (raw || count) print();
            resolve();
          },
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
    if (threshold !== undefined && !flags.json)
      io.stderr.write(`${flagged} of ${line} lines above ${threshold} bits/char\n`);
    return 0;
  },
};
