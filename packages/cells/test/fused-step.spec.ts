// The fused batch-1 step (Cell.step at B = 1 through lstmStep / gruStep / rnnStep) against the
// general path (separate gemv and gate kernels over the step tape), which a subclass that reports
// no fused kernel still takes: bit for bit equal, dense and one-hot input, both backends.

import { allocF32, getBackend, setBackend } from '@rxrnn/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { GruCell, LstmCell, RnnCell } from '../src/index.js';
import { testValues } from './f64-oracle.js';

const initial = getBackend();
afterAll(() => setBackend(initial));

// Subclasses that keep the general path (as a RecurrentCell subclass made elsewhere would).
class PlainLstm extends LstmCell {
  protected override fusable(): boolean {
    return false;
  }
}
class PlainGru extends GruCell {
  protected override fusable(): boolean {
    return false;
  }
}
class PlainRnn extends RnnCell {
  protected override fusable(): boolean {
    return false;
  }
}
const PAIRS = [
  ['lstm', LstmCell, PlainLstm],
  ['gru', GruCell, PlainGru],
  ['rnn', RnnCell, PlainRnn],
] as const;

describe.each(['wasm', 'js'] as const)('fused batch-1 step equals the general path, %s backend', (backend) => {
  for (const [kind, Fused, Plain] of PAIRS) {
    it.each([
      [1, 1],
      [3, 5],
      [65, 63],
      [4, 257],
    ])(`${kind} n_x=%i H=%i`, (nx, H) => {
      setBackend(backend);
      const a = new Fused({ inputSize: nx, hiddenSize: H, seed: 3 });
      const b = new Plain({ inputSize: nx, hiddenSize: H, seed: 3 });
      a.params.set(testValues(a.paramCount(), 7, 0.6));
      b.params.set(a.params);
      const s0 = Float32Array.from(testValues(a.stateSize, 8, 0.5));
      // State in WASM memory for one, an ordinary array for the other (the copy path).
      const sa = allocF32(a.stateSize);
      const sb = Float32Array.from(s0);
      sa.set(s0);
      for (let t = 0; t < 6; t++) {
        const x: Float32Array | Int32Array =
          t % 3 === 2 ? Int32Array.of((t * 7) % nx) : Float32Array.from(testValues(nx, 20 + t));
        const ha = a.step(sa, x, 1);
        const hb = b.step(sb, x, 1);
        expect([...ha], `${kind} step ${t}`).toEqual([...hb]);
        expect([...sa], `${kind} state ${t}`).toEqual([...sb]);
      }
    });
  }
  it('reset-before GRU keeps the general path and the error messages stay the same', () => {
    setBackend(backend);
    const g = new GruCell({ inputSize: 3, hiddenSize: 4, gruVariant: 'reset-before', seed: 1 });
    const s = g.createState(1);
    expect(() => g.step(s, new Float32Array(3), 1)).not.toThrow();
    const l = new LstmCell({ inputSize: 3, hiddenSize: 4, seed: 1 });
    expect(() => l.step(new Float32Array(7), new Float32Array(3), 1)).toThrow(
      new RangeError('lstm.step: state length 7, expected B*stateSize = 8'),
    );
    expect(() => l.step(l.createState(1), new Float32Array(2), 1)).toThrow(
      new RangeError('lstm.step: x length 2, expected B*n_x = 3'),
    );
    expect(() => l.step(l.createState(1), Int32Array.of(3), 1)).toThrow(RangeError);
  });
});
