// Worker entry when running from TypeScript source: Node 20 does not apply `--import tsx` given
// in a Worker's execArgv, so the worker registers the tsx loader itself, then loads the real entry.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./training-worker.ts', import.meta.url).href);
