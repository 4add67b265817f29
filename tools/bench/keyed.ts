// `npm run --silent bench -- keyed [--json] [flags]`: many keyed streams through one char model
// (2-layer LSTM, V 65, E 64; H 256 and 128), the keyed engine (@rxrnn/keyed) against groupBy(key)
// + a per-group pipeline of the cells' operators, in the same run. Every measurement runs in a
// child process (keyed/child.ts), the forms alternating, rounds repeated, medians reported:
// 'burst' (all events at once: events/s), then 'paced' at half the engine's burst rate (latency,
// from a cold start) and 'steady' (the same rate, timed after as many events again through the
// same states), and with --million a million distinct keys through maxKeys states (RSS along the way).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildConfig } from './keyed/child.js';
import type { Form } from './keyed/workload.js';
import { loadNow, machine } from './peers/machine.js';

const here = dirname(fileURLToPath(import.meta.url));
type Rec = Record<string, unknown> & { events_per_sec?: number; error?: string };

const HELP = `usage: npm run --silent bench -- keyed [--json] [flags]
  --hidden 256,128       hidden sizes (2-layer LSTM char model, V 65, embedding 64)
  --events 40000         events per burst run      --keys 10000     distinct keys
  --zipf 1               key k drawn with p ∝ 1/(k+1)^zipf
  --runs 3               rounds of both forms (alternating), medians reported
  --max-batch 64         keyed maxBatch             --max-delay-ms 2  keyed maxDelayMs
  --paced-events 10000   timed events of the paced and steady runs (at half the engine's burst rate; steady
                         first sends as many untimed); --no-paced skips both
  --million              also: --distinct 1000000 keys, two passes, --max-keys 10000 states in memory,
                         a directory store under the OS temp folder, --million-hidden 128
  --only-million         just that run`;

function flags(args: string[]) {
  const get = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    if (i < 0) return dflt;
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) throw new RangeError(`keyed bench: ${name} needs a value`);
    return v;
  };
  const int = (name: string, dflt: number): number => {
    const v = Number(get(name, String(dflt)));
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`keyed bench: ${name} must be a positive integer`);
    return v;
  };
  const num = (name: string, dflt: number): number => {
    const v = Number(get(name, String(dflt)));
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`keyed bench: ${name} must be a number >= 0`);
    return v;
  };
  const hidden = get('--hidden', '256,128')
    .split(',')
    .map((h) => Number(h));
  if (!hidden.every((h) => Number.isSafeInteger(h) && h > 0))
    throw new RangeError('keyed bench: --hidden must be a comma-separated list of positive integers');
  return {
    json: args.includes('--json'),
    hidden,
    events: int('--events', 40_000),
    keys: int('--keys', 10_000),
    zipf: num('--zipf', 1),
    runs: int('--runs', 3),
    maxBatch: int('--max-batch', 64),
    maxDelayMs: num('--max-delay-ms', 2),
    pacedEvents: int('--paced-events', 10_000),
    paced: !args.includes('--no-paced'),
    million: args.includes('--million') || args.includes('--only-million'),
    onlyMillion: args.includes('--only-million'),
    distinct: int('--distinct', 1_000_000),
    maxKeys: int('--max-keys', 10_000),
    millionHidden: int('--million-hidden', 128),
  };
}

/** Runs one child; a failure comes back as an error record. */
function child(config: ChildConfig): Promise<Rec> {
  return new Promise((resolve) => {
    // process.execArgv carries tsx's loader and the @rxrnn/source condition to the child.
    const p = spawn(process.execPath, [...process.execArgv, join(here, 'keyed', 'child.ts'), JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
    p.on('close', (code) => {
      const line = out
        .trim()
        .split('\n')
        .find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as Rec);
      else
        resolve({
          suite: 'keyed',
          form: config.form,
          mode: config.mode,
          hidden: config.hidden,
          error: `exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`,
        });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** One configuration's runs: the median events/s and latencies, the worst diff, the peak RSS. */
function merge(rs: Rec[]): Rec {
  const ok = rs.filter((r) => r.error === undefined);
  if (ok.length === 0) return rs[rs.length - 1]!;
  const pick = (k: string) => ok.map((r) => r[k] as number);
  return {
    ...ok[0]!,
    events_per_sec: Math.round(median(pick('events_per_sec'))),
    p50_ms: median(pick('p50_ms')),
    p99_ms: median(pick('p99_ms')),
    ...(ok[0]!.gc_count !== undefined
      ? {
          gc_count: median(pick('gc_count')),
          gc_ms_max: median(pick('gc_ms_max')),
          page_faults: Math.round(median(pick('page_faults'))),
          p99_samples: pick('p99_ms'),
        }
      : {}),
    batch_mean: median(pick('batch_mean')),
    rss_mb: Math.max(...pick('rss_mb')),
    max_abs_diff: Math.max(...pick('max_abs_diff')),
    seconds: median(pick('seconds')),
    runs: ok.length,
    samples: pick('events_per_sec'),
  };
}

export default async function keyedBench(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log(HELP);
    return;
  }
  const f = flags(args);
  const started = performance.now();
  const info = machine(['keyed', ...args]);
  const out: Rec[] = [];
  const emit = (r: Rec): void => {
    out.push(r);
    if (f.json) console.log(JSON.stringify(r));
    else if (r.error) console.log(`${r.form} ${r.mode} H=${r.hidden}: ERROR ${r.error}`);
    else if (r.ratio !== undefined) console.log(`  H=${r.hidden} ${r.mode}: keyed / groupBy = ${r.ratio}x events/s`);
    else if (r.mode === 'million')
      console.log(
        `million H=${r.hidden}: ${r.keys} distinct keys x2, maxKeys ${r.max_keys}: ${r.events_per_sec} events/s, ` +
          `RSS MB ${(r.rss_mb_samples as number[]).join(' ')} (peak ${r.rss_mb}), evictions ${r.evictions}, restores ${r.restores}, max_abs_diff ${r.max_abs_diff}`,
      );
    else
      console.log(
        `${String(r.form).padEnd(7)} ${String(r.mode).padEnd(6)} H=${String(r.hidden).padEnd(4)} ${String(r.events_per_sec).padStart(7)} events/s` +
          `  batch ${String(r.batch_mean).padStart(6)}  p50 ${r.p50_ms} ms  p99 ${r.p99_ms} ms  rss ${r.rss_mb} MB  max_abs_diff ${r.max_abs_diff}` +
          `${r.rate ? `  (rate ${r.rate}/s)` : ''}` +
          `${r.mode !== 'burst' && r.gc_count !== undefined ? `  gc ${r.gc_count} (max ${r.gc_ms_max} ms)  faults ${r.page_faults}` : ''}  [${r.backend}]`,
      );
  };
  if (!f.json)
    console.log(`keyed bench on ${info.cpu} (${info.nproc} cores), Node ${info.node}, load ${info.loadavg.join(' ')}`);

  if (!f.onlyMillion) {
    for (const hidden of f.hidden) {
      const base = {
        hidden,
        events: f.events,
        keys: f.keys,
        zipf: f.zipf,
        maxBatch: f.maxBatch,
        maxDelayMs: f.maxDelayMs,
        maxKeys: f.keys,
      };
      const runs: Record<Form, Rec[]> = { keyed: [], groupBy: [] };
      for (let r = 0; r < f.runs; r++) {
        // Alternate which form goes first, so drifting load hits both alike.
        const order: Form[] = r % 2 === 0 ? ['keyed', 'groupBy'] : ['groupBy', 'keyed'];
        for (const form of order) runs[form].push(await child({ ...base, mode: 'burst', form }));
      }
      const keyedRec = merge(runs.keyed);
      const groupRec = merge(runs.groupBy);
      emit(keyedRec);
      emit(groupRec);
      if (keyedRec.events_per_sec && groupRec.events_per_sec) {
        emit({
          suite: 'keyed',
          ratio: Number((keyedRec.events_per_sec / groupRec.events_per_sec).toFixed(2)),
          hidden,
          mode: 'burst',
          of: 'events_per_sec',
          backend: keyedRec.backend,
        });
      }
      if (f.paced && keyedRec.events_per_sec) {
        const rate = Math.max(1, Math.round(keyedRec.events_per_sec / 2));
        for (const mode of ['paced', 'steady'] as const) {
          const timed: Record<Form, Rec[]> = { keyed: [], groupBy: [] };
          for (let r = 0; r < f.runs; r++) {
            for (const form of ['keyed', 'groupBy'] as Form[]) {
              timed[form].push(await child({ ...base, events: f.pacedEvents, mode, form, rate }));
            }
          }
          emit(merge(timed.keyed));
          emit(merge(timed.groupBy));
        }
      }
    }
  }
  if (f.million) {
    emit(
      await child({
        mode: 'million',
        form: 'keyed',
        hidden: f.millionHidden,
        events: 2 * f.distinct,
        keys: f.distinct,
        zipf: 0,
        maxBatch: f.maxBatch,
        maxDelayMs: f.maxDelayMs,
        maxKeys: f.maxKeys,
      }),
    );
  }
  const end = { ...info, loadavgEnd: loadNow(), seconds: Math.round((performance.now() - started) / 1000) };
  if (f.json) console.log(JSON.stringify({ suite: 'keyed', machine: end }));
  else console.log(`done in ${end.seconds} s, load ${end.loadavgEnd.join(' ')}`);
}
