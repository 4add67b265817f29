// keyedCharModel(): a char model for the keyed engine. Events are token ids (or { token, emit });
// outputs are logits [V], a sampled token id, or the surprisal of the event's token in bits. Owns
// the batch token buffer [maxBatch] and a TokenSampler; per-key extras hold a sampler's Rng and
// settings, or the previous token; the states are the engine's.
import {
  type ResolvedSampling,
  resolveSampling,
  type SamplingOptions,
  type StepModel,
  TokenSampler,
} from '@rxrnn/cells';
import { RNG_STATE_LENGTH, Rng } from '@rxrnn/kernels';
import { checkOneOf, describe } from './internal/checks.js';
import type { KeyedBatch, KeyedModel } from './keyed-model.js';
import type { KeyedKey } from './types.js';

/**
 * A char-model event: a token id, or `{ token, emit: false }` to feed a token without asking for
 * an output (a prompt or a prime: the state advances, the output is null and nothing is drawn).
 */
export type TokenInput =
  | number
  | {
      /** The token id, an integer in [0, V). */
      readonly token: number;
      /** Ask for an output (default true); false feeds the token only. */
      readonly emit?: boolean;
    };

/** What keyedCharModel() emits per event. */
export type CharModelOutput = 'logits' | 'sample' | 'surprisal';

/** Options of keyedCharModel(). */
export interface KeyedCharModelOptions {
  /**
   * - 'logits' (default): the logits [V] after the event's token, a fresh Float32Array (what
   *   `CharModel.step` gives).
   * - 'sample': a token id drawn from those logits (temperature, topK, topP of `sampling`) with
   *   the key's own Rng, as `generate()` draws: feed the drawn token back as the key's next
   *   event to generate text, with the prime's tokens but the last as `{ token, emit: false }`.
   * - 'surprisal': −log2 p(token | the key's earlier tokens) in bits, the event token's surprisal
   *   under the logits after the key's previous token (what `scoreOnline(model, { learn: false })`
   *   emits); null for a key's first event, which has nothing before it.
   */
  output?: CharModelOutput;
  /**
   * 'sample' only: temperature, topK, topP and seed of every key, or a function giving them for
   * a key seen for the first time (its result is kept with the key's state, snapshots included).
   * A key's Rng is `new Rng(seed)` (a random seed when none is given), so a key with seed s
   * draws what `generate(model, { seed: s, ... })` draws. Default: temperature 1, no filtering.
   */
  sampling?: SamplingOptions | ((key: KeyedKey) => SamplingOptions);
}

/**
 * The keyed engine's view of a char model (`CharModel`): events are token ids, outputs the
 * logits, a sampled token or the surprisal of each token (see KeyedCharModelOptions.output); an
 * output is null for an event `{ token, emit: false }` (and for a key's first event under
 * 'surprisal').
 *
 * @example
 * const model = new CharModel({ cell: 'lstm', vocab, hidden: 256, layers: 2, seed: 1 });
 * // Per-user surprisal of what each user types, all users stepped together:
 * keys$.pipe(keyed(keyedCharModel(model, { output: 'surprisal' }), { maxKeys: 10_000, maxDelayMs: 2 }));
 * @throws TypeError unless `model` steps like a CharModel; RangeError/TypeError on bad options.
 */
export function keyedCharModel(
  model: StepModel,
  options: KeyedCharModelOptions & { output: 'sample' | 'surprisal' },
): KeyedModel<TokenInput, number | null>;
export function keyedCharModel(
  model: StepModel,
  options?: KeyedCharModelOptions & { output?: 'logits' },
): KeyedModel<TokenInput, Float32Array | null>;
export function keyedCharModel(
  model: StepModel,
  options?: KeyedCharModelOptions,
): KeyedModel<TokenInput, Float32Array | number | null>;
export function keyedCharModel(
  model: StepModel,
  options: KeyedCharModelOptions = {},
): KeyedModel<TokenInput, Float32Array | number | null> {
  const where = 'keyedCharModel';
  if (
    typeof model !== 'object' ||
    model === null ||
    typeof model.step !== 'function' ||
    typeof model.createState !== 'function' ||
    typeof model.config !== 'object' ||
    model.config === null ||
    !Array.isArray(model.config.vocab) ||
    model.config.vocab.length < 1 ||
    !Number.isSafeInteger(model.config.hidden) ||
    model.config.hidden < 1
  ) {
    throw new TypeError(`${where}: model must be a CharModel, got ${describe(model)}`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  }
  const output = checkOneOf(where, 'output', options.output ?? 'logits', ['logits', 'sample', 'surprisal'] as const);
  const sampling = options.sampling;
  if (sampling !== undefined && output !== 'sample') {
    throw new TypeError(`${where}: sampling is for output 'sample', got output '${output}'`);
  }
  // Fixed options are checked now; a function's results when each key first comes.
  const fixed = typeof sampling === 'function' ? null : resolveSampling(where, sampling ?? {});
  if (sampling !== undefined && typeof sampling !== 'function' && typeof sampling !== 'object') {
    throw new TypeError(`${where}: sampling must be an object or a function, got ${describe(sampling)}`);
  }
  return new CharModelAdapter(model, output, fixed, typeof sampling === 'function' ? sampling : null);
}

/** A key's sampler: its Rng and settings (output 'sample'). */
interface SampleExtra {
  rng: Rng;
  sampling: ResolvedSampling;
}

/** A key's previous token (output 'surprisal'): −1 before its first event. */
interface SurprisalExtra {
  prev: number;
}

const article = (w: string) => (/^[aeiourlfhmnsx]/.test(w) ? 'an' : 'a');

class CharModelAdapter implements KeyedModel<TokenInput, Float32Array | number | null> {
  readonly description: string;
  readonly output: CharModelOutput;
  readonly stateSize: number;
  readonly segment: number;
  readonly target: StepModel;
  readonly #V: number;
  readonly #fixed: ResolvedSampling | null;
  readonly #samplingOf: ((key: KeyedKey) => SamplingOptions) | null;

  constructor(
    model: StepModel,
    output: CharModelOutput,
    fixed: ResolvedSampling | null,
    samplingOf: ((key: KeyedKey) => SamplingOptions) | null,
  ) {
    this.target = model;
    this.output = output;
    this.#V = model.config.vocab.length;
    this.stateSize = model.createState(1).length;
    this.segment = model.config.hidden;
    if (this.stateSize % this.segment !== 0) {
      throw new TypeError(
        `keyedCharModel: model state of ${this.stateSize} floats is not blocks of H = ${this.segment}`,
      );
    }
    this.#fixed = fixed;
    this.#samplingOf = samplingOf;
    const c = model.config;
    const L = c.layers ?? 1;
    this.description = `${article(c.cell)} ${c.cell} char model (V ${this.#V}, H ${c.hidden}, ${L} layer${L === 1 ? '' : 's'})`;
  }

  createExtra(key: KeyedKey): SampleExtra | SurprisalExtra | null {
    if (this.output === 'surprisal') return { prev: -1 };
    if (this.output !== 'sample') return null;
    const sampling = this.#fixed ?? resolveSampling('keyedCharModel', this.#samplingOf!(key));
    const seed = sampling.seed ?? Math.floor(Math.random() * 0x1_0000_0000) | 0;
    return { rng: new Rng(seed), sampling };
  }

  writeExtra(extra: unknown): unknown {
    if (this.output === 'surprisal') return { prev: (extra as SurprisalExtra).prev };
    if (this.output !== 'sample') return null;
    const { rng, sampling } = extra as SampleExtra;
    return { rng: rng.getState(), temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP };
  }

  readExtra(data: unknown, where: string): unknown {
    const V = this.#V;
    if (this.output === 'logits') {
      if (data !== null) throw new RangeError(`${where}: extra data ${describe(data)}, expected none for logits`);
      return null;
    }
    if (typeof data !== 'object' || data === null) {
      throw new RangeError(`${where}: extra data ${describe(data)}, expected the ${this.output} data of a key`);
    }
    const d = data as Record<string, unknown>;
    if (this.output === 'surprisal') {
      const prev = d.prev;
      if (typeof prev !== 'number' || !Number.isInteger(prev) || prev < -1 || prev >= V) {
        throw new RangeError(`${where}: previous token ${describe(prev)}, expected an integer in [-1, ${V})`);
      }
      return { prev };
    }
    const rngState = d.rng;
    if (!(rngState instanceof Uint32Array) || rngState.length !== RNG_STATE_LENGTH) {
      throw new RangeError(
        `${where}: sampler Rng state ${describe(rngState)}, expected ${RNG_STATE_LENGTH} uint32 words`,
      );
    }
    const topK = d.topK === Infinity ? undefined : d.topK;
    const sampling = resolveSampling(where, {
      temperature: d.temperature as number,
      topK: topK as number | undefined,
      topP: d.topP as number,
    });
    const rng = new Rng(1);
    try {
      rng.setState(rngState);
    } catch (e) {
      throw new RangeError(`${where}: ${(e as Error).message}`);
    }
    return { rng, sampling } satisfies SampleExtra;
  }

  check(value: unknown): Error | undefined {
    let token: unknown = value;
    if (typeof value === 'object' && value !== null) {
      const v = value as { token?: unknown; emit?: unknown };
      if (v.emit !== undefined && typeof v.emit !== 'boolean') {
        return new TypeError(`keyed: emit must be a boolean, got ${describe(v.emit)}`);
      }
      token = v.token;
    } else if (typeof value !== 'number') {
      return new TypeError(`keyed: value must be a token id or { token, emit }, got ${describe(value)}`);
    }
    if (typeof token !== 'number' || !Number.isInteger(token) || token < 0 || token >= this.#V) {
      return new RangeError(`keyed: token must be an integer in [0, ${this.#V}), got ${describe(token)}`);
    }
    return undefined;
  }

  createBatch(maxBatch: number): KeyedBatch<TokenInput, Float32Array | number | null> {
    return new CharModelBatch(this.target, this.output, maxBatch);
  }
}

/** The token ids of a batch [maxBatch] and one view per B, and the step's logits. */
class CharModelBatch implements KeyedBatch<TokenInput, Float32Array | number | null> {
  readonly #model: StepModel;
  readonly #output: CharModelOutput;
  readonly #V: number;
  readonly #sampler: TokenSampler | null;
  readonly #tokens: Int32Array;
  readonly #views: Int32Array[] = [];
  #logits: Float32Array = new Float32Array(0);

  constructor(model: StepModel, output: CharModelOutput, maxBatch: number) {
    this.#model = model;
    this.#output = output;
    this.#V = model.config.vocab.length;
    this.#sampler = output === 'sample' ? new TokenSampler(this.#V) : null;
    this.#tokens = new Int32Array(maxBatch);
  }

  needsStep(_value: TokenInput, extra: unknown): boolean {
    return this.#output !== 'surprisal' || (extra as SurprisalExtra).prev >= 0;
  }

  setRow(b: number, value: TokenInput, extra: unknown): void {
    // Surprisal steps the previous token: its logits predict this one.
    this.#tokens[b] = this.#output === 'surprisal' ? (extra as SurprisalExtra).prev : tokenOf(value);
  }

  step(states: Float32Array, B: number): void {
    // One view object per B: CharModel.step reads the batch size from the token array's length.
    let tokens = this.#views[B];
    if (tokens === undefined) {
      tokens = this.#tokens.subarray(0, B);
      this.#views[B] = tokens;
    }
    this.#logits = this.#model.step(tokens, states);
  }

  output(b: number, value: TokenInput, extra: unknown): Float32Array | number | null {
    const emit = typeof value === 'number' || value.emit !== false;
    const V = this.#V;
    if (this.#output === 'logits') return emit ? this.#logits.slice(b * V, (b + 1) * V) : null;
    if (this.#output === 'sample') {
      if (!emit) return null;
      this.#checkFinite(b);
      const { rng, sampling } = extra as SampleExtra;
      return this.#sampler!.draw(this.#logits, b, rng, sampling);
    }
    const s = extra as SurprisalExtra;
    const token = tokenOf(value);
    let bits: number | null = null;
    if (b >= 0 && emit) {
      // −log2 softmax(logits)[token], in float64 from the float32 logits (as scoreOnline).
      const l = this.#logits;
      const o = b * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (l[o + v]! > max) max = l[o + v]!;
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(l[o + v]! - max);
      bits = (Math.log(sum) + max - l[o + token]!) / Math.LN2;
      if (!Number.isFinite(bits)) {
        throw new RangeError(`keyed: surprisal must be a finite number, got ${bits} (the logits are not finite)`);
      }
    }
    s.prev = token;
    return bits;
  }

  release(): void {
    this.#views.length = 0;
    this.#logits = new Float32Array(0);
  }

  #checkFinite(b: number): void {
    const l = this.#logits;
    const o = b * this.#V;
    for (let v = 0; v < this.#V; v++) {
      const x = l[o + v]!;
      if (x - x !== 0) throw new RangeError(`keyed: logits[${v}] must be a finite number, got ${x}`);
    }
  }
}

function tokenOf(value: TokenInput): number {
  return typeof value === 'number' ? value : value.token;
}
