// The SVG plots of `charstream gradients`: the gradient flow through time (‖∂L_T/∂h_{T−k}‖ relative
// to k = 0, against k, log y) and the clipping view (pre-clip gradient norm per update against the
// threshold θ and the norm actually applied, log y). Pure string building; the caller writes files.
import { formatTick, niceTicks } from './loss-plot.js';

/** One curve of the flow plot: norms[k] for k = 0 … T−1 (plotted relative to norms[0]). */
export interface FlowSeries {
  label: string;
  norms: ArrayLike<number>;
  /** Drawn dashed (the LSTM's cell-state gradient). */
  dashed?: boolean;
}

/** One training update of the clipping plot. */
export interface ClipPoint {
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
  /** Norm of the gradient the optimizer applied (after clipping). */
  applied: number;
  clipped: boolean;
}

/** Size and title of a plot. */
export interface PlotFrame {
  title?: string;
  /** Smaller lines under the title (wrapped at about 110 characters). */
  subtitle?: string;
  /** Width and height in px. Default 720×420. */
  width?: number;
  height?: number;
}

const COLORS = ['#d62728', '#2ca02c', '#1f77b4', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f'];
const MARGIN = { left: 70, right: 20, top: 40, bottom: 55 };

/** Splits text into lines of at most about `width` characters at spaces. */
export function wrapText(text: string, width = 110): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const escapeXml = (s: string): string =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** "1", "10", "1e-3": a power of ten as a tick label. */
export function formatPower(e: number): string {
  return e === 0 ? '1' : e === 1 ? '10' : `1e${e}`;
}

/** Decade exponents covering [lo, hi] (both > 0), every `step` decades so that at most ~9 show. */
export function decadeTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const step = Math.max(1, Math.ceil((b - a) / 8));
  const out: number[] = [];
  for (let e = Math.ceil(a / step) * step; e <= b; e += step) out.push(e);
  return out;
}

/** The frame of a log-y plot: axes, decade grid, x ticks; returns the scales and the open SVG. */
function logFrame(
  frame: PlotFrame,
  x0: number,
  x1: number,
  yLo: number,
  yHi: number,
  xLabel: string,
  yLabel: string,
): { out: string[]; sx: (x: number) => number; sy: (y: number) => number; width: number; top: number } {
  const width = frame.width ?? 720;
  const height = frame.height ?? 420;
  const sub = frame.subtitle ? wrapText(frame.subtitle) : [];
  const m = { ...MARGIN, top: MARGIN.top + 15 * sub.length };
  const l0 = Math.floor(Math.log10(yLo));
  const l1 = Math.max(Math.ceil(Math.log10(yHi)), l0 + 1);
  const sx = (x: number) => m.left + ((x - x0) / Math.max(x1 - x0, 1e-9)) * (width - m.left - m.right);
  const sy = (y: number) => height - m.bottom - ((Math.log10(y) - l0) / (l1 - l0)) * (height - m.top - m.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml([frame.title ?? 'plot', frame.subtitle].filter(Boolean).join(' — '))}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(frame.title ?? '')}</text>`,
    ...sub.map(
      (line, i) =>
        `<text x="${width / 2}" y="${40 + 15 * i}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(line)}</text>`,
    ),
  ];
  for (const e of decadeTicks(10 ** l0, 10 ** l1)) {
    const y = sy(10 ** e).toFixed(1);
    out.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 6}" y="${(Number(y) + 4).toFixed(1)}" text-anchor="end">${formatPower(e)}</text>`);
  }
  for (const t of niceTicks(x0, x1)) {
    const x = sx(t).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${height - m.bottom}" y2="${height - m.bottom + 5}" stroke="#333"/>`,
      `<text x="${x}" y="${height - m.bottom + 18}" text-anchor="middle">${formatTick(t)}</text>`,
    );
  }
  out.push(
    `<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(16 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  );
  return { out, sx, sy, width, top: m.top };
}

/** An SVG path through the points with a finite, positive y (gaps where there is none). */
function logPath(points: readonly [number, number][], sx: (x: number) => number, sy: (y: number) => number): string {
  let d = '';
  let pen = false;
  for (const [x, y] of points) {
    if (!(y > 0 && Number.isFinite(y))) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)} `;
    pen = true;
  }
  return d.trim();
}

/** Finite positive values of a list, for the y range. */
const positive = (values: Iterable<number>) => [...values].filter((v) => v > 0 && Number.isFinite(v));

/**
 * The gradient-flow plot: every series' norms[k] / norms[0] against k (log scale), with a dotted
 * line at `threshold` (default 1e-3) of the k = 0 value.
 */
export function gradientFlowSvg(series: readonly FlowSeries[], frame: PlotFrame & { threshold?: number } = {}): string {
  const threshold = frame.threshold ?? 1e-3;
  const rel = series.map((s) => {
    const first = s.norms[0] ?? 0;
    const pts: [number, number][] = [];
    for (let k = 0; k < s.norms.length; k++) pts.push([k, first > 0 ? s.norms[k]! / first : Number.NaN]);
    return pts;
  });
  const ys = positive([...rel.flatMap((p) => p.map(([, y]) => y)), threshold, 1]);
  const T = Math.max(1, ...series.map((s) => s.norms.length));
  const { out, sx, sy, width, top } = logFrame(
    { title: 'gradient flow through time', ...frame },
    0,
    Math.max(T - 1, 1),
    Math.min(...ys),
    Math.max(...ys),
    'k, steps back from the last one',
    '‖∂L_T/∂h_(T−k)‖ / ‖∂L_T/∂h_T‖ (log)',
  );
  const yT = sy(threshold).toFixed(1);
  out.push(
    `<line class="threshold" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${yT}" y2="${yT}" stroke="#888" stroke-dasharray="2 3"/>`,
    `<text x="${MARGIN.left + 6}" y="${(Number(yT) - 4).toFixed(1)}" fill="#666">${formatPowerOrNumber(threshold)} of k = 0</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<path class="flow" data-label="${escapeXml(s.label)}" d="${logPath(rel[i]!, sx, sy)}" fill="none" stroke="${color}" stroke-width="1.8"${dash}/>`,
    );
    const ly = top + 14 + 18 * i;
    const lx = width - MARGIN.right - 150;
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly}">${escapeXml(s.label)}</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}

/**
 * The clipping plot: per update the pre-clip global norm (dots, filled where clipping fired), the
 * norm of the gradient applied, and the threshold θ as a dashed line; log y.
 */
export function clippingSvg(points: readonly ClipPoint[], threshold: number, frame: PlotFrame = {}): string {
  const ys = positive([...points.flatMap((p) => [p.gradNorm, p.applied]), threshold]);
  const n = Math.max(points.length, 2);
  const { out, sx, sy, width, top } = logFrame(
    { title: 'exploding gradients, capped by clipping', ...frame },
    1,
    n,
    Math.min(...ys) / 2,
    Math.max(...ys) * 2,
    'update',
    'global gradient norm (log)',
  );
  const pre = points.map((p, i) => [i + 1, p.gradNorm] as [number, number]);
  const applied = points.map((p, i) => [i + 1, p.applied] as [number, number]);
  out.push(`<path class="pre" d="${logPath(pre, sx, sy)}" fill="none" stroke="#d62728" stroke-width="1.2"/>`);
  for (const [i, p] of points.entries()) {
    if (!(p.gradNorm > 0 && Number.isFinite(p.gradNorm))) continue;
    out.push(
      `<circle class="${p.clipped ? 'clipped' : 'kept'}" cx="${sx(i + 1).toFixed(1)}" cy="${sy(p.gradNorm).toFixed(1)}" r="3" fill="${p.clipped ? '#d62728' : '#fff'}" stroke="#d62728"/>`,
    );
  }
  out.push(
    `<path class="applied" d="${logPath(applied, sx, sy)}" fill="none" stroke="#1f77b4" stroke-width="4" stroke-opacity="0.6"/>`,
  );
  // The threshold on top of the applied norms it caps.
  const yT = sy(threshold).toFixed(1);
  out.push(
    `<line class="threshold" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${yT}" y2="${yT}" stroke="#111" stroke-dasharray="8 5" stroke-width="1.2"/>`,
    `<text x="${MARGIN.left + 6}" y="${(Number(yT) + 18).toFixed(1)}">θ = ${formatTick(threshold)}, the clip threshold</text>`,
  );
  // The legend in the gap between the threshold and the lowest norm above it, when there is one.
  const lx = MARGIN.left + 16;
  const above = positive(points.map((p) => p.gradNorm)).filter((v) => v > threshold);
  const gapTop = above.length ? sy(Math.min(...above)) : top;
  const ly = Number(yT) - gapTop > 110 ? (Number(yT) + gapTop) / 2 - 19 : top + 10;
  const clipped = points.filter((p) => p.clipped).length;
  out.push(
    `<rect x="${lx - 8}" y="${ly - 10}" width="340" height="58" fill="#fff" fill-opacity="0.85" stroke="#ddd"/>`,
    `<circle cx="${lx + 12}" cy="${ly}" r="3" fill="#d62728" stroke="#d62728"/>`,
    `<text x="${lx + 30}" y="${ly + 4}">norm before clipping (filled: clipped, ${clipped} of ${points.length})</text>`,
    `<line x1="${lx}" x2="${lx + 24}" y1="${ly + 18}" y2="${ly + 18}" stroke="#1f77b4" stroke-width="4" stroke-opacity="0.6"/>`,
    `<text x="${lx + 30}" y="${ly + 22}">norm of the gradient applied</text>`,
    `<line x1="${lx}" x2="${lx + 24}" y1="${ly + 36}" y2="${ly + 36}" stroke="#111" stroke-dasharray="8 5"/>`,
    `<text x="${lx + 30}" y="${ly + 40}">threshold θ</text>`,
    '</svg>',
    '',
  );
  return out.join('\n');
}

function formatPowerOrNumber(v: number): string {
  const e = Math.log10(v);
  return Number.isInteger(e) ? formatPower(e) : formatTick(v);
}
