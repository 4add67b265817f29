// createCell: the one factory for the three cell kinds (docs/contracts.md).
// Returns a cell that owns its allocF32 params/grads unless a model hands in views of its own.
import type { Cell, CellStorage } from './cell.js';
import { GruCell } from './gru-cell.js';
import { LstmCell } from './lstm-cell.js';
import { RnnCell } from './rnn-cell.js';
import type { CellConfig } from './types.js';

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
