// rxrnn side of the peer benchmark (filled in as the packages' public APIs land).
import type { Emit, RunWorkload, Workload } from './workloads.js';

export const rxrnnRunner: RunWorkload = async (workload: Workload, _quick: boolean, emit: Emit) => {
  emit({ workload, cell: 'lstm', hidden: 0, form: 'none', unit: 'us/step', error: 'not wired yet' });
};
