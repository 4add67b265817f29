// The page's gradient-flow panel on a plain canvas: ‖∂L_T/∂h_(T−k)‖ of the training model on a
// held-out window, relative to k = 0, against k (log y), per layer (dashed: the LSTM cell state),
// with a dotted line at 1e-3; and the sentence under it saying how far back the gradient reaches.

/** What the server's `flow` event carries (FlowSnapshot of src/server/protocol.ts). */
export interface ChartFlow {
  step: number;
  tokens: number;
  cell: string;
  T: number;
  layers: { h: number[]; c: number[] | null }[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const THRESHOLD = 1e-3;

/** The first k where norms[k] < 1e-3 · norms[0], or null. */
export function vanishesAt(norms: readonly number[]): number | null {
  const first = norms[0];
  if (first === undefined || !(first > 0)) return null;
  for (let k = 1; k < norms.length; k++) if (norms[k]! < THRESHOLD * first) return k;
  return null;
}

/** One sentence per series: where it falls below 1e-3 of its k = 0 value, or that it does not. */
export function flowSummary(flow: ChartFlow): string {
  const parts: string[] = [];
  flow.layers.forEach((l, i) => {
    const name = flow.layers.length > 1 ? ` layer ${i}` : '';
    const at = vanishesAt(l.h);
    parts.push(`h${name}: ${at === null ? `above 1e-3 for all ${flow.T} steps` : `below 1e-3 at k = ${at}`}`);
    if (l.c) {
      const c = vanishesAt(l.c);
      parts.push(`c${name}: ${c === null ? `above 1e-3 for all ${flow.T} steps` : `below 1e-3 at k = ${c}`}`);
    }
  });
  return `step ${flow.step}: ${parts.join('; ')}`;
}

/**
 * Redraws the flow chart; records the points drawn in canvas.dataset.points and the training step
 * of the weights in canvas.dataset.step.
 */
export function drawFlowChart(canvas: HTMLCanvasElement, flow: ChartFlow | null): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = canvas;
  const m = { left: 56, right: 16, top: 16, bottom: 40 };
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#333';
  ctx.font = '12px sans-serif';
  const series: { label: string; rel: number[]; dashed: boolean }[] = [];
  for (const [i, l] of (flow?.layers ?? []).entries()) {
    const name = flow!.layers.length > 1 ? ` layer ${i}` : '';
    const rel = (v: number[]) => v.map((x) => (v[0]! > 0 ? x / v[0]! : Number.NaN));
    series.push({ label: `‖∂L/∂h‖${name}`, rel: rel(l.h), dashed: false });
    if (l.c) series.push({ label: `‖∂L/∂c‖${name}`, rel: rel(l.c), dashed: true });
  }
  const ys = series.flatMap((s) => s.rel).filter((v) => v > 0 && Number.isFinite(v));
  canvas.dataset.points = String(ys.length);
  canvas.dataset.step = String(flow?.step ?? -1);
  if (!flow || ys.length === 0) {
    ctx.fillText('waiting for held-out text and the first measurement…', m.left, height / 2);
    return;
  }
  const e0 = Math.floor(Math.log10(Math.min(...ys, THRESHOLD)));
  const e1 = Math.max(Math.ceil(Math.log10(Math.max(...ys))), e0 + 1);
  const kMax = Math.max(flow.T - 1, 1);
  const sx = (k: number) => m.left + (k / kMax) * (width - m.left - m.right);
  const sy = (y: number) => height - m.bottom - ((Math.log10(y) - e0) / (e1 - e0)) * (height - m.top - m.bottom);

  ctx.strokeStyle = '#eee';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  const every = Math.max(1, Math.ceil((e1 - e0) / 6));
  for (let e = e0; e <= e1; e += every) {
    ctx.beginPath();
    ctx.moveTo(m.left, sy(10 ** e));
    ctx.lineTo(width - m.right, sy(10 ** e));
    ctx.stroke();
    ctx.fillText(e === 0 ? '1' : `1e${e}`, m.left - 6, sy(10 ** e) + 4);
  }
  ctx.textAlign = 'center';
  const step = kMax > 50 ? 20 : kMax > 20 ? 10 : 5;
  for (let k = 0; k <= kMax; k += step) ctx.fillText(String(k), sx(k), height - m.bottom + 16);
  ctx.fillText('k, characters back from the last one', (m.left + width - m.right) / 2, height - 6);
  ctx.save();
  ctx.translate(14, height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText('share of the gradient (log)', 0, 0);
  ctx.restore();

  ctx.strokeStyle = '#999';
  ctx.setLineDash([2, 3]);
  ctx.beginPath();
  ctx.moveTo(m.left, sy(THRESHOLD));
  ctx.lineTo(width - m.right, sy(THRESHOLD));
  ctx.stroke();
  ctx.textAlign = 'left';
  ctx.fillStyle = '#777';
  ctx.fillText('1e-3', m.left + 4, sy(THRESHOLD) - 4);

  series.forEach((s, i) => {
    const color = COLORS[Math.floor(i / (flow.layers[0]!.c ? 2 : 1)) % COLORS.length]!;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.8;
    ctx.setLineDash(s.dashed ? [6, 4] : []);
    ctx.beginPath();
    let pen = false;
    s.rel.forEach((y, k) => {
      if (!(y > 0 && Number.isFinite(y))) {
        pen = false;
        return;
      }
      if (pen) ctx.lineTo(sx(k), sy(y));
      else ctx.moveTo(sx(k), sy(y));
      pen = true;
    });
    ctx.stroke();
    ctx.setLineDash(s.dashed ? [6, 4] : []);
    const ly = m.top + 10 + 16 * i;
    ctx.beginPath();
    ctx.moveTo(width - m.right - 130, ly - 4);
    ctx.lineTo(width - m.right - 108, ly - 4);
    ctx.stroke();
    ctx.fillStyle = color;
    ctx.fillText(s.label, width - m.right - 102, ly);
  });
  ctx.setLineDash([]);
}
