// Operators report which emission failed: this appends "at step N" to an error thrown by the shared
// core (whose message already names the operator) and rethrows it with its class and fields intact.

export function rethrowAtStep(err: unknown, step: number): never {
  if (err instanceof Error) err.message = `${err.message} at step ${step}`;
  throw err;
}
