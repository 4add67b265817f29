// The page's training chart on a plain canvas: train loss (nats/char, left axis; bits/char on the
// right, the same curve rescaled by 1/ln 2) and validation points against characters seen. The
// x axis is logarithmic, so the first minute's steep drop and the slow gains after it share the
// width, and the y axis spans the data, not zero to the start: improvement stays visible. Points
// during which clipping fired get a tick on the time axis.

export interface ChartPoint {
  tokens: number;
  loss: number;
  /** Updates clipped since the previous point (absent or 0: none). */
  clipped?: number;
}

export interface ChartEval {
  tokens: number;
  valLoss: number;
}

function ticks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

/** Powers of ten in [lo, hi], with 2× and 5× in between when fewer than four decades show. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const few = Math.log10(hi / lo) < 4;
  for (let e = Math.floor(Math.log10(lo)); 10 ** e <= hi; e++) {
    for (const m of few ? [1, 2, 5] : [1]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

const short = (v: number): string =>
  v >= 1e6 ? `${+(v / 1e6).toPrecision(3)}M` : v >= 1e3 ? `${+(v / 1e3).toPrecision(3)}k` : `${+v.toPrecision(3)}`;

/** Mean train loss of the first and the most recent tenth of the points (at least one each). */
export function lossTrend(points: readonly ChartPoint[]): { first: number; now: number } | null {
  const finite = points.filter((p) => Number.isFinite(p.loss));
  if (finite.length < 2) return null;
  const k = Math.max(1, Math.floor(finite.length / 10));
  const mean = (ps: readonly ChartPoint[]) => ps.reduce((s, p) => s + p.loss, 0) / ps.length;
  return { first: mean(finite.slice(0, k)), now: mean(finite.slice(-k)) };
}

/**
 * Redraws the whole chart; records the number of points drawn in canvas.dataset.points and the
 * clipped updates marked on the time axis in canvas.dataset.clips. `clipThreshold` (θ) labels them.
 */
export function drawLossChart(
  canvas: HTMLCanvasElement,
  points: readonly ChartPoint[],
  evals: readonly ChartEval[],
  clipThreshold?: number,
): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = canvas;
  const m = { left: 56, right: 56, top: 16, bottom: 40 };
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const all = [
    ...points.map((p) => ({ x: p.tokens, y: p.loss })),
    ...evals.map((e) => ({ x: e.tokens, y: e.valLoss })),
  ].filter((p) => Number.isFinite(p.y) && p.x > 0);
  canvas.dataset.points = String(all.length);
  canvas.dataset.clips = '0';
  ctx.fillStyle = '#333';
  ctx.font = '12px sans-serif';
  if (all.length === 0) {
    ctx.fillText('waiting for the first training updates…', m.left, height / 2);
    return;
  }
  const x0 = Math.min(...all.map((p) => p.x));
  const x1 = Math.max(x0 * 10, ...all.map((p) => p.x));
  const lo = Math.min(...all.map((p) => p.y));
  const hi = Math.max(...all.map((p) => p.y));
  const pad = Math.max((hi - lo) * 0.05, 0.01);
  const y0 = Math.max(0, lo - pad);
  const y1 = hi + pad;
  const sx = (x: number) => m.left + (Math.log(x / x0) / Math.log(x1 / x0)) * (width - m.left - m.right);
  const sy = (y: number) => height - m.bottom - ((y - y0) / (y1 - y0)) * (height - m.top - m.bottom);

  ctx.strokeStyle = '#eee';
  ctx.textAlign = 'right';
  for (const t of ticks(y0, y1, 5)) {
    ctx.beginPath();
    ctx.moveTo(m.left, sy(t));
    ctx.lineTo(width - m.right, sy(t));
    ctx.stroke();
    ctx.fillText(short(t), m.left - 6, sy(t) + 4);
  }
  ctx.textAlign = 'left';
  for (const t of ticks(y0 / Math.LN2, y1 / Math.LN2, 5))
    ctx.fillText(short(t), width - m.right + 6, sy(t * Math.LN2) + 4);
  ctx.textAlign = 'center';
  for (const t of logTicks(x0, x1)) {
    ctx.beginPath();
    ctx.moveTo(sx(t), m.top);
    ctx.lineTo(sx(t), height - m.bottom);
    ctx.stroke();
    ctx.fillText(short(t), sx(t), height - m.bottom + 16);
  }
  ctx.fillText('characters seen (log scale)', (m.left + width - m.right) / 2, height - 6);
  ctx.save();
  ctx.translate(14, height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText('loss (nats/char)', 0, 0);
  ctx.restore();
  ctx.save();
  ctx.translate(width - 10, height / 2);
  ctx.rotate(Math.PI / 2);
  ctx.fillText('bits/char', 0, 0);
  ctx.restore();

  ctx.strokeStyle = '#1f77b4';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  const drawn = points.filter((p) => p.tokens > 0 && Number.isFinite(p.loss));
  drawn.forEach((p, i) => (i ? ctx.lineTo(sx(p.tokens), sy(p.loss)) : ctx.moveTo(sx(p.tokens), sy(p.loss))));
  ctx.stroke();
  ctx.fillStyle = '#d62728';
  for (const e of evals) {
    if (!(e.tokens > 0) || !Number.isFinite(e.valLoss)) continue;
    ctx.beginPath();
    ctx.arc(sx(e.tokens), sy(e.valLoss), 3, 0, 2 * Math.PI);
    ctx.fill();
  }
  // Clipping events on the time axis: a tick where the updates since the previous point were clipped.
  let clips = 0;
  ctx.strokeStyle = '#ff7f0e';
  ctx.lineWidth = 2;
  for (const p of drawn) {
    if (!p.clipped) continue;
    clips += p.clipped;
    ctx.beginPath();
    ctx.moveTo(sx(p.tokens), height - m.bottom);
    ctx.lineTo(sx(p.tokens), height - m.bottom - 8);
    ctx.stroke();
  }
  canvas.dataset.clips = String(clips);
  ctx.textAlign = 'left';
  if (clips > 0) {
    ctx.fillStyle = '#ff7f0e';
    const theta = clipThreshold ? ` (norm > ${clipThreshold})` : '';
    ctx.fillText(`| clipped${theta}: ${clips} update${clips === 1 ? '' : 's'}`, m.left + 6, height - m.bottom - 12);
  }
  ctx.fillStyle = '#1f77b4';
  ctx.fillText('— train', width - m.right - 130, m.top + 10);
  ctx.fillStyle = '#d62728';
  ctx.fillText('● validation', width - m.right - 75, m.top + 10);
}
