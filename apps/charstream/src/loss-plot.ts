// The loss-curve SVG of `train --plot`: train and validation loss (nats/char) against tokens seen,
// with labelled axes, ticks and a legend. Pure string building; the caller writes the file.

/** One point of a curve: x in tokens seen, y in nats per character. */
export interface PlotPoint {
  x: number;
  y: number;
}

/** Options of lossCurveSvg(). */
export interface LossPlotOptions {
  /** Title line above the plot. Default "charstream training loss". */
  title?: string;
  /** Label of the x axis. Default "characters seen". */
  xLabel?: string;
  /** Width and height in px. Default 720×420. */
  width?: number;
  height?: number;
}

const escapeXml = (s: string): string =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export function formatTick(v: number): string {
  if (Math.abs(v) >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (Math.abs(v) >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/** Renders both curves (either may be empty) as a standalone SVG document. */
export function lossCurveSvg(
  train: readonly PlotPoint[],
  val: readonly PlotPoint[],
  options: LossPlotOptions = {},
): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const title = options.title ?? 'charstream training loss';
  const xLabel = options.xLabel ?? 'characters seen';
  const m = { left: 70, right: 20, top: 40, bottom: 55 };
  const all = [...train, ...val].filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const x0 = all.length ? Math.min(...xs) : 0;
  const x1 = all.length ? Math.max(...xs, x0 + 1) : 1;
  // A loss is never negative: the y axis starts at 0 so the drop reads at its true scale.
  const yMax = all.length ? Math.max(...ys, 1e-3) * 1.05 : 1;
  const yMin = 0;
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * (width - m.left - m.right);
  const sy = (y: number) =>
    height - m.bottom - ((y - yMin) / Math.max(yMax - yMin, 1e-9)) * (height - m.top - m.bottom);
  const path = (pts: readonly PlotPoint[]) =>
    pts
      .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
      .map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
      .join(' ');

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
  ];
  for (const t of niceTicks(yMin, yMax)) {
    out.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`,
    );
    out.push(`<text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${formatTick(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1)) {
    out.push(
      `<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${height - m.bottom}" y2="${height - m.bottom + 5}" stroke="#333"/>`,
    );
    out.push(
      `<text x="${sx(t).toFixed(1)}" y="${height - m.bottom + 18}" text-anchor="middle">${formatTick(t)}</text>`,
    );
  }
  out.push(
    `<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(18 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">loss (nats/char)</text>`,
  );
  if (train.length)
    out.push(`<path class="train" d="${path(train)}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
  if (val.length) {
    out.push(`<path class="val" d="${path(val)}" fill="none" stroke="#d62728" stroke-width="2"/>`);
    for (const p of val)
      if (Number.isFinite(p.y))
        out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.5" fill="#d62728"/>`);
  }
  const lx = width - m.right - 150;
  out.push(
    `<line x1="${lx}" x2="${lx + 24}" y1="${m.top + 8}" y2="${m.top + 8}" stroke="#1f77b4" stroke-width="2"/>`,
    `<text x="${lx + 30}" y="${m.top + 12}">train (${train.length} pts)</text>`,
    `<line x1="${lx}" x2="${lx + 24}" y1="${m.top + 26}" y2="${m.top + 26}" stroke="#d62728" stroke-width="2"/>`,
    `<text x="${lx + 30}" y="${m.top + 30}">validation (${val.length} pts)</text>`,
    '</svg>',
    '',
  );
  return out.join('\n');
}
