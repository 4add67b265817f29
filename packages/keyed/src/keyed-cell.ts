// keyedCell(): a cell or stack for the keyed engine. Each key's event is an input vector x [n_x],
// its output h [H] (the top layer's for a stack). Owns the batch input buffer x [maxBatch × n_x]
// (allocF32) and its per-B views; the states are the engine's.
import type { StepCell } from '@rxrnn/cells';
import { allocF32, freeF32 } from '@rxrnn/kernels';
import { describe } from './internal/checks.js';
import type { KeyedBatch, KeyedModel } from './keyed-model.js';

/**
 * The keyed engine's view of a cell (`createCell`, `LstmCell`, ...) or a stack (`RnnStack`):
 * events carry an input vector x (a Float32Array of n_x finite values), outputs are h, a fresh
 * Float32Array of H values (the top layer's for a stack) — what `rnn()`/`gru()`/`lstm()` emit
 * for the same stream.
 *
 * @example
 * const cell = createCell({ kind: 'lstm', inputSize: 8, hiddenSize: 32, seed: 1 });
 * events$.pipe(keyed(keyedCell(cell), { maxBatch: 32 })).subscribe(({ key, seq, output }) => …);
 * @throws TypeError unless `cell` steps like a cell (kind, inputSize, hiddenSize, stateSize, step).
 */
export function keyedCell(cell: StepCell): KeyedModel<Float32Array, Float32Array> {
  if (
    typeof cell !== 'object' ||
    cell === null ||
    typeof cell.step !== 'function' ||
    typeof cell.createState !== 'function' ||
    !Number.isSafeInteger(cell.inputSize) ||
    !Number.isSafeInteger(cell.hiddenSize) ||
    !Number.isSafeInteger(cell.stateSize) ||
    cell.hiddenSize < 1 ||
    cell.stateSize % cell.hiddenSize !== 0
  ) {
    throw new TypeError(`keyedCell: cell must be a cell or a stack (createCell, RnnStack), got ${describe(cell)}`);
  }
  return new CellModel(cell);
}

const article = (w: string) => (/^[aeiourlfhmnsx]/.test(w) ? 'an' : 'a');

class CellModel implements KeyedModel<Float32Array, Float32Array> {
  readonly description: string;
  readonly output = 'h';
  readonly stateSize: number;
  readonly segment: number;
  readonly target: StepCell;
  readonly #nx: number;

  constructor(cell: StepCell) {
    this.target = cell;
    this.stateSize = cell.stateSize;
    this.segment = cell.hiddenSize;
    this.#nx = cell.inputSize;
    const layers = (cell as { layers?: unknown }).layers;
    const stack = typeof layers === 'number' && layers !== 1 ? `, ${layers} layers` : '';
    this.description = `${article(cell.kind)} ${cell.kind} ${typeof layers === 'number' ? 'stack' : 'cell'} (n_x ${this.#nx}, H ${cell.hiddenSize}${stack})`;
  }

  createExtra(): null {
    return null;
  }

  writeExtra(): null {
    return null;
  }

  readExtra(data: unknown, where: string): null {
    if (data !== null) throw new RangeError(`${where}: extra data ${describe(data)}, expected none for a cell`);
    return null;
  }

  check(value: unknown): Error | undefined {
    const n = this.#nx;
    if (!(value instanceof Float32Array)) {
      return new TypeError(`keyed: input must be a Float32Array of n_x = ${n} values, got ${describe(value)}`);
    }
    if (value.length !== n) return new RangeError(`keyed: input length ${value.length}, expected n_x = ${n}`);
    for (let i = 0; i < n; i++) {
      const v = value[i]!;
      // `v - v` is NaN exactly for NaN and ±Infinity.
      if (v - v !== 0) return new RangeError(`keyed: input[${i}] must be a finite number, got ${v}`);
    }
    return undefined;
  }

  createBatch(maxBatch: number): KeyedBatch<Float32Array, Float32Array> {
    return new CellBatch(this.target, maxBatch);
  }
}

/** x [maxBatch × n_x] in WASM memory (the kernels read it in place), and one view per B. */
class CellBatch implements KeyedBatch<Float32Array, Float32Array> {
  readonly #cell: StepCell;
  readonly #nx: number;
  #x: Float32Array;
  readonly #views: Float32Array[] = [];
  #h: Float32Array = new Float32Array(0);

  constructor(cell: StepCell, maxBatch: number) {
    this.#cell = cell;
    this.#nx = cell.inputSize;
    this.#x = allocF32(maxBatch * cell.inputSize);
  }

  needsStep(): boolean {
    return true;
  }

  setRow(b: number, value: Float32Array): void {
    this.#x.set(value, b * this.#nx);
  }

  step(states: Float32Array, B: number): void {
    // One view object per B, so the cell's per-array caches hit on every later batch of B rows.
    let x = this.#views[B];
    if (x === undefined) {
      x = this.#x.subarray(0, B * this.#nx);
      this.#views[B] = x;
    }
    this.#h = this.#cell.step(states, x, B);
  }

  output(b: number): Float32Array {
    const H = this.#cell.hiddenSize;
    return this.#h.slice(b * H, (b + 1) * H);
  }

  release(): void {
    freeF32(this.#x);
    this.#x = new Float32Array(0);
    this.#views.length = 0;
    this.#h = new Float32Array(0);
  }
}
