// trainOnline(model, options): learns from a live char/token stream, one truncated-BPTT update
// per window of T tokens, and emits an event per update. Per-subscription session (state,
// optimizer, window pool); the model's params are shared and updated in place.
import { Observable, type OperatorFunction, Subscriber } from 'rxjs';
import {
  type OnlineInput,
  type OnlineOptions,
  OnlineSession,
  type OnlineTrainEvent,
} from '../internal/online-session.js';
import type { TrainableModel } from '../model.js';

export type { OnlineInput, OnlineOptions, OnlineTrainEvent };

/**
 * Learns from a live stream as it arrives: text chunks (or token ids) are cut into windows of T
 * tokens, each window is one truncated-BPTT update of `model` (its params change in place), and
 * an OnlineTrainEvent is emitted per update. The hidden state carries over from window to window.
 *
 * Memory is bounded whatever the producer does: one window being filled plus at most
 * `maxPendingWindows` full ones. Training runs one window per macrotask (setImmediate), so a
 * server stays responsive; when windows arrive faster than that, `overflow` decides (default
 * 'drop-oldest': discard the oldest pending window and count it in `droppedWindows`). The hidden
 * state is carried across windows, also across a dropped one. On complete, the final partial
 * window is trained too, then the output completes.
 *
 * @throws RangeError/TypeError for a bad option (at once, not on subscribe). The stream errors on
 *   a character outside the vocabulary (unknownChars 'error') or a non-finite loss.
 * @example
 * ```ts
 * import { from, lastValueFrom } from 'rxjs';
 * import { CharModel, Vocabulary } from '@rxrnn/cells';
 * import { trainOnline } from '@rxrnn/trainer';
 * const text = 'hello world, hello stream. ';
 * const model = new CharModel({ cell: 'lstm', vocab: Vocabulary.fromText(text).chars, hidden: 16, seed: 1 });
 * const last = await lastValueFrom(from(Array(8).fill(text)).pipe(trainOnline(model, { bptt: 16 })));
 * console.log(last.step, last.loss); // updates so far, nats per token of the last window
 * ```
 */
export function trainOnline(
  model: TrainableModel,
  options: OnlineOptions = {},
): OperatorFunction<OnlineInput, OnlineTrainEvent> {
  OnlineSession.validate(model, options, 'trainOnline');
  return (source) =>
    new Observable<OnlineTrainEvent>((subscriber) => {
      const session = new OnlineSession(model, options, 'trainOnline');
      let sourceDone = false;
      let timer: ReturnType<typeof setImmediate> | null = null;

      const fail = (e: unknown) => subscriber.error(e);
      const trainOne = (w: { ids: Int32Array; len: number }) => {
        const event = session.train(w);
        session.release(w);
        subscriber.next(event);
      };
      // Train the oldest pending window, then come back in the next macrotask if more wait.
      const drain = () => {
        timer = null;
        if (subscriber.closed) return;
        try {
          const w = session.next();
          if (w) trainOne(w);
        } catch (e) {
          return fail(e);
        }
        if (session.pending > 0) schedule();
        else if (sourceDone) subscriber.complete();
      };
      const schedule = () => {
        if (timer === null && !subscriber.closed) timer = setImmediate(drain);
      };

      // A Subscriber (not a plain observer) so that unsubscribing downstream closes it even while
      // a synchronous source is still inside subscribe(); such sources check `closed` and stop.
      const inner = new Subscriber<OnlineInput>({
        next: (value) => {
          try {
            session.forEachToken(value, (id) => {
              const urgent = session.push(id);
              if (urgent) trainOne(urgent);
            });
          } catch (e) {
            return fail(e);
          }
          if (session.pending > 0) schedule();
        },
        error: fail,
        complete: () => {
          sourceDone = true;
          try {
            const urgent = session.flush();
            if (urgent) trainOne(urgent);
          } catch (e) {
            return fail(e);
          }
          if (session.pending > 0) schedule();
          else subscriber.complete();
        },
      });
      subscriber.add(inner);
      subscriber.add(() => {
        if (timer !== null) clearImmediate(timer);
        timer = null;
      });
      source.subscribe(inner);
    });
}
