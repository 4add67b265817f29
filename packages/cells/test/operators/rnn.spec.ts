import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../../test/support/rx-checklist.js';
import { createCell } from '../../src/create-cell.js';
import { rnn } from '../../src/operators/rnn.js';
import { randomVectors, stepDirectly } from '../support/test-inputs.js';

describe('rnn()', () => {
  const cell = createCell({ kind: 'rnn', inputSize: 3, hiddenSize: 5, seed: 11 });
  const inputs = randomVectors(4, 3, 2);
  const checks = rxChecklist({
    make: () => rnn(cell),
    inputs,
    expected: stepDirectly(cell, inputs),
    bad: { input: new Float32Array(2), message: /^rnn: input length 2, expected 3 at step 1$/ },
  });
  for (const [name, check] of Object.entries(checks)) it(name, check);

  it('refuses a cell of another kind', () => {
    const other = createCell({ kind: 'gru', inputSize: 3, hiddenSize: 5 });
    expect(() => rnn(other)).toThrow(TypeError);
    expect(() => rnn(other)).toThrow(/^rnn: cell must be an? rnn cell, got an? gru cell$/);
  });
});
