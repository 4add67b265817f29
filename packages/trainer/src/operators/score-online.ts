// scoreOnline(model, options): dynamic evaluation. Emits each token's surprisal (bits) under the
// current parameters BEFORE learning from it, and learns from each window as soon as it is full.
// Per-subscription scoring state [1×S] and session; the model's params are shared.
import { Observable, type OperatorFunction, Subscriber } from 'rxjs';
import { type OnlineInput, type OnlineOptions, OnlineSession } from '../internal/online-session.js';
import type { TrainableModel } from '../model.js';

/** Options of {@link scoreOnline}: those of trainOnline without the queue, plus `learn`. */
export interface ScoreOptions extends Omit<OnlineOptions, 'overflow' | 'maxPendingWindows'> {
  /** Learn from the stream after scoring it (dynamic evaluation); false scores with frozen weights. Default true. */
  learn?: boolean;
}

/** What {@link scoreOnline} emits for every token after the first. */
export interface ScoreEvent {
  /** Position of the token in the stream (the first token has no prediction and is not emitted). */
  index: number;
  /** The token id that arrived. */
  token: number;
  /** The char for that token id. */
  char: string;
  /** −log2 p(token | everything before it), in bits. */
  bits: number;
  /** Updates applied before this token was scored. */
  step: number;
}

/**
 * Scores a stream token by token: for every token after the first it emits the surprisal
 * −log2 p(token | history) the model gave it before seeing it, then (with `learn`, the default)
 * trains on each full window of T tokens, as trainOnline does (dynamic evaluation).
 *
 * Unlike trainOnline there is no queue: scoring is synchronous per token, and the update for a
 * window runs the moment its last token has been scored, so the scores do not depend on the
 * producer's timing (a synchronous producer is throttled to scoring + training speed).
 *
 * @throws RangeError/TypeError for a bad option; the stream errors on a character outside the vocabulary.
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { CharModel } from '@rxrnn/cells';
 * import { scoreOnline } from '@rxrnn/trainer';
 * const model = new CharModel({ cell: 'gru', vocab: [...'ab '], hidden: 8, seed: 1 });
 * of('ab ab ', 'ab ba ')
 *   .pipe(scoreOnline(model, { bptt: 4 }))
 *   .subscribe((e) => console.log(e.char, e.bits.toFixed(2))); // bits per character
 * ```
 */
export function scoreOnline(
  model: TrainableModel,
  options: ScoreOptions = {},
): OperatorFunction<OnlineInput, ScoreEvent> {
  OnlineSession.validate(model, options, 'scoreOnline');
  return (source) =>
    new Observable<ScoreEvent>((subscriber) => {
      const learn = options.learn ?? true;
      const session = new OnlineSession(model, { ...options, overflow: 'block' }, 'scoreOnline');
      const vocab = model.config.vocab;
      const V = vocab.length;
      const state = model.createState(1);
      const prev = new Int32Array(1);
      let index = 0;

      const learnPending = () => {
        for (let w = session.next(); w; w = session.next()) {
          session.train(w);
          session.release(w);
        }
      };
      const onToken = (id: number) => {
        if (subscriber.closed) return;
        if (index > 0) {
          // Surprisal of `id` from the logits after the previous token, in float64.
          const logits = model.step(prev, state);
          let max = -Infinity;
          for (let v = 0; v < V; v++) if (logits[v]! > max) max = logits[v]!;
          let sum = 0;
          for (let v = 0; v < V; v++) sum += Math.exp(logits[v]! - max);
          const bits = (Math.log(sum) + max - logits[id]!) / Math.LN2;
          if (!Number.isFinite(bits))
            throw new RangeError(`scoreOnline: non-finite surprisal at token ${index} (logits not finite)`);
          subscriber.next({ index, token: id, char: vocab[id]!, bits, step: session.steps });
        }
        prev[0] = id;
        index++;
        if (learn && !subscriber.closed) {
          session.push(id);
          learnPending();
        }
      };

      // A Subscriber so that unsubscribing downstream closes it even inside a synchronous source.
      const inner = new Subscriber<OnlineInput>({
        next: (value) => {
          try {
            session.forEachToken(value, onToken);
          } catch (e) {
            subscriber.error(e);
          }
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          try {
            if (learn) {
              session.flush();
              learnPending();
            }
          } catch (e) {
            return subscriber.error(e);
          }
          subscriber.complete();
        },
      });
      subscriber.add(inner);
      source.subscribe(inner);
    });
}
