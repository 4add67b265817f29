import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../../test/support/rx-checklist.js';
import { createCell } from '../../src/create-cell.js';
import { lstm } from '../../src/operators/lstm.js';
import { randomVectors, stepDirectly } from '../support/test-inputs.js';

describe('lstm()', () => {
  const cell = createCell({ kind: 'lstm', inputSize: 3, hiddenSize: 5, seed: 11 });
  const inputs = randomVectors(4, 3, 2);
  const checks = rxChecklist({
    make: () => lstm(cell),
    inputs,
    expected: stepDirectly(cell, inputs),
    bad: { input: new Float32Array(2), message: /^lstm: input length 2, expected 3 at step 1$/ },
  });
  for (const [name, check] of Object.entries(checks)) it(name, check);

  it('refuses a cell of another kind', () => {
    const other = createCell({ kind: 'rnn', inputSize: 3, hiddenSize: 5 });
    expect(() => lstm(other)).toThrow(TypeError);
    expect(() => lstm(other)).toThrow(/^lstm: cell must be an? lstm cell, got an? rnn cell$/);
  });
});
