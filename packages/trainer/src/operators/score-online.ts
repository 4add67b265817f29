// scoreOnline(model, options): dynamic evaluation. Emits each token's surprisal (bits) under the
// current parameters BEFORE learning from it, then learns window by window like trainOnline.
// Per-subscription scoring state [1×S] and session; the model's params are shared.
import { Observable, Subscriber, type OperatorFunction } from 'rxjs';
import { OnlineSession, type OnlineInput, type OnlineOptions } from '../internal/online-session.js';
import type { TrainableModel } from '../model.js';

export interface ScoreOptions extends OnlineOptions {
  /** Learn from the stream after scoring it (dynamic evaluation); false scores with frozen weights. Default true. */
  learn?: boolean;
}

export interface ScoreEvent {
  /** Position of the token in the stream (the first token has no prediction and is not emitted). */
  index: number;
  token: number;
  /** The char for that token id. */
  char: string;
  /** −log2 p(token | everything before it), in bits. */
  bits: number;
  /** Updates applied before this token was scored. */
  step: number;
}

/**
 * Differences from trainOnline: `overflow` defaults to 'block' here, so every scored token is
 * also learned from (scoring is synchronous per token anyway); learning updates happen between
 * tokens and affect the scores of later tokens only.
 */
export function scoreOnline(model: TrainableModel, options: ScoreOptions = {}): OperatorFunction<OnlineInput, ScoreEvent> {
  return (source) =>
    new Observable<ScoreEvent>((subscriber) => {
      const learn = options.learn ?? true;
      const session = new OnlineSession(model, { overflow: 'block', ...options }, 'scoreOnline');
      const vocab = model.config.vocab;
      const V = vocab.length;
      const state = model.createState(1);
      const prev = new Int32Array(1);
      let index = 0;
      let sourceDone = false;
      let timer: ReturnType<typeof setImmediate> | null = null;

      const trainPending = (w: { ids: Int32Array; len: number }) => {
        session.train(w);
        session.release(w);
      };
      const drain = () => {
        timer = null;
        if (subscriber.closed) return;
        try {
          const w = session.next();
          if (w) trainPending(w);
        } catch (e) {
          return subscriber.error(e);
        }
        if (session.pending > 0) schedule();
        else if (sourceDone) subscriber.complete();
      };
      const schedule = () => {
        if (timer === null && !subscriber.closed) timer = setImmediate(drain);
      };

      const onToken = (id: number) => {
        if (index > 0) {
          // Surprisal of `id` from the logits after the previous token, in float64.
          const logits = model.step(prev, state);
          let max = -Infinity;
          for (let v = 0; v < V; v++) if (logits[v] > max) max = logits[v];
          let sum = 0;
          for (let v = 0; v < V; v++) sum += Math.exp(logits[v] - max);
          const bits = (Math.log(sum) + max - logits[id]) / Math.LN2;
          if (!Number.isFinite(bits)) throw new RangeError(`scoreOnline: non-finite surprisal at token ${index} (logits not finite)`);
          subscriber.next({ index, token: id, char: vocab[id], bits, step: session.steps });
        }
        prev[0] = id;
        index++;
        if (learn && !subscriber.closed) {
          const urgent = session.push(id);
          if (urgent) trainPending(urgent);
        }
      };

      const inner = new Subscriber<OnlineInput>({
        next: (value) => {
          try {
            session.forEachToken(value, onToken);
          } catch (e) {
            return subscriber.error(e);
          }
          if (session.pending > 0) schedule();
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          sourceDone = true;
          try {
            const urgent = learn ? session.flush() : null;
            if (urgent) trainPending(urgent);
          } catch (e) {
            return subscriber.error(e);
          }
          if (session.pending > 0) schedule();
          else subscriber.complete();
        },
      });
      subscriber.add(inner);
      subscriber.add(() => {
        if (timer !== null) clearImmediate(timer);
      });
      source.subscribe(inner);
    });
}
