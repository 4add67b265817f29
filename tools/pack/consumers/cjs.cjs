// CommonJS consumer of the installed tarballs: loads every package with require() (Node >= 20.19
// loads the ESM builds synchronously through require(esm)), runs the scenario.
'use strict';
const { scenario } = require('./scenario.cjs');

const mods = {
  kernels: require('@rxrnn/kernels'),
  cells: require('@rxrnn/cells'),
  clipping: require('@rxrnn/clipping'),
  trainer: require('@rxrnn/trainer'),
  trainerNode: require('@rxrnn/trainer/node'),
  bidirectional: require('@rxrnn/bidirectional'),
  keyed: require('@rxrnn/keyed'),
  keyedNode: require('@rxrnn/keyed/node'),
  nats: require('@rxrnn/nats'),
  rxjs: require('rxjs'),
};
scenario(mods).then(
  (summary) => console.log(JSON.stringify({ consumer: 'cjs', ok: true, ...summary })),
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
