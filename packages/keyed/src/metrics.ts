// Live counters of a keyed state table and its batches: keys in memory, evictions and restores,
// the batch-size histogram, and latency percentiles over a ring of the latest events (bounded).

/** A snapshot of the engine's counters (KeyedStates.metrics()). Counts are since creation. */
export interface KeyedMetrics {
  /** Keys whose states are in memory (or being read back from the store); at most maxKeys. */
  keysInMemory: number;
  /** The bound on keysInMemory. */
  maxKeys: number;
  /** Bytes of the in-memory state table (its high-water mark; at most maxKeys × stateSize × 4). */
  stateBytes: number;
  /** Keys whose snapshots are being read from the store right now. */
  loading: number;
  /** Events queued and not answered yet. */
  pendingEvents: number;
  /** Keys waiting for a place in memory (every key in memory has events queued). */
  waitingKeys: number;
  /** Events accepted. */
  events: number;
  /** Outputs emitted. */
  outputs: number;
  /** Failures reported (`{ key, seq, error }`). */
  failures: number;
  /** Duplicates skipped (an event whose seq is not above its key's). */
  duplicates: number;
  /** Batched steps run. */
  batches: number;
  /** Mean rows per batched step (0 before the first). */
  batchMean: number;
  /** How many batched steps of each size ran, sizes ascending, only sizes that ran. */
  batchSizes: {
    /** Rows in the step, 1..maxBatch. */
    size: number;
    /** Steps of that size. */
    count: number;
  }[];
  /** Keys evicted into the store (all reasons). */
  evictions: number;
  /** Of the evictions, those for being idle idleMs. */
  idleEvictions: number;
  /** Keys brought back from a snapshot. */
  restores: number;
  /** Keys that started from a zero state (no snapshot in the store). */
  freshKeys: number;
  /** Snapshots (and deletes) on their way to the store; at most maxKeys before new keys wait. */
  writesInFlight: number;
  /** Store reads (get) started. */
  storeReads: number;
  /** Store writes (put) started. */
  storeWrites: number;
  /** Store deletes started. */
  storeDeletes: number;
  /**
   * Milliseconds from an event's arrival to its output, over the latest `count` (at most 4096)
   * events: nearest-rank percentiles; all 0 before the first output.
   */
  latencyMs: {
    /** Events the percentiles cover. */
    count: number;
    /** Median. */
    p50: number;
    /** 90th percentile. */
    p90: number;
    /** 99th percentile. */
    p99: number;
    /** Largest. */
    max: number;
  };
}

/** The latest N latencies in a ring (Float64Array), percentiles computed on demand. */
export class LatencyRing {
  readonly #ring: Float64Array;
  #n = 0;
  #next = 0;

  constructor(capacity = 4096) {
    this.#ring = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#ring.length;
    if (this.#n < this.#ring.length) this.#n++;
  }

  summary(): KeyedMetrics['latencyMs'] {
    const n = this.#n;
    if (n === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    const s = this.#ring.slice(0, n).sort();
    // Nearest rank: the smallest value with at least p of the samples at or below it.
    const at = (p: number) => s[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
    return { count: n, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[n - 1]! };
  }
}
