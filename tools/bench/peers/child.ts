// Child-process entry of the peer benchmark: `child.ts <impl> <workload> <quick 0|1>` loads one
// implementation, runs one workload and prints one JSON record per line on stdout. A failure to
// load or run becomes an error record; nothing else is written to stdout. It then exits.
import { type Emit, type Impl, type PeerRecord, type RunWorkload, UNIT, type Workload } from './workloads.js';

const [impl, workload, quickArg] = process.argv.slice(2) as [Impl, Workload, string];
const quick = quickArg === '1';

const emit: Emit = (r) => {
  const record: PeerRecord = { suite: 'peers', impl, ...r };
  process.stdout.write(`${JSON.stringify(record)}\n`);
};

async function runner(): Promise<RunWorkload> {
  switch (impl) {
    case 'tfjs-cpu':
      return (await import('./tfjs.js')).tfjsRunner('cpu');
    case 'tfjs-wasm':
      return (await import('./tfjs.js')).tfjsRunner('wasm');
    case 'tfjs-wasm-threads':
      return (await import('./tfjs.js')).tfjsRunner('wasm-threads');
    case 'brain.js':
      return (await import('./brain.js')).brainRunner;
    case 'ort-node':
      return (await import('./onnxruntime.js')).onnxruntimeRunner('node');
    case 'ort-web':
      return (await import('./onnxruntime.js')).onnxruntimeRunner('web');
    case 'rxrnn':
      return (await import('./rxrnn.js')).rxrnnRunner;
    case 'rxrnn-wasm': {
      // The same runner on the wasm backend: the figures of browsers and of Node without the addon.
      (await import('@rxrnn/kernels')).setBackend('wasm');
      return (await import('./rxrnn.js')).rxrnnRunner;
    }
    default:
      throw new Error(`unknown impl ${String(impl)}`);
  }
}

try {
  await (await runner())(workload, quick, emit);
} catch (e) {
  emit({
    workload,
    cell: 'lstm',
    hidden: 0,
    form: 'load',
    unit: UNIT[workload] ?? 'us/step',
    error: e instanceof Error ? e.message : String(e),
  });
}
// Leave once stdout has taken the last record: a peer's threads may keep the process alive (TF.js's
// threaded WASM build keeps its pthread workers referenced).
process.stdout.write('', () => process.exit(0));
