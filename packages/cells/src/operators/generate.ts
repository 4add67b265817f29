// generate(): text from a char model as an Observable<string>, one character per emission.
// Runs in scheduler slices of at most `sliceMs` so a server or page stays live; owns a per-
// subscription state (or advances a StateHandle's), a seeded Sampler and two one-token buffers.
import { asyncScheduler, Observable, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { checkHandleFits, type StateHandle } from '../state-handle.js';
import type { StepModel } from './internal/contract-types.js';
import { resolveSampling, Sampler, type SamplingOptions } from './internal/sampling.js';
import { checkPositiveFinite, checkPositiveInt, describe, StateGuard } from './internal/validate.js';

/** Options of generate(); temperature, topK, topP and seed as in SamplingOptions. */
export interface GenerateOptions extends SamplingOptions {
  /**
   * Text fed through the model before sampling (not emitted). Required, at least one character,
   * every character in the model's vocabulary. Its last character is the first token's input.
   */
  prime: string;
  /** Characters to generate, a non-negative integer. Required. */
  length: number;
  /**
   * A state handle of the model (createStateHandle(model), batch 1) to start from and advance,
   * e.g. one a trainer also drives. Afterwards it holds the state after the prime and every
   * generated character but the last (pass that one as the next prime to continue).
   * Default: none — each subscription starts from zeros.
   */
  state?: StateHandle;
  /** Where the generation slices run. Default asyncScheduler (a macrotask between slices). */
  scheduler?: SchedulerLike;
  /** Longest stretch of work (ms, wall clock) before yielding to the event loop. Default 4. */
  sliceMs?: number;
  /** Most model steps per slice, whatever the time. Default: no limit (only sliceMs). */
  stepsPerSlice?: number;
}

/**
 * Emits `length` characters sampled from `model` after `prime`, then completes. Cold: each
 * subscription starts its own generation (same seed → same text). Unsubscribing stops it at once.
 * A model step whose state or logits are not finite (weights large enough to overflow float32)
 * errors the stream and is undone: a state handle keeps the state from before that step.
 * @throws RangeError/TypeError on bad options, naming the option and what was expected.
 * @example
 * ```ts
 * import { lastValueFrom, toArray } from 'rxjs';
 * import { CharModel, generate } from '@rxrnn/cells';
 * const model = new CharModel({ cell: 'gru', vocab: [...'abc '], hidden: 8, seed: 1 });
 * const chars = await lastValueFrom(generate(model, { prime: 'ab', length: 10, seed: 3 }).pipe(toArray()));
 * console.log(chars.join('')); // 10 characters from an untrained model
 * ```
 */
export function generate(model: StepModel, options: GenerateOptions): Observable<string> {
  if (
    typeof model !== 'object' ||
    model === null ||
    typeof model.step !== 'function' ||
    typeof model.config !== 'object'
  ) {
    throw new TypeError(`generate: model must be a CharModel, got ${describe(model)}`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`generate: options must be an object with prime and length, got ${describe(options)}`);
  }
  const vocab = model.config.vocab;
  const sampling = resolveSampling('generate', options);
  const primeIds = encodePrime(options.prime, vocab);
  const { length } = options;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
    throw new RangeError(`generate: length must be a non-negative integer, got ${describe(length)}`);
  }
  const sliceMs = checkPositiveFinite('generate', 'sliceMs', options.sliceMs ?? 4);
  const stepsPerSlice =
    options.stepsPerSlice === undefined
      ? Infinity
      : checkPositiveInt('generate', 'stepsPerSlice', options.stepsPerSlice);
  const scheduler = options.scheduler ?? asyncScheduler;
  const handle = options.state;
  if (handle !== undefined) checkHandleFits('generate', handle, model, 1);
  // Steps: prime[0..k-2] only advance the state; then each character is step(previous) → sample.
  const feedSteps = primeIds.length - 1;
  const totalSteps = feedSteps + length;

  return new Observable<string>((subscriber) => {
    // Per subscription: state, Rng, token buffers and the position in the step sequence.
    const state = handle ? handle.state : model.createState(1);
    const guard = new StateGuard('generate', state.length);
    const sampler = new Sampler('generate', sampling, 1, vocab.length);
    const token = new Int32Array(1);
    const drawn = new Int32Array(1);
    let t = 0;
    token[0] = primeIds[0]!;

    function slice(this: SchedulerAction<unknown>): void {
      const start = performance.now();
      try {
        for (let n = 0; t < totalSteps; n++) {
          // Stop at once when the consumer has gone; yield when the slice is used up.
          if (subscriber.closed) return;
          if (n >= stepsPerSlice || (n > 0 && performance.now() - start >= sliceMs)) {
            this.schedule();
            return;
          }
          // Sample right after the step: the logits are the model's scratch, which another
          // subscription on the same model may overwrite once this slice yields.
          // A step whose state or logits are not finite (huge weights overflow float32) is undone.
          guard.save(state);
          const logits = model.step(token, state);
          if (t < feedSteps) {
            guard.check(state, t, 'prime character');
            token[0] = primeIds[t + 1]!;
          } else {
            guard.check(state, t - feedSteps);
            try {
              sampler.sampleInto(drawn, logits, t - feedSteps);
            } catch (e) {
              guard.undo(state);
              throw e;
            }
            token[0] = drawn[0]!;
            subscriber.next(vocab[drawn[0]!]!);
          }
          t++;
        }
        subscriber.complete();
      } catch (err) {
        subscriber.error(err);
      }
    }

    // length 0 with a one-character prime has nothing to do: still async, like every other case.
    return scheduler.schedule(slice);
  });
}

/** Prime text → token ids (code points looked up in the vocabulary). */
function encodePrime(prime: unknown, vocab: readonly string[]): Int32Array {
  if (typeof prime !== 'string' || prime.length === 0) {
    throw new RangeError(`generate: prime must be a non-empty string, got ${describe(prime)}`);
  }
  const index = new Map<string, number>();
  vocab.forEach((ch, i) => index.set(ch, i));
  const chars = Array.from(prime);
  const ids = new Int32Array(chars.length);
  chars.forEach((ch, i) => {
    const id = index.get(ch);
    if (id === undefined) {
      throw new RangeError(
        `generate: prime character ${JSON.stringify(ch)} at index ${i} is not in the vocabulary, expected one of the model's ${vocab.length} characters`,
      );
    }
    ids[i] = id;
  });
  return ids;
}
