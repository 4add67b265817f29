// The --plot SVG: both curves with one path vertex per point, labelled axes, round ticks.
import { describe, expect, it } from 'vitest';
import { formatTick, lossCurveSvg, niceTicks } from '../src/loss-plot.js';

describe('lossCurveSvg', () => {
  it('draws train and validation curves with labelled axes', () => {
    const train = [
      { x: 0, y: 4 },
      { x: 1000, y: 2.5 },
      { x: 2000, y: 1.8 },
    ];
    const val = [
      { x: 1000, y: 2.7 },
      { x: 2000, y: 2.0 },
    ];
    const svg = lossCurveSvg(train, val, { title: 'a <b> & c' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('loss (nats/char)');
    expect(svg).toContain('characters seen');
    expect(svg).toContain('a &lt;b&gt; &amp; c');
    const d = (cls: string) => svg.match(new RegExp(`class="${cls}" d="([^"]+)"`))![1]!;
    expect(d('train').split(/[ML]/).filter(Boolean)).toHaveLength(3);
    expect(d('val').split(/[ML]/).filter(Boolean)).toHaveLength(2);
    // A higher loss is drawn higher up: a smaller y coordinate.
    const ys = d('train')
      .split(/[ML]/)
      .filter(Boolean)
      .map((p) => Number(p.split(',')[1]));
    expect(ys[0]!).toBeLessThan(ys[2]!);
  });

  it('still renders with no points', () => {
    const svg = lossCurveSvg([], []);
    expect(svg).toContain('</svg>');
    expect(svg).not.toContain('class="train"');
  });
});

describe('niceTicks', () => {
  it('uses steps of 1, 2 or 5 times a power of ten', () => {
    expect(niceTicks(0, 4.2, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(niceTicks(0, 10_000, 5)).toEqual([0, 2000, 4000, 6000, 8000, 10_000]);
  });
});

describe('formatTick', () => {
  it('shortens thousands and millions without losing zeros', () => {
    expect(formatTick(100_000)).toBe('100k');
    expect(formatTick(450_000)).toBe('450k');
    expect(formatTick(1_500_000)).toBe('1.5M');
    expect(formatTick(20_000_000)).toBe('20M');
    expect(formatTick(0.25)).toBe('0.25');
  });
});
