// ESM consumer of the installed tarballs: loads every package with `import`, runs the scenario.

import * as bidirectional from '@rxrnn/bidirectional';
import * as cells from '@rxrnn/cells';
import * as clipping from '@rxrnn/clipping';
import * as kernels from '@rxrnn/kernels';
import * as keyed from '@rxrnn/keyed';
import * as keyedNode from '@rxrnn/keyed/node';
import * as nats from '@rxrnn/nats';
import * as trainer from '@rxrnn/trainer';
import * as trainerNode from '@rxrnn/trainer/node';
import * as rxjs from 'rxjs';
import scenarioModule from './scenario.cjs';

const summary = await scenarioModule.scenario({
  kernels,
  cells,
  clipping,
  trainer,
  trainerNode,
  bidirectional,
  keyed,
  keyedNode,
  nats,
  rxjs,
});
console.log(JSON.stringify({ consumer: 'esm', ok: true, ...summary }));
