// Turns peer records into ratios (how many times faster rxrnn is) and tables: a plain-text one for
// the terminal and a Markdown one for the README. Reads records only; measures nothing.
import {
  IMPLS,
  WORKLOADS,
  configKey,
  higherIsBetter,
  type Impl,
  type PeerRecord,
  type RatioRecord,
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
    (a, b) => WORKLOADS.indexOf(a.workload) - WORKLOADS.indexOf(b.workload) || IMPLS.indexOf(a.impl) - IMPLS.indexOf(b.impl),
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

/** rxrnn's fastest form against every measured form of every peer, per configuration. */
export function ratios(records: PeerRecord[]): RatioRecord[] {
  const out: RatioRecord[] = [];
  for (const byImpl of groupByConfig(records).values()) {
    const ours = best(byImpl.get('rxrnn'));
    if (!ours) continue;
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
          vs: impl,
          vsForm: peer.form,
        });
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
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const problems = records
    .filter((r) => r.error || r.skipped)
    .map((r) => `  ${r.impl} ${r.workload}${r.hidden ? ` ${sizeText(r)}` : ''} ${r.form}: ${r.error ? 'error: ' + r.error : 'n/a: ' + r.skipped}`);
  return [...lines, ...(problems.length ? ['', 'not measured:', ...problems] : [])].join('\n');
}

/** Column headings of the README table, per implementation. */
const LABEL: Record<Impl, string> = {
  rxrnn: 'rxrnn',
  'tfjs-wasm': 'TF.js WASM',
  'tfjs-wasm-threads': 'TF.js WASM threads',
  'tfjs-cpu': 'TF.js cpu',
  'brain.js': 'brain.js',
};

/** The peers the README table also divides rxrnn by, one column each. */
const VERSUS: readonly Impl[] = ['tfjs-wasm', 'tfjs-wasm-threads'];

/** One row per configuration: each implementation's best form (named), and rxrnn's speed-up over each VERSUS peer. */
export function markdownTable(records: PeerRecord[]): string {
  const head = ['Workload', 'Size', 'Unit', ...IMPLS.map((impl) => LABEL[impl]), ...VERSUS.map((impl) => `rxrnn ÷ ${LABEL[impl]}`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 3 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const byImpl of groupByConfig(records).values()) {
    const any = [...byImpl.values()][0][0];
    const cells = IMPLS.map((impl) => {
      const rs = byImpl.get(impl);
      const top = best(rs);
      if (top) return `${fmt(top.value)} <sub>${top.form}</sub>`;
      return cellText(rs?.[0]);
    });
    const ours = best(byImpl.get('rxrnn'));
    const versus = VERSUS.map((impl) => {
      const peer = best(byImpl.get(impl));
      return ours && peer ? `${speedup(ours, peer)}×` : '—';
    });
    lines.push(`| ${any.workload} | ${sizeText(any)} | ${any.unit} | ${[...cells, ...versus].join(' | ')} |`);
  }
  return lines.join('\n');
}
