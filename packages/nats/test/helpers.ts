// Test helpers: whether nats-server is installed (tests skip with a message when it is not, except
// under CI, where a missing server is a failure), a connection that tests close, and polling with
// a bounded number of rounds for conditions that become true asynchronously.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { findNatsServer } from '../src/local-server.js';

/** The nats-server binary, or undefined. */
export const NATS_SERVER = findNatsServer();

/** True when the NATS tests must run: the server is there, or CI says it must be. */
export const MUST_RUN = NATS_SERVER !== undefined || Boolean(process.env.CI);

if (!MUST_RUN)
  console.warn('@rxrnn/nats tests skipped: nats-server not found (install it: apt-get install nats-server)');

/** Fails clearly under CI when the server is missing (call it in beforeAll). */
export function requireServer(): void {
  if (NATS_SERVER === undefined) {
    throw new Error(
      "CI is set but nats-server is missing: CI must install Debian's nats-server package (.ci/run does)",
    );
  }
}

/** A client connection to `servers` that fails over between them. */
export function client(servers: string[]): Promise<NatsConnection> {
  return connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
}

/**
 * Resolves once `check()` is truthy, polling every `everyMs` for at most `rounds` rounds; rejects
 * with `what` when it never is (a bounded wait, not a wall-clock limit on the test).
 */
export async function until<T>(what: string, check: () => Promise<T> | T, rounds = 600, everyMs = 50): Promise<T> {
  for (let i = 0; i < rounds; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what} after ${rounds} checks`);
}
