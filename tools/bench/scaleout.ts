// `npm run --silent bench -- scaleout [--json] [--events N] [--keys K] [--partitions P] [--hidden H]
// [--layers L] [--output logits|surprisal] [--lease-ttl-ms MS] [--checkpoint-interval-ms MS] [--runs 1,2,kill]
// [--logs]` (--logs: every worker's log on stderr after each run):
// keyed RNN stream processing through a local nats-server (started here, loopback, JetStream in
// a temp folder) with 1 and 2 worker processes, and a 2-worker run in which one worker is killed
// (SIGKILL) mid-stream. Every run is checked against the single-process reference over the same
// stored events (the keyed engine in this process, which also gives the in-process speed the
// per-event overhead of NATS is stated against).
import { readFileSync } from 'node:fs';
import { CharModel } from '@rxrnn/cells';
import { getBackend, Rng, ready } from '@rxrnn/kernels';
import {
  compareResults,
  connectNats,
  type Deployment,
  type NatsConnection,
  partitionOf as partitionOfKey,
  publishModel,
  readInputEvents,
  readOutputs,
  referenceResults,
  setupDeployment,
  startLocalNats,
  weightsCheckpoint,
} from '@rxrnn/nats';
import { encodeCheckpoint } from '@rxrnn/trainer';
import { startWorker, type WorkerProcess, waitForAssignment } from '../../packages/nats/test/worker-process.js';

interface ScaleoutRecord {
  suite: 'scaleout';
  workers: number;
  partitions: number;
  keys: number;
  events: number;
  events_per_sec: number;
  lost: number;
  duplicated: number;
  max_abs_diff: number;
  failover_ms: number | null;
  kill: boolean;
  model: string;
  output: string;
  lease_ttl_ms: number;
  checkpoint_interval_ms: number;
  inprocess_events_per_sec: number;
  overhead_us_per_event: number | null;
  /**
   * CPU time per event in µs from the first publish to the last output, by process: the
   * nats-server, the workers (summed), and this process (publishing the events, polling the
   * output count). Linux only (/proc); null elsewhere.
   */
  cpu_us_per_event: { server: number; workers: number; bench: number } | null;
  backend: string;
  seconds: number;
}

function flag(args: string[], name: string, def: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
}

function int(args: string[], name: string, def: number, min = 1): number {
  const v = Number(flag(args, name, String(def)));
  if (!Number.isSafeInteger(v) || v < min)
    throw new RangeError(`scaleout: ${name} must be an integer >= ${min}, got ${flag(args, name, '')}`);
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux Node runs on). */
const USER_HZ = 100;

/** User + system CPU seconds of process `pid` so far, from /proc; undefined when unreadable. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which may hold spaces, so split after its ')').
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return Number.isFinite(ticks) ? ticks / USER_HZ : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds of the server, the workers and this process, or undefined when /proc is not there. */
function cpuNow(nats: { nodes: readonly { pid: number | undefined }[] }, procs: readonly WorkerProcess[]) {
  const server = nats.nodes.map((n) => cpuSeconds(n.pid));
  const workers = procs.map((w) => cpuSeconds(w.child.pid));
  if ([...server, ...workers].some((s) => s === undefined)) return undefined;
  const u = process.cpuUsage();
  const sum = (xs: (number | undefined)[]) => xs.reduce<number>((a, b) => a + b!, 0);
  return { server: sum(server), workers: sum(workers), bench: (u.user + u.system) / 1e6 };
}

/** Output messages stored now. */
async function outputCount(d: Deployment): Promise<number> {
  return (await d.jsm.streams.info(d.names.outputStream)).state.messages;
}

export default async function scaleout(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const showLogs = args.includes('--logs');
  const events = int(args, '--events', 40_000);
  const keys = int(args, '--keys', 1000);
  const partitions = int(args, '--partitions', 8);
  const hidden = int(args, '--hidden', 256);
  const layers = int(args, '--layers', 2);
  const leaseTtlMs = int(args, '--lease-ttl-ms', 3000, 500);
  const checkpointIntervalMs = int(args, '--checkpoint-interval-ms', 1000, 10);
  const output = flag(args, '--output', 'logits');
  if (output !== 'logits' && output !== 'surprisal')
    throw new RangeError(`scaleout: --output ${output}, expected logits or surprisal`);
  const runs = flag(args, '--runs', '1,2,kill').split(',');
  for (const r of runs)
    if (!['1', '2', 'kill'].includes(r)) throw new RangeError(`scaleout: --runs ${r}, expected 1, 2 or kill`);
  const say = (m: string) => {
    if (!json) console.log(m);
  };

  await ready();
  const vocab = Array.from({ length: 65 }, (_, i) => String.fromCodePoint(33 + i));
  const model = new CharModel({ cell: 'lstm', vocab, hidden, layers, embeddingDim: 64, seed: 1 });
  const modelName = `${layers}×LSTM-${hidden} (V 65, E 64)`;
  const bundle = encodeCheckpoint(weightsCheckpoint(model));
  // The same events in every run: keys and tokens from a seeded RNG.
  const rng = new Rng(7);
  const plan = Array.from({ length: events }, () => ({
    key: `k${Math.floor(rng.uniform() * keys)}`,
    value: Math.floor(rng.uniform() * vocab.length),
  }));

  const nats = await startLocalNats();
  let nc: NatsConnection | undefined;
  const records: ScaleoutRecord[] = [];
  try {
    nc = await connectNats(nats.servers);
    for (const run of runs) {
      const workers = run === '1' ? 1 : 2;
      const kill = run === 'kill';
      const stream = `bench-${run}`;
      const d = await setupDeployment(nc, { stream, partitions, leaseTtlMs, duplicateWindowMs: 300_000 });
      const hash = await publishModel(d.models, bundle);
      const argv = [
        '--servers',
        nats.servers.join(','),
        '--stream',
        stream,
        '--model',
        `sha256:${hash}`,
        '--output',
        output,
        '--checkpoint-interval-ms',
        String(checkpointIntervalMs),
      ];
      const procs: WorkerProcess[] = Array.from({ length: workers }, (_, i) => startWorker(`w${i}`, argv));
      try {
        await waitForAssignment(procs, partitions, (p) => procs[p % workers]!);
        // All events at once, without waiting for acks (the workers start as they arrive).
        const cpu0 = cpuNow(nats, procs);
        const t0 = performance.now();
        const enc = new TextEncoder();
        for (const [i, e] of plan.entries()) {
          nc.publish(d.inputSubject(partitionOfKey(e.key, partitions), e.key), enc.encode(JSON.stringify(e.value)));
          if (i % 5000 === 4999) await nc.flush();
        }
        await nc.flush();
        const stored = (await d.jsm.streams.info(d.names.inputStream)).state.messages;
        if (stored !== events)
          throw new Error(`scaleout: the input stream holds ${stored} events, ${events} were published`);
        let killedAt: number | undefined;
        const victim = procs[1];
        let last = -1;
        let still = 0;
        for (;;) {
          const n = await outputCount(d);
          if (n >= events) break;
          if (kill && killedAt === undefined && n >= events * 0.35) {
            victim!.kill();
            killedAt = performance.now();
            say(`  killed w1 at ${n} outputs`);
          }
          still = n === last ? still + 1 : 0;
          last = n;
          if (still > 3000)
            throw new Error(`scaleout: outputs stuck at ${n} of ${events}:\n${procs.map((w) => w.log()).join('\n')}`);
          await sleep(20);
        }
        const seconds = (performance.now() - t0) / 1000;
        // A killed worker's time is gone with its process: no CPU breakdown for the kill run.
        const cpu1 = kill ? undefined : cpuNow(nats, procs);
        const perEvent = (a: number, b: number) => Math.round(((b - a) * 1e6) / events);
        const cpu =
          cpu0 && cpu1
            ? {
                server: perEvent(cpu0.server, cpu1.server),
                workers: perEvent(cpu0.workers, cpu1.workers),
                bench: perEvent(cpu0.bench, cpu1.bench),
              }
            : null;
        let failoverMs: number | null = null;
        if (kill && killedAt !== undefined) {
          // Until the survivor runs every partition the dead worker had.
          const taken = [...Array(partitions).keys()]
            .filter((p) => p % 2 === 1)
            .map((p) => procs[0]!.running.get(p) ?? Number.NaN);
          failoverMs = Math.round(Math.max(...taken) - killedAt);
        }
        if (showLogs) for (const w of procs) console.error(`--- ${w.id}\n${w.log()}`);
        for (const w of procs) await w.stop();
        // The reference: the keyed engine in this process over the stored events, timed.
        const inputs = await readInputEvents(d);
        const r0 = performance.now();
        const expected = await referenceResults(model, inputs, partitions, { output });
        const inprocess = inputs.length / ((performance.now() - r0) / 1000);
        const v = compareResults(expected, await readOutputs(d), inputs.length);
        if (v.problems.length) say(`  problems: ${v.problems.join('; ')}`);
        const eps = events / seconds;
        const rec: ScaleoutRecord = {
          suite: 'scaleout',
          workers,
          partitions,
          keys,
          events,
          events_per_sec: Math.round(eps),
          lost: v.lost,
          duplicated: v.duplicated,
          max_abs_diff: v.maxAbsDiff,
          failover_ms: failoverMs,
          kill,
          model: modelName,
          output,
          lease_ttl_ms: leaseTtlMs,
          checkpoint_interval_ms: checkpointIntervalMs,
          inprocess_events_per_sec: Math.round(inprocess),
          // One worker on one core against the engine alone on one core: what NATS adds per event.
          overhead_us_per_event: workers === 1 && !kill ? Math.round((1e6 / eps - 1e6 / inprocess) * 10) / 10 : null,
          cpu_us_per_event: cpu,
          backend: getBackend(),
          seconds: Math.round(seconds * 100) / 100,
        };
        records.push(rec);
        if (json) console.log(JSON.stringify(rec));
        else {
          say(
            `${kill ? 'kill' : `${workers} worker${workers > 1 ? 's' : ''}`}: ${rec.events_per_sec} events/s (${rec.seconds} s), lost ${rec.lost}, duplicated ${rec.duplicated}, max |diff| ${rec.max_abs_diff}${failoverMs !== null ? `, failover ${failoverMs} ms (lease TTL ${leaseTtlMs} ms)` : ''}; in-process ${rec.inprocess_events_per_sec} events/s${cpu ? `; CPU µs/event: server ${cpu.server}, workers ${cpu.workers}, bench ${cpu.bench}` : ''}`,
          );
        }
      } finally {
        for (const w of procs) w.kill();
      }
    }
    const one = records.find((r) => r.workers === 1 && !r.kill);
    const two = records.find((r) => r.workers === 2 && !r.kill);
    if (one && two) say(`2 workers ÷ 1 worker: ${(two.events_per_sec / one.events_per_sec).toFixed(2)}×`);
  } finally {
    await nc?.close();
    await nats.close();
  }
}
