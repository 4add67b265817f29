// Turns peer records into ratios (how many times faster rxrnn is) and tables: a plain-text one for
// the terminal and a Markdown one for the README. Reads records only; measures nothing.
import {
  configKey,
  higherIsBetter,
  IMPLS,
  type Impl,
  type PeerRecord,
  type RatioRecord,
  WORKLOADS,
} from './workloads.js';

const measured = (r: PeerRecord): r is PeerRecord & { value: number } => typeof r.value === 'number' && r.value > 0;

function better(a: PeerRecord & { value: number }, b: PeerRecord & { value: number }): boolean {
  return higherIsBetter(a.unit) ? a.value > b.value : a.value < b.value;
}

/** Speed-up of `a` over `b` (>1: a is faster), whatever the unit's direction. */
export function speedup(a: PeerRecord & { value: number }, b: PeerRecord & { value: number }): number {
  return Number((higherIsBetter(a.unit) ? a.value / b.value : b.value / a.value).toPrecision(3));
}

/** Configurations in workload order, each with its records grouped by implementation. */
export function groupByConfig(records: PeerRecord[]): Map<string, Map<Impl, PeerRecord[]>> {
  const out = new Map<string, Map<Impl, PeerRecord[]>>();
  const sorted = [...records].sort(
    (a, b) =>
      WORKLOADS.indexOf(a.workload) - WORKLOADS.indexOf(b.workload) || IMPLS.indexOf(a.impl) - IMPLS.indexOf(b.impl),
  );
  for (const r of sorted) {
    if (!r.hidden) continue; // load failures carry no configuration
    const key = configKey(r);
    if (!out.has(key)) out.set(key, new Map());
    const byImpl = out.get(key)!;
    if (!byImpl.has(r.impl)) byImpl.set(r.impl, []);
    byImpl.get(r.impl)!.push(r);
  }
  return out;
}

/** The fastest measured form of an implementation, if any. */
export function best(rs: PeerRecord[] | undefined): (PeerRecord & { value: number }) | undefined {
  let top: (PeerRecord & { value: number }) | undefined;
  for (const r of rs ?? []) if (measured(r) && (!top || better(r, top))) top = r;
  return top;
}

/**
 * Threads a record's form runs on: rxrnn's forms named …-2t use a second thread (setStepThreads(2)
 * or the trainer's half-batch worker), TF.js's threaded WASM build runs two; everything else one.
 */
export function threadsOf(r: PeerRecord): 1 | 2 {
  return r.impl === 'tfjs-wasm-threads' || /-2t$/.test(r.form) ? 2 : 1;
}

/** rxrnn's fastest one-thread form and its fastest form overall, per configuration. */
function oursByThreads(rs: PeerRecord[] | undefined): {
  one?: PeerRecord & { value: number };
  any?: PeerRecord & { value: number };
} {
  return { one: best(rs?.filter((r) => threadsOf(r) === 1)), any: best(rs) };
}

/**
 * rxrnn against every measured form of every peer, per configuration: its fastest one-thread form
 * (threads: 1) and, where a two-thread form is faster, that one too (threads: 2).
 */
export function ratios(records: PeerRecord[]): RatioRecord[] {
  const out: RatioRecord[] = [];
  for (const byImpl of groupByConfig(records).values()) {
    const { one, any } = oursByThreads(byImpl.get('rxrnn'));
    const mine = [one, any !== one ? any : undefined].filter(
      (r): r is PeerRecord & { value: number } => r !== undefined,
    );
    for (const ours of mine) {
      for (const impl of IMPLS) {
        if (impl === 'rxrnn') continue;
        for (const peer of byImpl.get(impl) ?? []) {
          if (!measured(peer)) continue;
          out.push({
            suite: 'peers',
            ratio: speedup(ours, peer),
            workload: ours.workload,
            cell: ours.cell,
            hidden: ours.hidden,
            form: ours.form,
            threads: threadsOf(ours),
            vs: impl,
            vsForm: peer.form,
            vsThreads: threadsOf(peer),
          });
        }
      }
    }
  }
  return out;
}

function cellText(r: PeerRecord | undefined): string {
  if (!r) return '—';
  if (r.skipped) return 'n/a';
  if (r.error) return 'error';
  return fmt(r.value!);
}

export function fmt(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function sizeText(r: PeerRecord): string {
  const parts = [`${r.cell.toUpperCase()}-${r.hidden}`];
  if (r.layers && r.layers > 1) parts[0] = `${r.layers}×${parts[0]}`;
  if (r.batch && r.batch > 1) parts.push(`B=${r.batch}`);
  if (r.T) parts.push(`T=${r.T}`);
  return parts.join(' ');
}

/** One row per record, grouped by configuration, with rxrnn's (best form's) speed-up over it. */
export function textTable(records: PeerRecord[]): string {
  const header = ['workload', 'size', 'impl', 'form', 'value', 'unit', 'runs', 'rxrnn x'];
  const rows: string[][] = [header];
  for (const byImpl of groupByConfig(records).values()) {
    const ours = best(byImpl.get('rxrnn'));
    for (const impl of IMPLS) {
      for (const r of byImpl.get(impl) ?? []) {
        rows.push([
          r.workload,
          sizeText(r),
          r.impl,
          r.form,
          cellText(r),
          r.unit,
          r.runs ? String(r.runs) : '',
          ours && measured(r) && impl !== 'rxrnn' ? `${speedup(ours, r)}x` : '',
        ]);
      }
    }
  }
  const right = new Set([4, 6, 7]);
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const problems = records
    .filter((r) => r.error || r.skipped)
    .map(
      (r) =>
        `  ${r.impl} ${r.workload}${r.hidden ? ` ${sizeText(r)}` : ''} ${r.form}: ${r.error ? `error: ${r.error}` : `n/a: ${r.skipped}`}`,
    );
  return [...lines, ...(problems.length ? ['', 'not measured:', ...problems] : [])].join('\n');
}

/** Column headings of the README table, per implementation. */
const LABEL: Record<Impl, string> = {
  rxrnn: 'rxrnn',
  'rxrnn-wasm': 'rxrnn on WASM',
  'tfjs-wasm': 'TF.js WASM',
  'tfjs-wasm-threads': 'TF.js WASM threads',
  'tfjs-cpu': 'TF.js cpu',
  'brain.js': 'brain.js',
  'ort-node': 'onnxruntime-node',
  'ort-web': 'onnxruntime-web',
};

/**
 * One row per configuration: rxrnn's fastest one-thread and two-thread forms, each peer's fastest
 * form (forms named), and two speed-ups: rxrnn on one thread over TF.js WASM (one thread), and
 * rxrnn's fastest form over TF.js's threaded WASM build (both may use two threads).
 */
export function markdownTable(records: PeerRecord[]): string {
  const peers = IMPLS.filter((impl) => impl !== 'rxrnn');
  const head = [
    'Workload',
    'Size',
    'Unit',
    'rxrnn, 1 thread',
    'rxrnn, 2 threads',
    ...peers.map((impl) => LABEL[impl]),
    'rxrnn 1 thread ÷ TF.js WASM',
    'rxrnn ÷ TF.js WASM threads',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 3 ? ' --- ' : ' ---: ')).join('|')}|`];
  const named = (r: (PeerRecord & { value: number }) | undefined): string =>
    r ? `${fmt(r.value)} <sub>${r.form}</sub>` : '—';
  for (const byImpl of groupByConfig(records).values()) {
    const any = [...byImpl.values()][0]![0]!;
    const rs = byImpl.get('rxrnn');
    const ours = oursByThreads(rs);
    const two = best(rs?.filter((r) => threadsOf(r) === 2));
    const cells = peers.map((impl) => {
      const top = best(byImpl.get(impl));
      return top ? named(top) : cellText(byImpl.get(impl)?.[0]);
    });
    const ratio = (a: (PeerRecord & { value: number }) | undefined, impl: Impl): string => {
      const peer = best(byImpl.get(impl));
      return a && peer ? `${speedup(a, peer)}×` : '—';
    };
    const row = [
      named(ours.one),
      named(two),
      ...cells,
      ratio(ours.one, 'tfjs-wasm'),
      ratio(ours.any, 'tfjs-wasm-threads'),
    ];
    lines.push(`| ${any.workload} | ${sizeText(any)} | ${any.unit} | ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}
