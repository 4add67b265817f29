// Local nats-server processes for development, demos, tests and benchmarks: one node or a 3-node
// JetStream cluster on loopback ports, JetStream stores in a temporary folder. Owns the child
// processes and the folder it creates; close() (and process exit) kills the children.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { checkOneOf, checkPositiveInt, describe } from './internal/checks.js';
import { sleep } from './internal/retry.js';

/** Where Debian's `nats-server` package installs the server. */
export const DEBIAN_NATS_SERVER = '/usr/sbin/nats-server';

/** Options of {@link startLocalNats}. */
export interface LocalNatsOptions {
  /** 1 (a single JetStream server) or 3 (a cluster that can hold R3 streams). Default 1. */
  nodes?: 1 | 3;
  /** The server binary. Default: `$NATS_SERVER_BIN`, else `nats-server` on PATH, else {@link DEBIAN_NATS_SERVER}. */
  binary?: string;
  /**
   * Subject mappings written into every node's config (`mappings { from: to }`), e.g.
   * `{ 'rxrnn.in.*': 'rxrnn.in.{{partition(8,1)}}.{{wildcard(1)}}' }` (see {@link partitionMapping}).
   */
  mappings?: Record<string, string>;
  /** Each line the servers log (prefixed with the node name); default: dropped. */
  log?: (line: string) => void;
  /** How long to wait for the servers (and the JetStream meta leader) to answer, ms. Default 60000. */
  readyTimeoutMs?: number;
}

/** One server process of a {@link LocalNats}. */
export interface LocalNatsNode {
  /** `n1`, `n2`, `n3`. */
  readonly name: string;
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** The process id while it runs. */
  readonly pid: number | undefined;
  /** True until the process has exited. */
  readonly running: boolean;
}

/** Running local servers: their client URLs, and ways to stop one node or all of them. */
export interface LocalNats {
  /** Client URLs of every node (pass them all as `servers`, so clients fail over). */
  readonly servers: string[];
  /** The server processes, n1 first. */
  readonly nodes: readonly LocalNatsNode[];
  /** The temporary folder holding configs and JetStream stores (removed by close()). */
  readonly dir: string;
  /** Stops node `index` with `signal` (default SIGKILL) and resolves when it has exited. */
  stopNode(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** Kills every node, waits for them to exit and removes the folder. Safe to call twice. */
  close(): Promise<void>;
}

/** Resolves the nats-server binary, or undefined when none is installed. */
export function findNatsServer(binary?: string): string | undefined {
  const candidates = [binary, process.env.NATS_SERVER_BIN].filter(
    (b): b is string => typeof b === 'string' && b !== '',
  );
  for (const c of candidates) if (existsSync(c)) return c;
  if (candidates.length > 0) return undefined;
  const onPath = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (onPath.status === 0) return 'nats-server';
  return existsSync(DEBIAN_NATS_SERVER) ? DEBIAN_NATS_SERVER : undefined;
}

/** Children of every LocalNats in this process, killed synchronously if the process exits first. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => (port > 0 ? resolve(port) : reject(new Error('startLocalNats: no free port'))));
    });
  });
}

function nodeConfig(
  name: string,
  dir: string,
  mappings: Record<string, string>,
  cluster?: { port: number; routes: number[] },
): string {
  const lines = [
    `server_name: ${name}`,
    'listen: "127.0.0.1:-1"',
    `jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }`,
  ];
  if (cluster) {
    const routes = cluster.routes.map((p) => JSON.stringify(`nats-route://127.0.0.1:${p}`)).join(', ');
    lines.push(`cluster { name: rxrnn-local, listen: "127.0.0.1:${cluster.port}", routes: [${routes}] }`);
  }
  const maps = Object.entries(mappings);
  if (maps.length > 0) {
    lines.push('mappings {', ...maps.map(([from, to]) => `  ${JSON.stringify(from)}: ${JSON.stringify(to)}`), '}');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Starts `nodes` nats-server processes with JetStream on loopback ports (client ports chosen by
 * the servers themselves, read back from their ports files), each with its store in a fresh
 * temporary folder, and resolves once every node accepts a client connection and JetStream
 * answers (for a cluster: once the meta leader is elected). Rejects (killing what it started)
 * when the binary is missing, a server exits, or `readyTimeoutMs` passes.
 *
 * @example
 * ```ts
 * import { startLocalNats } from '@rxrnn/nats';
 * const nats = await startLocalNats(); // { nodes: 3 } for a cluster
 * try {
 *   console.log(nats.servers); // [ 'nats://127.0.0.1:<port>' ]
 * } finally {
 *   await nats.close();
 * }
 * ```
 */
export async function startLocalNats(options: LocalNatsOptions = {}): Promise<LocalNats> {
  const where = 'startLocalNats';
  const nodes = checkOneOf(where, 'nodes', options.nodes ?? 1, [1, 3] as const);
  const readyTimeoutMs = checkPositiveInt(where, 'readyTimeoutMs', options.readyTimeoutMs ?? 60_000);
  const mappings = options.mappings ?? {};
  if (typeof mappings !== 'object' || mappings === null) {
    throw new TypeError(`${where}: mappings must be an object of subject → subject, got ${describe(mappings)}`);
  }
  for (const [from, to] of Object.entries(mappings)) {
    if (typeof to !== 'string' || to === '' || from === '') {
      throw new TypeError(
        `${where}: mappings[${JSON.stringify(from)}] must be a non-empty subject, got ${describe(to)}`,
      );
    }
  }
  const binary = findNatsServer(options.binary);
  if (!binary) {
    throw new Error(
      `${where}: nats-server not found (looked at ${options.binary ?? process.env.NATS_SERVER_BIN ?? `PATH and ${DEBIAN_NATS_SERVER}`}); install it: apt-get install nats-server`,
    );
  }
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'rxrnn-nats-'));
  const children: ChildProcess[] = [];
  const exited = new Map<ChildProcess, Promise<void>>();
  const urls: string[] = [];
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const log = options.log;

  const killAll = async (): Promise<void> => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map((c) => exited.get(c)));
  };

  try {
    const clusterPorts = nodes === 3 ? await Promise.all(names.map(() => freePort())) : [];
    for (const [i, name] of names.entries()) {
      const nodeDir = join(dir, name);
      mkdirSync(nodeDir);
      const conf = join(nodeDir, 'server.conf');
      const cluster = nodes === 3 ? { port: clusterPorts[i]!, routes: clusterPorts } : undefined;
      writeFileSync(conf, nodeConfig(name, nodeDir, mappings, cluster));
      const child = spawn(binary, ['-c', conf, '--ports_file_dir', nodeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      liveChildren.add(child);
      let tail = '';
      const onData = (d: Buffer) => {
        const text = d.toString();
        tail = (tail + text).slice(-2000);
        if (log) for (const line of text.split('\n')) if (line) log(`[${name}] ${line}`);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      exited.set(
        child,
        new Promise<void>((resolve) =>
          child.once('exit', () => {
            liveChildren.delete(child);
            resolve();
          }),
        ),
      );
      // The ports file appears once the server listens; a server that dies first fails the start.
      const deadline = Date.now() + readyTimeoutMs;
      let url: string | undefined;
      while (url === undefined) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `${where}: ${name} exited (${child.exitCode ?? child.signalCode}) before listening:\n${tail}`,
          );
        }
        if (Date.now() > deadline)
          throw new Error(`${where}: ${name} did not listen within ${readyTimeoutMs} ms:\n${tail}`);
        url = readPortsFile(nodeDir);
        if (url === undefined) await sleep(20);
      }
      urls.push(url);
    }
    await waitForJetStream(urls, nodes, readyTimeoutMs, where);
  } catch (e) {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  let closed = false;
  const nodeViews: LocalNatsNode[] = names.map((name, i) => ({
    name,
    url: urls[i]!,
    get pid() {
      return children[i]!.pid;
    },
    get running() {
      return children[i]!.exitCode === null && children[i]!.signalCode === null;
    },
  }));
  return {
    servers: urls,
    nodes: nodeViews,
    dir,
    async stopNode(index: number, signal: NodeJS.Signals = 'SIGKILL') {
      const child = children[index];
      if (!child)
        throw new RangeError(`LocalNats.stopNode: index must be in [0, ${children.length}), got ${describe(index)}`);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited.get(child);
    },
    async close() {
      if (closed) return;
      closed = true;
      await killAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The client URL from a server's ports file (`<binary>_<pid>.ports` in its folder), once written. */
function readPortsFile(dir: string): string | undefined {
  const file = readdirSync(dir).find((f) => f.endsWith('.ports'));
  if (!file) return undefined;
  try {
    const ports = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats?: unknown };
    const url = Array.isArray(ports.nats) ? ports.nats[0] : undefined;
    return typeof url === 'string' ? url : undefined;
  } catch {
    return undefined; // written but not complete yet
  }
}

/**
 * Connects to every node and waits until JetStream answers an account-info request on each; for
 * a cluster, also until a stream replicated on every node can be placed (all peers have joined).
 */
async function waitForJetStream(urls: string[], nodes: number, timeoutMs: number, where: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const url of urls) {
    const nc = await connect({ servers: url, reconnect: false, timeout: Math.max(1000, deadline - Date.now()) });
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 2000 });
      let last: unknown;
      for (;;) {
        try {
          await jsm.getAccountInfo();
          break;
        } catch (e) {
          last = e;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `${where}: JetStream on ${url} did not answer within ${timeoutMs} ms (${(last as Error).message})`,
          );
        }
        await sleep(100);
      }
      if (nodes > 1 && url === urls[0]) {
        const probe = 'rxrnn_local_ready_probe';
        for (;;) {
          try {
            await jsm.streams.add({ name: probe, subjects: [`${probe}.>`], num_replicas: nodes });
            await jsm.streams.delete(probe);
            break;
          } catch (e) {
            last = e;
          }
          if (Date.now() > deadline) {
            throw new Error(
              `${where}: the cluster could not place a ${nodes}-replica stream within ${timeoutMs} ms (${(last as Error).message})`,
            );
          }
          await sleep(100);
        }
      }
    } finally {
      await nc.close();
    }
  }
}
