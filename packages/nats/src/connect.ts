// A NATS connection for clients of a deployment: every server URL given (so the client fails
// over between cluster nodes) and reconnecting for as long as it lives.
import { type ConnectionOptions, connect, type NatsConnection } from '@nats-io/transport-node';
import { describe } from './internal/checks.js';

export type { NatsConnection };

/**
 * Connects to NATS (Node's TCP transport) with the reconnect settings workers use: unlimited
 * reconnect attempts, 250 ms apart, over every URL in `servers`, and no async stack traces (they
 * cost an Error per request, a third of a worker's time at high rates). Rejects when no server answers.
 * Close it with `await nc.close()`.
 */
export function connectNats(
  servers: string | readonly string[],
  options: Partial<ConnectionOptions> = {},
): Promise<NatsConnection> {
  const list = typeof servers === 'string' ? [servers] : [...servers];
  if (list.length === 0 || !list.every((s) => typeof s === 'string' && s !== '')) {
    throw new TypeError(`connectNats: servers must be a URL or a non-empty list of URLs, got ${describe(servers)}`);
  }
  return connect({ maxReconnectAttempts: -1, reconnectTimeWait: 250, noAsyncTraces: true, ...options, servers: list });
}
