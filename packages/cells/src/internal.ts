// @rxrnn/cells/internal: what the other rxrnn packages build on but an application does not need
// (config resolution and the per-cell parameter layout, for stacks built elsewhere such as
// @rxrnn/bidirectional). For the rxrnn packages themselves: no compatibility promise.
export { cellLayout, type ResolvedCellConfig, resolveCellConfig } from './cell.js';
export { LayoutBuilder } from './internal/layout.js';
