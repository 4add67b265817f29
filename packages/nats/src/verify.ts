// Auditing a deployment against its definition: read every stored input event, run them through
// the keyed engine in ONE uninterrupted process (what the workers' results must equal), read
// every stored output, and count what is missing, repeated, unexpected or different.
import type { CharModel } from '@rxrnn/cells';
import { type KeyedResult, keyed, keyedCharModel, type TokenInput } from '@rxrnn/keyed';
import { from, lastValueFrom, toArray } from 'rxjs';
import type { Deployment } from './deployment.js';
import { readInputEvents, readOutputs, type StoredEvent } from './events.js';
import type { OutputMessage } from './outputs.js';
import { checkKey, partitionOf } from './partition.js';
import { decodeEvent } from './partition-runner.js';
import type { WorkerOutput, WorkerSampling } from './worker.js';

/** What a single-process run over the stored events gives per (key, seq). */
export type ExpectedResult = ExpectedOutput | ExpectedFailure;

/** A result of the reference run with the key and seq it answers. */
export type KeyedExpectation = ExpectedResult & {
  /** The event's key. */
  key: string;
  /** The event's input stream sequence. */
  seq: number;
};

/** An output of the reference run. */
export interface ExpectedOutput {
  /** As in an output message. */
  output: number[] | number | null;
}

/** A failure of the reference run. */
export interface ExpectedFailure {
  /** The failure's message. */
  error: string;
}

/** Options of {@link referenceResults} and {@link verifyOutputs}: the workers' model settings. */
export interface ReferenceOptions {
  /** The workers' output kind. Default 'logits'. */
  output?: WorkerOutput;
  /** The workers' sampling settings (output 'sample'). */
  sampling?: WorkerSampling;
  /** Batch size of the reference run. Default 64. */
  maxBatch?: number;
}

const resultKey = (key: string, seq: number) => `${key}\u0000${seq}`;

/**
 * The results an uninterrupted single-process run of the keyed engine gives for `events`
 * (in stream order), answered as a worker answers them: undecodable events and events of another
 * partition fail without reaching the engine. Keyed by key and seq.
 */
export async function referenceResults(
  model: CharModel,
  events: readonly StoredEvent[],
  partitions: number,
  options: ReferenceOptions = {},
): Promise<Map<string, KeyedExpectation>> {
  const out = new Map<string, KeyedExpectation>();
  const fed: { key: string; value: TokenInput; seq: number }[] = [];
  for (const e of events) {
    try {
      checkKey('event', e.key);
    } catch {
      continue; // a worker drops it without a result
    }
    let problem: string | undefined;
    let value: TokenInput | undefined;
    const home = partitionOf(e.key, partitions);
    if (home !== e.partition) {
      problem = `event of key ${JSON.stringify(e.key)} published to partition ${e.partition}, the key belongs to partition ${home}`;
    } else {
      try {
        value = decodeEvent(e.data, model.vocab);
      } catch (err) {
        problem = (err as Error).message;
      }
    }
    if (problem !== undefined || value === undefined)
      out.set(resultKey(e.key, e.seq), { key: e.key, seq: e.seq, error: problem ?? 'bad event' });
    else fed.push({ key: e.key, value, seq: e.seq });
  }
  const output = options.output ?? 'logits';
  const seedBase = options.sampling?.seed ?? 0;
  const km =
    output === 'sample'
      ? keyedCharModel(model, {
          output,
          sampling: (key) => ({ ...options.sampling, seed: (partitionOf(String(key), 2 ** 32) ^ seedBase) | 0 }),
        })
      : keyedCharModel(model, { output });
  const results = (await lastValueFrom(
    from(fed).pipe(keyed(km, { maxBatch: options.maxBatch ?? 64, maxKeys: Math.max(1, fed.length) }), toArray()),
    { defaultValue: [] },
  )) as KeyedResult<Float32Array | number | null, string>[];
  for (const r of results) {
    const v: ExpectedResult =
      'error' in r
        ? { error: r.error.message }
        : { output: r.output instanceof Float32Array ? Array.from(r.output) : r.output };
    out.set(resultKey(r.key, r.seq), { key: r.key, seq: r.seq, ...v });
  }
  return out;
}

/** The outcome of {@link verifyOutputs}. */
export interface Verification {
  /** Input events stored. */
  events: number;
  /** Results the reference run gives. */
  expected: number;
  /** Output messages stored. */
  outputs: number;
  /** Expected results with no stored output. */
  lost: number;
  /** Stored outputs beyond the first of their (key, seq). */
  duplicated: number;
  /** Stored outputs no input event explains. */
  unexpected: number;
  /** Results that are an error on one side and an output on the other, or errors with other messages. */
  mismatched: number;
  /** Largest |stored − reference| over every output value (0 when none differ). */
  maxAbsDiff: number;
  /** Up to 10 examples of what went wrong. */
  problems: string[];
  /** The result with the largest difference from the reference, if any differs. */
  worst?: {
    /** The key of that output. */
    key: string;
    /** Its sequence number within the key. */
    seq: number;
    /** Its largest absolute difference from the reference output. */
    diff: number;
  };
}

function diff(a: number[] | number | null, b: number[] | number | null): number {
  if (a === null || b === null) return a === b ? 0 : Infinity;
  if (typeof a === 'number' || typeof b === 'number') {
    return typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) : Infinity;
  }
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * Audits a deployment: every input event stored now, run through the keyed engine in one
 * uninterrupted process with the workers' settings, against every output stored now. Reads both
 * streams whole into memory (an audit of a bounded run, a test or a benchmark; not for an
 * unbounded production stream). See {@link runWorker}'s example.
 */
export async function verifyOutputs(
  d: Deployment,
  model: CharModel,
  options: ReferenceOptions = {},
): Promise<Verification> {
  const events = await readInputEvents(d);
  const expected = await referenceResults(model, events, d.partitions, options);
  const stored = await readOutputs(d);
  return compareResults(expected, stored, events.length);
}

/** Compares stored outputs with the reference results (see {@link Verification}). */
export function compareResults(
  expected: Map<string, KeyedExpectation>,
  stored: readonly OutputMessage[],
  events: number,
): Verification {
  const v: Verification = {
    events,
    expected: expected.size,
    outputs: stored.length,
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    mismatched: 0,
    maxAbsDiff: 0,
    problems: [],
  };
  const note = (s: string) => {
    if (v.problems.length < 10) v.problems.push(s);
  };
  const seen = new Set<string>();
  for (const o of stored) {
    const k = resultKey(o.key, o.seq);
    if (seen.has(k)) {
      v.duplicated++;
      note(`duplicate output for key ${o.key} seq ${o.seq}`);
      continue;
    }
    seen.add(k);
    const want = expected.get(k);
    if (!want) {
      v.unexpected++;
      note(`output for key ${o.key} seq ${o.seq} that no input event explains`);
      continue;
    }
    if ('error' in want || 'error' in o) {
      if (!('error' in want && 'error' in o && want.error === o.error)) {
        v.mismatched++;
        note(
          `key ${o.key} seq ${o.seq}: stored ${JSON.stringify(o).slice(0, 120)}, expected ${JSON.stringify(want).slice(0, 120)}`,
        );
      }
      continue;
    }
    const dd = diff(o.output, want.output);
    if (dd === Infinity) {
      v.mismatched++;
      note(`key ${o.key} seq ${o.seq}: output of another shape than the reference`);
    } else {
      if (dd > v.maxAbsDiff) v.worst = { key: o.key, seq: o.seq, diff: dd };
      v.maxAbsDiff = Math.max(v.maxAbsDiff, dd);
    }
  }
  for (const [k, want] of expected) {
    if (!seen.has(k)) {
      v.lost++;
      note(`no output for key ${want.key} seq ${want.seq}`);
    }
  }
  return v;
}
