// Server-side generation for /api/generate: every live generation is one key of a keyed engine
// (@rxrnn/keyed) over the serving model, so concurrent generations are stepped together, one
// batched step per round. Each session feeds its prime (all but the last character without
// drawing), then every drawn token back, until its length; the sampler (temperature, top-k, top-p,
// seed) is the session's own, so a generation is the text generate() gives with the same seed.
import type { CharModel } from '@rxrnn/cells';
import {
  createKeyedStates,
  type KeyedEvent,
  type KeyedMetrics,
  type KeyedStates,
  keyed,
  keyedCharModel,
  type TokenInput,
} from '@rxrnn/keyed';
import { Subject, type Subscription } from 'rxjs';

/** What a generation asks for (validated by the HTTP layer). */
export interface GenerationRequest {
  prime: string;
  length: number;
  temperature: number;
  topK: number | undefined;
  topP: number | undefined;
  seed: number;
}

/** Where a generation's characters go. */
export interface GenerationHandlers {
  /** One generated character. */
  onChar(ch: string): void;
  /** All `length` characters were generated. */
  onDone(): void;
  /** The generation failed (the model's numbers were not finite, or the engine stopped). */
  onError(error: Error): void;
}

interface Session extends GenerationHandlers {
  readonly request: GenerationRequest;
  count: number;
}

/**
 * The keyed engine behind /api/generate: `start()` a generation, `cancel` it when its client goes.
 * At most `maxGenerations` keys are in memory, one per live generation; a batch steps up to
 * `maxBatch` of them at once.
 */
export class GenerationEngine {
  readonly #model: CharModel;
  readonly #maxGenerations: number;
  readonly #sessions = new Map<string, Session>();
  #next = 0;
  #events!: Subject<KeyedEvent<TokenInput, string>>;
  #states!: KeyedStates<TokenInput, number | null>;
  #sub: Subscription | null = null;

  constructor(model: CharModel, maxGenerations: number) {
    this.#model = model;
    this.#maxGenerations = maxGenerations;
    this.#open();
  }

  /** (Re)builds the pipeline: a Subject of events through keyed() over fresh states. */
  #open(): void {
    const model = keyedCharModel(this.#model, {
      output: 'sample',
      sampling: (key) => {
        const r = this.#sessions.get(key as string)!.request;
        return { temperature: r.temperature, topK: r.topK, topP: r.topP, seed: r.seed };
      },
    });
    this.#states = createKeyedStates(model, { maxKeys: this.#maxGenerations });
    this.#events = new Subject();
    this.#sub = this.#events
      .pipe(
        // One tick gathers every live generation's next step; slices of 4 ms keep the server live.
        keyed(this.#states, { maxBatch: Math.min(this.#maxGenerations, 64), maxDelayMs: 0, sliceMs: 4 }),
      )
      .subscribe({
        next: (r) => {
          const session = this.#sessions.get(r.key);
          if (session === undefined) return; // cancelled while its step was on its way
          if ('error' in r) return this.#end(r.key, session, r.error);
          if (r.output === null) return; // a prime character: no draw
          session.count++;
          session.onChar(this.#model.vocab.chars[r.output]!);
          if (session.count < session.request.length) this.#events.next({ key: r.key, value: r.output });
          else this.#end(r.key, session, null);
        },
        error: (e: unknown) => {
          // The model's own numbers failed (e.g. weights that are not finite): every live
          // generation ends with the error, and the next ones get a fresh pipeline.
          const error = e instanceof Error ? e : new Error(String(e));
          const live = [...this.#sessions];
          this.#sessions.clear();
          this.#sub = null;
          for (const [, s] of live) s.onError(error);
          this.#open();
        },
      });
  }

  #end(key: string, session: Session, error: Error | null): void {
    this.#sessions.delete(key);
    // Forget the key: its state and anything still queued for it. The store is in memory, so
    // this settles at once.
    void this.#states.delete(key).catch(() => undefined);
    if (error) session.onError(error);
    else session.onDone();
  }

  /** Starts a generation; `cancel()` stops it (no more callbacks). */
  start(request: GenerationRequest, handlers: GenerationHandlers): { cancel(): void } {
    const key = `g${this.#next++}`;
    this.#sessions.set(key, { ...handlers, request, count: 0 });
    const ids = Array.from(request.prime, (ch) => this.#model.vocab.id(ch));
    ids.forEach((id, i) => this.#events.next({ key, value: i < ids.length - 1 ? { token: id, emit: false } : id }));
    return {
      cancel: () => {
        if (!this.#sessions.delete(key)) return;
        void this.#states.delete(key).catch(() => undefined);
      },
    };
  }

  /** Live generations. */
  get active(): number {
    return this.#sessions.size;
  }

  /** The engine's counters (batches, batch sizes, latency). */
  metrics(): KeyedMetrics {
    return this.#states.metrics();
  }

  /** Stops the engine: live generations get no more callbacks. */
  close(): void {
    this.#sessions.clear();
    this.#sub?.unsubscribe();
    this.#sub = null;
  }
}
