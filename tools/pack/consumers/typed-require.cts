// TypeScript CommonJS consumer (NodeNext): `import x = require()` of the ESM packages type-checks
// (TypeScript >= 5.8 models Node's require(esm)).
import cells = require('@rxrnn/cells');
import trainer = require('@rxrnn/trainer');

const vocab: cells.Vocabulary = cells.Vocabulary.fromText('abc');
const model: cells.CharModel = new cells.CharModel({ cell: 'gru', vocab: vocab.chars, hidden: 4 });
export const params: number = model.params.length;
export const bits: number = trainer.natsToBits(Math.LN2);
