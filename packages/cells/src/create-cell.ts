// createCell: the one factory for the three cell kinds (docs/contracts.md).
// Returns a cell that owns its allocF32 params/grads unless a model hands in views of its own.
import type { Cell, CellStorage } from './cell.js';
import { GruCell } from './gru-cell.js';
import { LstmCell } from './lstm-cell.js';
import { RnnCell } from './rnn-cell.js';
import type { CellConfig } from './types.js';

/**
 * The one factory of the three cell kinds: an {@link RnnCell}, {@link GruCell} or {@link LstmCell}
 * for `config.kind`, owning fresh params and grads (seeded init) unless `storage` hands in views.
 *
 * @throws RangeError/TypeError for a bad config.
 * @example
 * ```ts
 * import { createCell } from '@rxrnn/cells';
 * const cell = createCell({ kind: 'lstm', inputSize: 3, hiddenSize: 4, seed: 1 });
 * const state = cell.createState(1); // [h | c], zeros
 * const h = cell.step(state, Float32Array.of(1, 0, -1), 1); // one step, the state updated in place
 * console.log(h.length); // 4
 * ```
 */
export function createCell(config: CellConfig, storage?: CellStorage): Cell & (RnnCell | GruCell | LstmCell) {
  switch (config?.kind) {
    case 'rnn':
      return new RnnCell(config as CellConfig & { kind: 'rnn' }, storage);
    case 'gru':
      return new GruCell(config as CellConfig & { kind: 'gru' }, storage);
    case 'lstm':
      return new LstmCell(config as CellConfig & { kind: 'lstm' }, storage);
    default:
      throw new RangeError(
        `createCell: kind must be 'rnn', 'gru' or 'lstm', got ${JSON.stringify((config as { kind?: unknown } | null)?.kind)}`,
      );
  }
}
