// `charstream gradients`: the vanishing and exploding gradients of the course note, measured on a
// model and text: ‖∂L_T/∂h_{T−k}‖ per step back (gradientFlow of @rxrnn/cells) for a checkpoint or
// for fresh RNN/GRU/LSTM models side by side; --explode trains a model with large recurrent weights
// and shows the pre-clip norm exploding while clipping caps the update. Text, JSON lines or an SVG.
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { type CellKind, CharModel, decayStep, gradientFlow, Vocabulary } from '@rxrnn/cells';
import { createOptimizer, trainOnline } from '@rxrnn/trainer/node';
import { from } from 'rxjs';
import type { Flags } from '../args.js';
import { CliError, type CliIo, type Command } from '../cli-io.js';
import { defaultCorpus } from '../default-corpus.js';
import { type ClipPoint, clippingSvg, type FlowSeries, gradientFlowSvg } from '../gradient-plot.js';
import { loadModel } from '../model-io.js';

/** Bytes of --input read at most: the windows are spread over this much text. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;
const KINDS: readonly CellKind[] = ['rnn', 'gru', 'lstm'];

export const gradientsCommand: Command = {
  name: 'gradients',
  summary: 'measure how the gradient vanishes (or explodes) back through time, per step; --plot draws it',
  usage:
    'gradients [--checkpoint F | --cells rnn,gru,lstm --hidden H] [--window T --windows N --input FILE --scale X --plot flow.svg --json] [--explode --clip θ --steps N]',
  examples: [
    'charstream gradients                                    # fresh RNN, GRU and LSTM side by side',
    'charstream gradients --plot flow.svg                    # the same as a log-scale plot',
    'charstream gradients --checkpoint charstream.ckpt --input notes.txt',
    'charstream gradients --cells rnn --scale 3              # large recurrent weights: it grows instead',
    'charstream gradients --explode --plot clipping.svg      # and clipping caps every update at θ',
  ],
  flags: {
    checkpoint: { type: 'string', arg: 'FILE', help: "measure this checkpoint's model (not fresh ones)" },
    cells: { type: 'string', arg: 'LIST', help: 'fresh models to compare, comma-separated (default rnn,gru,lstm)' },
    hidden: { type: 'int', min: 1, max: 4096, help: 'hidden units of the fresh models (default 128)' },
    layers: { type: 'int', min: 1, max: 8, help: 'layers of the fresh models (default 1)' },
    embedding: { type: 'int', min: 1, max: 4096, help: 'embedding size of the fresh models (default 32)' },
    seed: { type: 'int', min: 0, max: 2 ** 31 - 1, default: 1, help: 'seed of the fresh models' },
    window: { type: 'int', min: 1, max: 4096, default: 100, help: 'T, characters in a window (k = 0 … T−1)' },
    windows: { type: 'int', min: 1, max: 1000, default: 8, help: 'windows spread over the text; norms are their mean' },
    input: { type: 'string', arg: 'FILE', help: 'text to measure on (default the built-in corpus; first 16 MB)' },
    scale: {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 100,
      help: 'multiply every recurrent weight matrix W_hh by X (default 1; 3 with --explode)',
    },
    plot: { type: 'string', arg: 'FILE', help: 'write an SVG plot (log scale) here' },
    json: { type: 'boolean', help: 'JSON lines: {cell, layer, k, norm} per step (cNorm for LSTM) instead of text' },
    explode: {
      type: 'boolean',
      help: 'train one model with large recurrent weights: pre-clip norm vs the clip threshold',
    },
    clip: {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      max: 1e6,
      default: 1,
      help: 'θ, global-norm clip threshold (--explode)',
    },
    steps: { type: 'int', min: 1, max: 10_000, default: 40, help: 'updates to train (--explode)' },
    lr: { type: 'number', min: 0, exclusiveMin: true, max: 10, default: 0.05, help: 'SGD learning rate (--explode)' },
    verbose: { type: 'boolean', help: 'stack traces on errors' },
  },
  async run(flags, io) {
    const explode = flags.explode as boolean;
    const T = flags.window as number;
    const scale = (flags.scale as number | undefined) ?? (explode ? 3 : 1);
    const { text, sourceName } = readText(flags.input as string | undefined);
    const models = buildModels(flags, text, explode);
    if (scale !== 1) for (const m of models) scaleRecurrent(m.model, scale);
    const { ids, skipped } = encodeKnown(models[0]!.model, text);
    if (skipped > 0)
      io.stderr.write(`${skipped} characters of ${sourceName} are not in the model's vocabulary; skipped\n`);
    if (ids.length < T + 1)
      throw new CliError(
        `${sourceName} has ${ids.length} characters the model knows; --window ${T} needs at least ${T + 1}`,
      );

    const N = Math.min(flags.windows as number, ids.length - T);
    const flows = models.map((m) => ({ ...m, flow: meanFlow(m.model, ids, T, N) }));
    const series = flows.flatMap(({ label, flow }) =>
      flow.flatMap((l, layer) => {
        const name = flow.length > 1 ? `${label} layer ${layer}` : label;
        const out: FlowSeries[] = [{ label: name, norms: l.h }];
        if (l.c) out.push({ label: `${name} c`, norms: l.c, dashed: true });
        return out;
      }),
    );
    const how = `mean over ${N} window${N > 1 ? 's' : ''} of T = ${T} characters of ${sourceName}`;
    const scaled = scale !== 1 ? `, W_hh ×${scale}` : '';
    const what = models[0]!.fresh
      ? `fresh models at initialization (${describeModel(models[0]!.model)}${scaled})`
      : `the model of ${flags.checkpoint as string} (${describeModel(models[0]!.model)}${scaled})`;

    if (flags.json) {
      for (const { model, flow } of flows) {
        flow.forEach((l, layer) => {
          for (let k = 0; k < T; k++) {
            const rec: Record<string, unknown> = { cell: model.config.cell, layer, k, norm: l.h[k] };
            if (l.c) rec.cNorm = l.c[k];
            io.stdout.write(`${JSON.stringify(rec)}\n`);
          }
        });
      }
    } else printFlow(io, series, T, what, how);

    const clipPoints = explode ? await explodeRun(flags, io, models[0]!.model, ids, T) : null;

    const plot = flags.plot as string | undefined;
    if (plot) {
      const svg =
        clipPoints !== null
          ? clippingSvg(clipPoints, flags.clip as number, {
              title: `${models[0]!.model.config.cell.toUpperCase()}, W_hh ×${scale}: the gradient explodes, clipping caps the update`,
            })
          : gradientFlowSvg(series, { title: 'gradient flow through time', subtitle: `${what}; ${how}` });
      try {
        writeFileSync(plot, svg);
      } catch (e) {
        throw new CliError(`cannot write --plot ${plot}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (!flags.json) io.stdout.write(`plot written to ${plot}\n`);
    }
    return 0;
  },
};

/** A model to measure and its label in tables and plots. */
interface Measured {
  label: string;
  model: CharModel;
  fresh: boolean;
}

/** One layer's mean norms over the windows: h[k], and c[k] for an LSTM. */
interface MeanLayerFlow {
  h: Float64Array;
  c: Float64Array | null;
}

/** The built-in corpus, or the first MAX_INPUT_BYTES of --input as UTF-8. */
function readText(input: string | undefined): { text: string; sourceName: string } {
  if (input === undefined)
    return { text: defaultCorpus({ seed: 2026, chars: 200_000 }), sourceName: 'the built-in corpus' };
  const text = readPrefix(input, MAX_INPUT_BYTES);
  if (text.length === 0) throw new CliError(`--input ${input} is empty`);
  return { text, sourceName: input };
}

/** Reads at most `max` bytes of a file as UTF-8 (a character cut at the end is dropped). */
function readPrefix(path: string, max: number): string {
  let fd: number;
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new CliError(`cannot read --input ${path}: not a file`);
    size = st.size;
    fd = openSync(path, 'r');
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read --input ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const buf = Buffer.alloc(Math.min(max, size));
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return new StringDecoder('utf8').write(buf.subarray(0, at));
  } finally {
    closeSync(fd);
  }
}

/** The checkpoint's model, or fresh models of each --cells kind (the flags refuse mixing the two). */
function buildModels(flags: Flags, text: string, explode: boolean): Measured[] {
  const checkpoint = flags.checkpoint as string | undefined;
  const freshFlags = ['cells', 'hidden', 'layers', 'embedding'].filter((f) => flags[f] !== undefined);
  if (checkpoint !== undefined) {
    if (freshFlags.length > 0)
      throw new CliError(
        `--${freshFlags[0]} describes fresh models; a --checkpoint brings its own (leave out --${freshFlags.join(', --')})`,
      );
    const { model } = loadModel(checkpoint);
    return [{ label: model.config.cell, model, fresh: false }];
  }
  const listed = ((flags.cells as string | undefined) ?? (explode ? 'rnn' : KINDS.join(','))).split(',');
  const kinds: CellKind[] = [];
  for (const raw of listed) {
    const kind = raw.trim() as CellKind;
    if (!KINDS.includes(kind))
      throw new CliError(`--cells ${JSON.stringify(flags.cells)}: ${JSON.stringify(raw)} is not one of rnn, gru, lstm`);
    if (kinds.includes(kind)) throw new CliError(`--cells ${JSON.stringify(flags.cells)} names ${kind} twice`);
    kinds.push(kind);
  }
  if (explode && kinds.length !== 1)
    throw new CliError(`--explode trains one model; give --cells one kind, got ${kinds.join(',')}`);
  const vocab = Vocabulary.fromText(text).chars;
  return kinds.map((cell) => ({
    label: cell,
    fresh: true,
    model: new CharModel({
      cell,
      vocab,
      hidden: (flags.hidden as number | undefined) ?? 128,
      layers: (flags.layers as number | undefined) ?? 1,
      embeddingDim: (flags.embedding as number | undefined) ?? 32,
      seed: flags.seed as number,
    }),
  }));
}

/** The text's characters as ids of the model's vocabulary; the others are skipped and counted. */
function encodeKnown(model: CharModel, text: string): { ids: Int32Array; skipped: number } {
  const index = new Map(model.config.vocab.map((c, i) => [c, i]));
  const ids: number[] = [];
  let skipped = 0;
  for (const ch of text) {
    const id = index.get(ch);
    if (id === undefined) skipped++;
    else ids.push(id);
  }
  return { ids: Int32Array.from(ids), skipped };
}

/** Multiplies every recurrent weight matrix W_hh of the model by `factor`, in place. */
export function scaleRecurrent(model: CharModel, factor: number): void {
  for (const v of model.views().filter((x) => x.name.includes('weight_hh'))) {
    const n = v.shape[0]! * v.shape[1]!;
    for (let i = v.offset; i < v.offset + n; i++) model.params[i] = model.params[i]! * factor;
  }
}

/** Mean of gradientFlow's norms over N windows of T + 1 ids spread evenly over `ids`. */
function meanFlow(model: CharModel, ids: Int32Array, T: number, N: number): MeanLayerFlow[] {
  const L = model.config.layers;
  const lstm = model.config.cell === 'lstm';
  const out: MeanLayerFlow[] = Array.from({ length: L }, () => ({
    h: new Float64Array(T),
    c: lstm ? new Float64Array(T) : null,
  }));
  const span = ids.length - T - 1;
  for (let w = 0; w < N; w++) {
    const at = N === 1 ? 0 : Math.floor((w * span) / (N - 1));
    const flow = gradientFlow(model, ids.subarray(at, at + T + 1));
    flow.layers.forEach((l, layer) => {
      const o = out[layer]!;
      for (let k = 0; k < T; k++) {
        o.h[k] = o.h[k]! + l.h[k]! / N;
        if (o.c && l.c) o.c[k] = o.c[k]! + l.c[k]! / N;
      }
    });
  }
  return out;
}

function describeModel(model: CharModel): string {
  const c = model.config;
  return `hidden ${c.hidden}, embedding ${c.embeddingDim}, ${c.layers} layer${c.layers > 1 ? 's' : ''}, seed ${c.seed}`;
}

const sci = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : String(v));

/** The summary per series and the per-step table of norms relative to k = 0. */
function printFlow(io: CliIo, series: readonly FlowSeries[], T: number, what: string, how: string): void {
  const out = io.stdout;
  out.write(
    "gradient flow through time: ‖∂L_T/∂h_(T−k)‖, the gradient of the last character's loss with respect to\n" +
      `the hidden state k steps before it (c: the LSTM cell state); ${what};\n${how}.\n\n`,
  );
  const picks = [10, 25, 50, T - 1].filter((k, i, a) => k > 0 && k < T && a.indexOf(k) === i);
  const width = Math.max(6, ...series.map((s) => s.label.length)) + 2;
  out.write(
    `${'series'.padEnd(width)}${'k=0 norm'.padStart(10)}${picks.map((k) => `k=${k} rel`.padStart(11)).join('')}   below 1e-3 × k=0\n`,
  );
  for (const s of series) {
    const first = s.norms[0]!;
    const at = decayStep(s.norms);
    out.write(
      `${s.label.padEnd(width)}${sci(first).padStart(10)}${picks.map((k) => sci(s.norms[k]! / first).padStart(11)).join('')}   ${
        at === null ? `not within T = ${T}` : `at k = ${at}`
      }\n`,
    );
  }
  out.write(
    `\nper step, relative to k = 0:\n${'k'.padStart(5)}${series.map((s) => s.label.padStart(Math.max(11, s.label.length + 2))).join('')}\n`,
  );
  for (let k = 0; k < T; k++) {
    out.write(
      `${String(k).padStart(5)}${series.map((s) => sci(s.norms[k]! / s.norms[0]!).padStart(Math.max(11, s.label.length + 2))).join('')}\n`,
    );
  }
}

/**
 * --explode: trains the (scaled) model online with SGD and global-norm clipping at θ for --steps
 * updates of T characters, printing each update's pre-clip norm and the norm applied.
 */
async function explodeRun(flags: Flags, io: CliIo, model: CharModel, ids: Int32Array, T: number): Promise<ClipPoint[]> {
  const theta = flags.clip as number;
  const steps = flags.steps as number;
  const lr = flags.lr as number;
  // steps windows of T + 1 ids that overlap by one; the text repeats when it is shorter.
  const need = steps * T + 1;
  const stream = new Int32Array(need);
  for (let i = 0; i < need; i++) stream[i] = ids[i % ids.length]!;
  const points: ClipPoint[] = [];
  const records: Record<string, unknown>[] = [];
  await new Promise<void>((resolve, reject) => {
    const sub = from([stream])
      .pipe(
        trainOnline(model, {
          bptt: T,
          lr,
          maxGradNorm: theta,
          optimizer: createOptimizer({ kind: 'sgd' }, model.params.length),
          overflow: 'block',
        }),
      )
      .subscribe({
        next: (e) => {
          // After the update model.grads still holds the gradient the optimizer applied.
          let sq = 0;
          for (let i = 0; i < model.grads.length; i++) sq += model.grads[i]! ** 2;
          const applied = Math.sqrt(sq);
          points.push({ gradNorm: e.gradNorm, applied, clipped: e.clipped });
          records.push({
            update: e.step,
            loss: e.loss,
            gradNorm: e.gradNorm,
            clipped: e.clipped,
            applied,
            threshold: theta,
          });
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
  const out = io.stdout;
  if (flags.json) for (const r of records) out.write(`${JSON.stringify(r)}\n`);
  else {
    out.write(
      `\ntraining it: ${points.length} updates of T = ${T} characters, SGD lr ${lr}, global-norm clipping at θ = ${theta}\n` +
        `${'update'.padStart(6)}${'loss'.padStart(9)}${'norm before clip'.padStart(18)}  clipped${'norm applied'.padStart(15)}\n`,
    );
    for (const r of records)
      out.write(
        `${String(r.update).padStart(6)}${(r.loss as number).toFixed(3).padStart(9)}${sci(r.gradNorm as number).padStart(18)}  ${(r.clipped ? 'yes' : 'no').padEnd(7)}${(r.applied as number).toPrecision(8).padStart(15)}\n`,
      );
    const clipped = points.filter((p) => p.clipped).length;
    const pre = points.map((p) => p.gradNorm);
    const applied = Math.max(...points.map((p) => p.applied));
    out.write(
      `clipping fired in ${clipped} of ${points.length} updates; norms before clipping ${sci(Math.min(...pre))} … ${sci(Math.max(...pre))}; ` +
        `largest norm applied ${applied.toPrecision(8)} (θ = ${theta})\n`,
    );
  }
  return points;
}
