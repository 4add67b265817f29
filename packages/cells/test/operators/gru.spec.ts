import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../../test/support/rx-checklist.js';
import { createCell } from '../../src/create-cell.js';
import { gru } from '../../src/operators/gru.js';
import { randomVectors, stepDirectly } from '../support/test-inputs.js';

describe('gru()', () => {
  const cell = createCell({ kind: 'gru', inputSize: 3, hiddenSize: 5, seed: 11 });
  const inputs = randomVectors(4, 3, 2);
  const checks = rxChecklist({
    make: () => gru(cell),
    inputs,
    expected: stepDirectly(cell, inputs),
    bad: { input: new Float32Array(2), message: /^gru: input length 2, expected 3 at step 1$/ },
  });
  for (const [name, check] of Object.entries(checks)) it(name, check);

  it('refuses a cell of another kind', () => {
    const other = createCell({ kind: 'lstm', inputSize: 3, hiddenSize: 5 });
    expect(() => gru(other)).toThrow(TypeError);
    expect(() => gru(other)).toThrow(/^gru: cell must be an? gru cell, got an? lstm cell$/);
  });
});
