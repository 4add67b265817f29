// `charstream` with no command (`npm start`): online training on the built-in corpus as it
// streams in, with the progress line, validation and a sample every few seconds showing the text
// getting better; a final sample at the end of the time budget. Needs no files and no network.
import { CharModel, Vocabulary } from '@rxrnn/cells';
import { createOptimizer } from '@rxrnn/trainer/node';
import type { Command } from '../cli-io.js';
import { defaultCorpus } from '../default-corpus.js';
import { runOnline } from '../online-run.js';
import { ProgressDisplay } from '../progress.js';
import { oneLine, sampleText } from '../sample-text.js';
import { textChunks } from '../text-source.js';
import { MODEL_FLAGS, modelConfig } from './model-flags.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'train online on the built-in corpus and watch the samples improve (the default)',
  usage: 'demo [--seconds N --cell lstm|gru|rnn --hidden N --layers N --seq N --lr X --checkpoint OUT --seed S]',
  examples: [
    'charstream                                # 75 s on the built-in corpus',
    'charstream demo --seconds 20 --cell gru --checkpoint demo.ckpt',
  ],
  flags: {
    seconds: { type: 'number', min: 0, exclusiveMin: true, max: 1e7, default: 75, help: 'time budget' },
    ...MODEL_FLAGS,
    'sample-every': {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1e7,
      default: 8,
      help: 'seconds between sample lines',
    },
    checkpoint: { type: 'string', arg: 'FILE', help: 'also write a checkpoint here (atomically; default none)' },
    verbose: { type: 'boolean', help: 'stack traces on errors' },
  },
  async run(flags, io) {
    const corpus = defaultCorpus({ seed: 2026, chars: 1_500_000 });
    const model = new CharModel(modelConfig(flags, Vocabulary.fromText(corpus).chars));
    const optimizer = createOptimizer({ kind: 'adam' }, model.params.length);
    const seconds = flags.seconds as number;
    const out = io.stdout;
    const progress = new ProgressDisplay(out, { tty: out.isTTY === true });
    const c = model.config;
    out.write(
      `charstream: online training of a ${c.layers}-layer ${c.cell.toUpperCase()} (hidden ${c.hidden}, ${model.params.length} parameters, ` +
        `${c.vocab.length} characters) on the built-in corpus for ${seconds}s. Ctrl-C stops early.\n`,
    );
    const sampleEvery = flags['sample-every'] as number;
    let lastSample = 0;
    let sampling = false;
    const run = await runOnline({
      model,
      optimizer,
      source: textChunks(corpus, { chunkChars: 256, loop: true }),
      bptt: flags.seq as number,
      lr: flags.lr as number,
      seconds,
      signal: io.signal,
      checkpointPath: flags.checkpoint as string | undefined,
      evalEvery: 10,
      training: { source: 'built-in corpus' },
      onUpdate: (u) => {
        progress.update({
          step: u.totalSteps,
          tokens: u.totalTokens,
          loss: u.smoothLoss,
          charsPerSecond: u.charsPerSecond,
          elapsed: u.elapsed,
          remaining: u.remaining,
        });
        if (sampling || u.elapsed - lastSample < sampleEvery) return;
        lastSample = u.elapsed;
        sampling = true;
        sampleText(model, { length: 100, seed: u.totalSteps })
          .then((s) => progress.log(`[${u.elapsed.toFixed(0).padStart(3)}s] sample: ${oneLine(s)}`))
          .catch((e: unknown) => progress.log(`sample failed: ${(e as Error).message}`))
          .finally(() => (sampling = false));
      },
      onEval: (e) =>
        progress.log(
          `[validation] step ${e.step}: ${e.valLoss.toFixed(3)} nats/char, ${(e.valLoss / Math.LN2).toFixed(3)} bits/char`,
        ),
    });
    progress.finish();
    const first = run.history.find((h) => h.trainLoss !== undefined);
    out.write(
      `\n${run.stoppedBy === 'abort' ? 'Stopped' : 'Done'} after ${run.seconds.toFixed(1)}s: ${run.steps} updates, ${run.tokens} characters ` +
        `(${Math.round(run.charsPerSecond)} chars/s). Train loss ${first?.trainLoss?.toFixed(3) ?? '?'} -> ${run.trainLoss?.toFixed(3) ?? '?'} nats/char` +
        `${run.valLoss !== null ? `, validation ${run.valLoss.toFixed(3)} nats/char (${(run.valLoss / Math.LN2).toFixed(3)} bits/char)` : ''}.\n`,
    );
    if (flags.checkpoint) out.write(`checkpoint: ${flags.checkpoint}\n`);
    const final = await sampleText(model, { prime: '## notes', length: 400, temperature: 0.7, seed: 7 });
    out.write(`\nFinal sample (temperature 0.7):\n## notes${final}\n`);
    return 0;
  },
};
