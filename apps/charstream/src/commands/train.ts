// `charstream train`: offline batched training on a file (the trainer's trainOfflineToFile), or online
// training from stdin as it arrives (`--input -`, trainOnline). Progress, samples, periodic atomic
// checkpoints, a JSON summary and a loss-curve SVG; Ctrl-C stops, saves and exits 0, and --resume
// continues from that checkpoint.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CharModel, Vocabulary } from '@rxrnn/cells';
import {
  type Checkpoint,
  CheckpointError,
  createOptimizer,
  type HistoryEntry,
  loadCheckpoint,
  OfflineTrainer,
  type OptimizerConfig,
  type OptimizerState,
  trainOfflineToFile,
} from '@rxrnn/trainer/node';
import { budgetSchedule } from '../budget-schedule.js';
import { CliError, type Command } from '../cli-io.js';
import { lossCurveSvg } from '../loss-plot.js';
import { modelFromCheckpoint, optimizerFromState } from '../model-io.js';
import { runOnline } from '../online-run.js';
import { ProgressDisplay } from '../progress.js';
import { oneLine, sampleText } from '../sample-text.js';
import { readableText } from '../text-source.js';
import { MODEL_FLAGS, modelConfig, streamVocabulary, withDefaults } from './model-flags.js';

/** The file run's defaults (`npm run train` is this command): the quality settings. */
// Chosen by the 600 s sweep in packages/trainer/README.md ("Choosing the defaults").
const TRAIN_DEFAULTS = { hidden: 512, embedding: 64, dropout: 0.25, 'embedding-dropout': 0.1 };

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a character model on a text file (batched) or on stdin as it arrives (--input -)',
  usage:
    'train --input FILE|- [--seconds N --steps N --checkpoint OUT --resume --plot loss.svg --json] [model and optimizer flags]',
  examples: [
    'charstream train --input input.txt                      # 10 minutes with the defaults, best weights kept in charstream.ckpt',
    'charstream train --input input.txt --seconds 60 --hidden 128 --plot loss.svg',
    'charstream train --input input.txt --resume             # continue charstream.ckpt where it stopped',
    'charstream train --input input.txt --layers 2 --dropout 0.25 --optimizer adamw --weight-decay 0.1',
    'tail -f app.log | charstream train --input - --hidden 128 --checkpoint logs.ckpt',
  ],
  flags: {
    input: {
      type: 'string',
      arg: 'FILE',
      help: 'UTF-8 text file to train on, or - for stdin (trained online as it arrives)',
    },
    seconds: {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1e7,
      help: 'time budget (default 600 for a file without --steps; stdin: until it ends)',
    },
    steps: {
      type: 'int',
      min: 1,
      max: 1e9,
      help: 'stop after this many updates (whichever of --steps and --seconds comes first)',
    },
    checkpoint: {
      type: 'string',
      arg: 'FILE',
      default: 'charstream.ckpt',
      help: 'checkpoint to write (atomically; it keeps the best-validation weights too)',
    },
    'checkpoint-every': {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1e7,
      default: 30,
      help: 'seconds between checkpoints',
    },
    resume: {
      type: 'boolean',
      help: 'continue from --checkpoint if it exists: its model, optimizer, schedule, data position and history (model, batch and schedule flags then come from it; --steps counts all updates)',
    },
    ...withDefaults(MODEL_FLAGS, TRAIN_DEFAULTS),
    optimizer: {
      type: 'string',
      choices: ['adam', 'adamw'],
      default: 'adam',
      help: 'adam: weight decay added to the gradient (L2); adamw: decoupled, θ ← θ·(1 − lr·λ)',
    },
    'weight-decay': {
      type: 'number',
      min: 0,
      max: 10,
      help: "weight decay λ (default 0 with adam, 0.01 with adamw: PyTorch's)",
    },
    batch: { type: 'int', min: 1, max: 1024, default: 32, help: 'parallel streams per update (file input)' },
    schedule: {
      type: 'string',
      choices: ['cosine', 'constant'],
      default: 'cosine',
      help: 'learning rate over the run (file input): cosine decays to lr/10 at the end of the budget',
    },
    clip: {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1e6,
      default: 5,
      help: 'global gradient-norm clipping threshold',
    },
    threads: {
      type: 'int',
      min: 1,
      max: 2,
      default: 2,
      help: 'file input: 2 computes half the streams in a worker thread',
    },
    'val-fraction': {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 0.5,
      default: 0.05,
      help: 'file input: the tail of the text held out for validation',
    },
    'eval-every': { type: 'int', min: 1, max: 1e9, default: 100, help: 'file input: updates between validations' },
    'sample-every': {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1e7,
      default: 10,
      help: 'seconds between sample lines in the progress display',
    },
    plot: { type: 'string', arg: 'FILE', help: 'write the loss curves (train and validation) to this SVG file' },
    json: { type: 'boolean', help: 'print a JSON summary on stdout at the end' },
    verbose: { type: 'boolean', help: 'stack traces on errors' },
  },
  async run(flags, io) {
    const input = flags.input as string | undefined;
    if (input === undefined) throw new CliError('--input FILE|- is required (a text file, or - to read stdin)');
    const checkpointPath = flags.checkpoint as string;
    const progress = new ProgressDisplay(io.stderr, { tty: io.stderr.isTTY === true });
    const weightDecay = flags['weight-decay'] as number | undefined;
    const optimizerConfig = {
      kind: flags.optimizer as 'adam' | 'adamw',
      ...(weightDecay === undefined ? {} : { weightDecay }),
    } satisfies OptimizerConfig;
    const sampleEvery = flags['sample-every'] as number;
    let lastSample = 0;
    let sampling = false;
    let twin: { of: CharModel; model: CharModel } | undefined;
    // A sample line now and then, drawn on a twin of the model (made once, from its weights)
    // while training goes on.
    const maybeSample = (model: CharModel, elapsed: number, step: number) => {
      if (sampling || elapsed - lastSample < sampleEvery) return;
      lastSample = elapsed;
      sampling = true;
      if (twin?.of !== model) twin = { of: model, model: new CharModel(model.config, model.params) };
      sampleText(model, { length: 100, seed: step }, twin.model)
        .then((s) => progress.log(`sample @ step ${step}: ${oneLine(s)}`))
        .catch((e: unknown) => progress.log(`sample failed: ${(e as Error).message}`))
        .finally(() => (sampling = false));
    };

    // --resume: the checkpoint written by an earlier run (Ctrl-C'd or finished) of the same kind.
    let resume: Checkpoint | undefined;
    if (flags.resume && existsSync(checkpointPath)) {
      resume = loadCheckpoint(checkpointPath);
      const online = (resume.training as { mode?: string }).mode === 'online';
      if (online !== (input === '-')) {
        throw new CliError(
          `--resume: ${checkpointPath} was written by ${online ? 'online training (--input -, serve or the demo)' : 'training on a file'}; resume it with ${online ? '--input -' : 'a file --input'}`,
        );
      }
      io.stderr.write(`resuming from ${checkpointPath} at step ${resume.counters.step}\n`);
    }

    let summary: Record<string, unknown>;
    let history: HistoryEntry[];
    if (input === '-') {
      if ((io.stdin as { isTTY?: boolean }).isTTY)
        io.stderr.write('reading training text from the terminal; end it with Ctrl-D (or pipe a file in)\n');
      const model = resume
        ? modelFromCheckpoint(resume, checkpointPath).model
        : new CharModel(modelConfig(flags, streamVocabulary()));
      const optimizer = resume
        ? optimizerFromState(resume.optimizer, model.params.length)
        : createOptimizer(optimizerConfig, model.params.length);
      const run = await runOnline({
        resume,
        model,
        optimizer,
        source: readableText(io.stdin),
        bptt: flags.seq as number,
        lr: flags.lr as number,
        maxGradNorm: flags.clip as number,
        seconds: flags.seconds as number | undefined,
        maxSteps: flags.steps as number | undefined,
        signal: io.signal,
        checkpointPath,
        checkpointEvery: flags['checkpoint-every'] as number,
        training: { source: 'stdin' },
        onUpdate: (u) => {
          progress.update({
            step: u.totalSteps,
            tokens: u.totalTokens,
            loss: u.smoothLoss,
            charsPerSecond: u.charsPerSecond,
            elapsed: u.elapsed,
            remaining: u.remaining,
          });
          maybeSample(model, u.elapsed, u.totalSteps);
        },
        onEval: (e) =>
          progress.log(
            `validation @ step ${e.step}: ${e.valLoss.toFixed(3)} nats ${(e.valLoss / Math.LN2).toFixed(3)} bpc`,
          ),
      });
      progress.finish();
      if (run.steps === 0) throw new CliError('stdin ended before one window of text arrived; nothing was trained');
      history = run.history;
      summary = {
        mode: 'online',
        steps: run.steps,
        tokens: run.tokens,
        seconds: run.seconds,
        charsPerSecond: run.charsPerSecond,
        train: metrics(run.trainLoss),
        validation: metrics(run.valLoss),
        stoppedBy: run.stoppedBy,
        model: describeModel(model),
        optimizer: describeOptimizer(optimizer.getState()),
      };
    } else {
      let text: string;
      try {
        text = readFileSync(input, 'utf8');
      } catch (e) {
        throw new CliError(
          `cannot read --input ${input}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        );
      }
      // Resumed: the checkpoint's batch and window (validated first), which the trainer keeps; and
      // its vocabulary, which is fixed, so the text may hold no character outside it.
      const trained = resume ? naming(checkpointPath, () => OfflineTrainer.checkpointOptions(resume!)) : undefined;
      if (resume) checkResumeText(text, input, resume.model.vocab, checkpointPath);
      const B = trained?.batchSize ?? (flags.batch as number);
      const T = trained?.bptt ?? (flags.seq as number);
      // The trainer holds out the tail for validation and needs B streams of T+1 characters in the rest.
      const need = Math.ceil((B * T + 2) / (1 - (flags['val-fraction'] as number)));
      if ([...text].length < need) {
        throw new CliError(
          `--input ${input} has ${[...text].length} characters; --batch ${B} --seq ${T} need at least ${need} (lower them or give more text)`,
        );
      }
      // Resumed, the trainer rebuilds the model from the checkpoint (onStart hands it over).
      let model = resume ? undefined : new CharModel(modelConfig(flags, Vocabulary.fromText(text).chars));
      const seconds = (flags.seconds as number | undefined) ?? (flags.steps === undefined ? 600 : undefined);
      const maxSteps = flags.steps as number | undefined;
      // A resumed run keeps the checkpoint's schedule, so it continues the interrupted one exactly.
      const schedule =
        resume || flags.schedule === 'constant'
          ? null
          : budgetSchedule(flags.lr as number, { steps: maxSteps, seconds });
      const run = await trainOfflineToFile({
        model,
        resume,
        text,
        batchSize: B,
        bptt: T,
        optimizer: optimizerConfig,
        lr: flags.lr as number,
        seed: flags.seed as number,
        maxGradNorm: flags.clip as number,
        threads: flags.threads as 1 | 2,
        valFraction: flags['val-fraction'] as number,
        onStart: (trainer) => {
          model = trainer.model as CharModel;
          schedule?.onStart(trainer);
        },
        seconds,
        maxSteps,
        signal: io.signal,
        checkpointPath,
        checkpointEvery: flags['checkpoint-every'] as number,
        evalEvery: flags['eval-every'] as number,
        logEvery: 10,
        onProgress: (p) => {
          schedule?.onProgress(p);
          progress.update({
            step: p.step,
            tokens: p.tokens,
            loss: p.loss.nats,
            charsPerSecond: p.tokensPerSecond,
            elapsed: p.elapsed,
            remaining: p.remaining,
          });
          maybeSample(model!, p.elapsed, p.step);
        },
        onEval: (e) =>
          progress.log(
            `validation @ step ${e.step}: ${e.val.nats.toFixed(3)} nats ${e.val.bpc.toFixed(3)} bpc${e.improved ? ' (best)' : ''}`,
          ),
      }).catch(withPath(checkpointPath));
      progress.finish();
      history = run.checkpoint.history;
      const stoppedBy = run.stoppedBy;
      summary = {
        mode: 'offline',
        steps: run.steps,
        tokens: run.tokens,
        seconds: run.seconds,
        charsPerSecond: run.tokensPerSecond,
        train: run.train ? metrics(run.train.nats) : null,
        validation: run.bestVal ? { ...metrics(run.bestVal.nats), step: run.bestVal.step } : null,
        stoppedBy,
        model: describeModel(model!),
        optimizer: describeOptimizer(run.checkpoint.optimizer),
      };
    }
    if (resume) summary.resumedFrom = resume.counters.step;
    summary.checkpoint = checkpointPath;
    if (flags.plot) {
      const train = history.filter((h) => h.trainLoss !== undefined).map((h) => ({ x: h.tokens, y: h.trainLoss! }));
      const val = history.filter((h) => h.valLoss !== undefined).map((h) => ({ x: h.tokens, y: h.valLoss! }));
      writeFileSync(
        flags.plot as string,
        lossCurveSvg(train, val, { title: `charstream train: ${input === '-' ? 'stdin' : input}` }),
      );
      summary.plot = flags.plot;
    }
    if (flags.json) io.stdout.write(`${JSON.stringify({ command: 'train', ...summary })}\n`);
    else {
      const t = summary.train as ReturnType<typeof metrics>;
      const v = summary.validation as ReturnType<typeof metrics>;
      io.stderr.write(
        `${summary.stoppedBy === 'abort' ? 'interrupted; ' : ''}trained ${summary.steps} steps on ${summary.tokens} characters in ${(summary.seconds as number).toFixed(1)}s` +
          `${t ? `, train ${t.nats.toFixed(3)} nats ${t.bpc.toFixed(3)} bpc` : ''}${v ? `, validation ${v.nats.toFixed(3)} nats ${v.bpc.toFixed(3)} bpc` : ''}\n` +
          `checkpoint: ${checkpointPath}${flags.plot ? `, plot: ${flags.plot}` : ''}\n`,
      );
    }
    return 0;
  },
};

/** A CheckpointError without a file name gets `path`'s; anything else is rethrown as it is. */
function withPath(path: string): (e: unknown) => never {
  return (e) => {
    if (e instanceof CheckpointError && e.path === undefined) throw new CheckpointError(e.message, path);
    throw e;
  };
}

/** Runs `f`, naming the checkpoint in a CheckpointError it throws (see withPath). */
function naming<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    return withPath(path)(e);
  }
}

/**
 * A resumed model reads only the characters of its checkpoint's vocabulary: a text with others is
 * refused (CliError, exit 2) with what the user can do, before any training starts.
 */
function checkResumeText(text: string, input: string, vocab: readonly string[], checkpointPath: string): void {
  const known = new Set(vocab);
  const unknown = new Map<string, number>();
  let at = 0;
  for (const ch of text) {
    if (!known.has(ch) && !unknown.has(ch)) unknown.set(ch, at);
    at++;
  }
  if (unknown.size === 0) return;
  const [ch, first] = unknown.entries().next().value!;
  const more = unknown.size > 1 ? ` and ${unknown.size - 1} other new character${unknown.size > 2 ? 's' : ''}` : '';
  throw new CliError(
    `--input ${input} has ${JSON.stringify(ch)} (first at character ${first})${more}, which the vocabulary of ${checkpointPath} does not contain: a checkpoint's vocabulary (${vocab.length} characters) is fixed when its model is created. Train a new model on this text (without --resume, or with another --checkpoint), or remove those characters from the text`,
  );
}

function metrics(nats: number | null): { nats: number; bpc: number; perplexity: number } | null {
  return nats === null ? null : { nats, bpc: nats / Math.LN2, perplexity: Math.exp(nats) };
}

function describeModel(model: CharModel): Record<string, unknown> {
  const c = model.config;
  return {
    cell: c.cell,
    hidden: c.hidden,
    layers: c.layers,
    embedding: c.embeddingDim,
    vocabSize: c.vocab.length,
    params: model.params.length,
    dropout: {
      dropout: c.dropout,
      embedding: c.embeddingDropout,
      output: c.outputDropout,
      input: c.inputDropout,
      recurrent: c.recurrentDropout,
    },
  };
}

/** The optimizer as the flags name it (Adam with decoupled decay is adamw) and its weight decay. */
function describeOptimizer(state: OptimizerState): Record<string, unknown> {
  const o = state.options as { decoupled?: boolean; weightDecay?: number };
  return { kind: state.kind === 'adam' && o.decoupled ? 'adamw' : state.kind, weightDecay: o.weightDecay ?? 0 };
}
