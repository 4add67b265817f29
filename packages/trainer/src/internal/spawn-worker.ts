// Starts one of this package's worker entry files next to the caller, from TypeScript source
// (Node 20 ignores `--import` in a worker's execArgv, so a small bootstrap registers tsx's
// loader inside the worker first) or from the built JavaScript (plain ESM, nothing special).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export function spawnWorker(callerUrl: string, relPathWithoutExt: string, workerData: unknown): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const url = new URL(`${relPathWithoutExt}.${fromSource ? 'ts' : 'js'}`, callerUrl);
  if (!fromSource) return new Worker(url, { workerData });
  // tsx's ESM register API; its package "require" entry is the .cjs twin of the .mjs we want.
  const tsxApi = pathToFileURL(
    createRequire(callerUrl)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData, execArgv: ['--conditions=@rxrnn/source'] });
}
