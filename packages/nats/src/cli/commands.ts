// The rxrnn-nats commands: local (dev servers), setup, model put, worker, publish, tail, status.
// Each parses its flags, talks to NATS through the package's API, prints results on stdout and
// diagnostics on stderr, and returns an exit code.
import { readFileSync } from 'node:fs';
import { DeliverPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CharModel, Vocabulary } from '@rxrnn/cells';
import { encodeCheckpoint } from '@rxrnn/trainer';
import { connectNats } from '../connect.js';
import { type Deployment, openDeployment, setupDeployment } from '../deployment.js';
import { publishEvents, readOutputs } from '../events.js';
import { leaseKey } from '../leases.js';
import { startLocalNats } from '../local-server.js';
import { publishModel, weightsCheckpoint } from '../model-bundle.js';
import { decodeOutput } from '../outputs.js';
import { partitionMapping } from '../partition.js';
import { partitionKey } from '../partition-runner.js';
import { decodePartitionRecord } from '../records.js';
import { verifyOutputs } from '../verify.js';
import { runWorker } from '../worker.js';
import { CliError, CONNECTION_FLAGS, choice, type Flags, int, num, servers, UsageError, type Values } from './flags.js';

/** Where a command writes. */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM). */
  interrupted: Promise<void>;
}

/** One command. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: Flags;
  examples: string[];
  run(values: Values, io: Io): Promise<number>;
}

async function withConnection<T>(v: Values, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const list = servers(v);
  let nc: NatsConnection;
  try {
    nc = await connectNats(list, { maxReconnectAttempts: 10 });
  } catch (e) {
    throw new CliError(`cannot connect to ${list.join(', ')}: ${(e as Error).message}`);
  }
  try {
    return await fn(nc);
  } finally {
    await nc.close().catch(() => {});
  }
}

async function open(nc: NatsConnection, v: Values): Promise<Deployment> {
  try {
    return await openDeployment(nc, { stream: v.stream as string, timeoutMs: 15_000 });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

const local: Command = {
  name: 'local',
  summary: 'start local nats-server processes (loopback, JetStream in a temp folder) until Ctrl-C',
  usage: 'local [--nodes 1|3] [--stream NAME --partitions P]',
  flags: {
    nodes: { type: 'string', arg: '1|3', help: 'one server or a 3-node cluster', default: '1' },
    stream: CONNECTION_FLAGS.stream!,
    partitions: {
      type: 'string',
      arg: 'P',
      help: 'also map <stream>.in.<key> to <stream>.in.<partition>.<key> in the servers (subject-mapping partitions)',
    },
  },
  examples: ['rxrnn-nats local', 'rxrnn-nats local --nodes 3 --partitions 8'],
  async run(v, io) {
    const nodes = choice(v, 'nodes', ['1', '3'] as const, '1') === '3' ? 3 : 1;
    const partitions = int(v, 'partitions', undefined, 1, 4096);
    const mappings = partitions === undefined ? {} : partitionMapping(`${v.stream as string}.in`, partitions);
    const nats = await startLocalNats({ nodes, mappings });
    io.stdout.write(`${nats.servers.join(',')}\n`);
    io.stderr.write(`nats-server ${nodes === 3 ? 'cluster' : 'node'} running in ${nats.dir}; Ctrl-C stops it\n`);
    await io.interrupted;
    await nats.close();
    return 0;
  },
};

const setup: Command = {
  name: 'setup',
  summary: 'create the deployment (streams, KV buckets, object store) or check the existing one',
  usage:
    'setup --partitions P [--replicas 1|3|5] [--lease-ttl-ms MS] [--duplicate-window-ms MS] [--servers URLS] [--stream NAME]',
  flags: {
    ...CONNECTION_FLAGS,
    partitions: { type: 'string', arg: 'P', help: 'number of partitions (fixed for the deployment)' },
    replicas: { type: 'string', arg: '1|3|5', help: 'replicas of every stream and bucket', default: '1' },
    'lease-ttl-ms': { type: 'string', arg: 'MS', help: 'lease TTL', default: '10000' },
    'duplicate-window-ms': { type: 'string', arg: 'MS', help: 'output duplicate window', default: '120000' },
    'input-max-age-ms': { type: 'string', arg: 'MS', help: 'input retention, 0 = keep', default: '0' },
    'output-max-age-ms': { type: 'string', arg: 'MS', help: 'output retention, 0 = keep', default: '0' },
  },
  examples: [
    'rxrnn-nats setup --partitions 8',
    'rxrnn-nats setup --servers nats://n1:4222,nats://n2:4222,nats://n3:4222 --partitions 32 --replicas 3',
  ],
  async run(v, io) {
    const partitions = int(v, 'partitions', undefined, 1, 4096);
    if (partitions === undefined) throw new UsageError('--partitions is required');
    const replicas = Number(choice(v, 'replicas', ['1', '3', '5'] as const, '1')) as 1 | 3 | 5;
    return withConnection(v, async (nc) => {
      let d: Deployment;
      try {
        d = await setupDeployment(nc, {
          stream: v.stream as string,
          partitions,
          replicas,
          leaseTtlMs: int(v, 'lease-ttl-ms', 10_000, 500),
          duplicateWindowMs: int(v, 'duplicate-window-ms', 120_000, 1),
          inputMaxAgeMs: int(v, 'input-max-age-ms', 0, 0),
          outputMaxAgeMs: int(v, 'output-max-age-ms', 0, 0),
        });
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      io.stdout.write(
        `${JSON.stringify({ stream: d.names.name, partitions: d.partitions, replicas: d.replicas, leaseTtlMs: d.leaseTtlMs, duplicateWindowMs: d.duplicateWindowMs, input: `${d.names.inputPrefix}.<partition>.<key>`, output: `${d.names.outputPrefix}.<key>` })}\n`,
      );
      return 0;
    });
  },
};

const model: Command = {
  name: 'model',
  summary: 'publish a model bundle (a trainer checkpoint, or fresh weights) to the object store; prints its sha256',
  usage:
    'model put (--checkpoint FILE | --fresh --vocab-file FILE [--cell lstm] [--hidden N] [--layers N] [--seed N]) [--servers URLS] [--stream NAME]',
  flags: {
    ...CONNECTION_FLAGS,
    checkpoint: { type: 'string', arg: 'FILE', help: 'a checkpoint written by charstream train / @rxrnn/trainer' },
    fresh: { type: 'boolean', help: 'publish freshly initialised weights instead (demos, load tests)' },
    'vocab-file': { type: 'string', arg: 'FILE', help: '--fresh: the characters of this text file are the vocabulary' },
    cell: { type: 'string', arg: 'rnn|gru|lstm', help: '--fresh: cell', default: 'lstm' },
    hidden: { type: 'string', arg: 'N', help: '--fresh: hidden size', default: '128' },
    layers: { type: 'string', arg: 'N', help: '--fresh: layers', default: '1' },
    seed: { type: 'string', arg: 'N', help: '--fresh: initialisation seed', default: '1' },
  },
  examples: [
    'rxrnn-nats model put --checkpoint charstream.ckpt',
    'rxrnn-nats model put --fresh --vocab-file corpus.txt --cell gru --hidden 64',
  ],
  async run(v, io) {
    let bytes: Uint8Array;
    if (v.checkpoint !== undefined) {
      if (v.fresh) throw new UsageError('give --checkpoint or --fresh, not both');
      try {
        bytes = readFileSync(v.checkpoint as string);
      } catch (e) {
        throw new CliError(`cannot read ${v.checkpoint}: ${(e as Error).message}`);
      }
    } else if (v.fresh) {
      if (v['vocab-file'] === undefined) throw new UsageError('--fresh needs --vocab-file');
      let text: string;
      try {
        text = readFileSync(v['vocab-file'] as string, 'utf8');
      } catch (e) {
        throw new CliError(`cannot read ${v['vocab-file']}: ${(e as Error).message}`);
      }
      if (text.length === 0) throw new CliError(`${v['vocab-file']} is empty: no vocabulary`);
      const m = new CharModel({
        cell: choice(v, 'cell', ['rnn', 'gru', 'lstm'] as const, 'lstm'),
        vocab: Vocabulary.fromText(text).chars,
        hidden: int(v, 'hidden', 128, 1, 4096)!,
        layers: int(v, 'layers', 1, 1, 16)!,
        seed: int(v, 'seed', 1, 0, 2 ** 31 - 1)!,
      });
      bytes = encodeCheckpoint(weightsCheckpoint(m));
    } else throw new UsageError('give --checkpoint FILE or --fresh');
    return withConnection(v, async (nc) => {
      const d = await open(nc, v);
      let hash: string;
      try {
        hash = await publishModel(d.models, bytes);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      io.stdout.write(`sha256:${hash}\n`);
      return 0;
    });
  },
};

const worker: Command = {
  name: 'worker',
  summary: 'run a worker: own a fair share of the partitions and step their keys until Ctrl-C',
  usage: 'worker --model sha256:HEX [--partitions P] [--output logits|sample|surprisal] [flags]',
  flags: {
    ...CONNECTION_FLAGS,
    model: { type: 'string', arg: 'sha256:HEX', help: 'the model bundle to run (from model put)' },
    partitions: { type: 'string', arg: 'P', help: 'set the deployment up with P partitions if it does not exist' },
    replicas: { type: 'string', arg: '1|3|5', help: 'replicas when the deployment is created', default: '1' },
    output: { type: 'string', arg: 'logits|sample|surprisal', help: 'what each event produces', default: 'logits' },
    encoding: { type: 'string', arg: 'json|msgpack', help: 'output message encoding', default: 'json' },
    temperature: { type: 'string', arg: 'T', help: 'output sample: temperature', default: '1' },
    seed: {
      type: 'string',
      arg: 'N',
      help: 'output sample: base seed (a key draws with seed XOR hash(key))',
      default: '0',
    },
    'max-keys': { type: 'string', arg: 'N', help: 'key states in memory per partition', default: '10000' },
    'max-batch': { type: 'string', arg: 'N', help: 'keys stepped as one batch', default: '64' },
    'max-delay-ms': { type: 'string', arg: 'MS', help: 'longest wait for a batch to fill', default: '0' },
    'checkpoint-interval-ms': { type: 'string', arg: 'MS', help: 'checkpoint period per partition', default: '2000' },
    'on-model-change': { type: 'string', arg: 'refuse|keep', help: 'states of another model', default: 'refuse' },
    'worker-id': { type: 'string', arg: 'ID', help: 'unique worker id (default host-pid-random)' },
    'stats-ms': { type: 'string', arg: 'MS', help: 'print a stats JSON line this often (0 = never)', default: '0' },
    quiet: { type: 'boolean', help: 'no diagnostics on stderr' },
  },
  examples: [
    'rxrnn-nats worker --model sha256:9f2c… --partitions 8',
    'rxrnn-nats worker --servers nats://n1:4222,nats://n2:4222,nats://n3:4222 --model sha256:9f2c… --output surprisal --stats-ms 10000',
  ],
  async run(v, io) {
    if (v.model === undefined) throw new UsageError('--model is required (sha256:… from `rxrnn-nats model put`)');
    const output = choice(v, 'output', ['logits', 'sample', 'surprisal'] as const, 'logits');
    const log = v.quiet ? undefined : (m: string) => io.stderr.write(`${new Date().toISOString()} ${m}\n`);
    let w: Awaited<ReturnType<typeof runWorker>>;
    try {
      w = await runWorker({
        servers: servers(v),
        stream: v.stream as string,
        model: v.model as string,
        partitions: int(v, 'partitions', undefined, 1, 4096),
        replicas: Number(choice(v, 'replicas', ['1', '3', '5'] as const, '1')) as 1 | 3 | 5,
        output,
        outputEncoding: choice(v, 'encoding', ['json', 'msgpack'] as const, 'json'),
        ...(output === 'sample'
          ? { sampling: { temperature: num(v, 'temperature', 1, 0)!, seed: int(v, 'seed', 0, 0, 2 ** 31 - 1)! } }
          : {}),
        maxKeys: int(v, 'max-keys', 10_000, 1),
        maxBatch: int(v, 'max-batch', 64, 1),
        maxDelayMs: num(v, 'max-delay-ms', 0, 0),
        checkpointIntervalMs: int(v, 'checkpoint-interval-ms', 2000, 10),
        onModelChange: choice(v, 'on-model-change', ['refuse', 'keep'] as const, 'refuse'),
        ...(v['worker-id'] !== undefined ? { workerId: v['worker-id'] as string } : {}),
        ...(log ? { log } : {}),
      });
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) throw new UsageError(e.message);
      throw new CliError((e as Error).message);
    }
    const statsMs = int(v, 'stats-ms', 0, 0)!;
    const timer =
      statsMs > 0 ? setInterval(() => io.stdout.write(`${JSON.stringify(w.stats())}\n`), statsMs) : undefined;
    await Promise.race([io.interrupted, w.done]);
    clearInterval(timer);
    // The counters as the worker stops (its partitions' last checkpoints follow on stderr).
    io.stdout.write(`${JSON.stringify(w.stats())}\n`);
    await w.stop();
    return 0;
  },
};

const publish: Command = {
  name: 'publish',
  summary: 'publish events from stdin: each character of a line "KEY<TAB>TEXT" is an event of KEY',
  usage: 'publish [--key KEY] [--servers URLS] [--stream NAME] < lines',
  flags: {
    ...CONNECTION_FLAGS,
    key: { type: 'string', arg: 'KEY', help: 'all of stdin is the text of this one key (no KEY<TAB> prefix)' },
  },
  examples: [
    "printf 'alice\\thello there\\nbob\\tgood morning\\n' | rxrnn-nats publish",
    'rxrnn-nats publish --key log-7 < app.log',
  ],
  async run(v, io) {
    let text = '';
    for await (const chunk of io.stdin) text += chunk.toString();
    const events: { key: string; value: string }[] = [];
    if (v.key !== undefined) {
      for (const ch of text) events.push({ key: v.key as string, value: ch });
    } else {
      for (const [i, line] of text.split('\n').entries()) {
        if (line === '') continue;
        const tab = line.indexOf('\t');
        if (tab <= 0)
          throw new CliError(`line ${i + 1}: expected KEY<TAB>TEXT, got ${JSON.stringify(line.slice(0, 40))}`);
        for (const ch of line.slice(tab + 1)) events.push({ key: line.slice(0, tab), value: ch });
      }
    }
    return withConnection(v, async (nc) => {
      const d = await open(nc, v);
      let seqs: number[];
      try {
        seqs = await publishEvents(d, events);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      io.stderr.write(
        `published ${seqs.length} events${seqs.length ? ` (input sequences ${Math.min(...seqs)}..${Math.max(...seqs)})` : ''}\n`,
      );
      return 0;
    });
  },
};

const tail: Command = {
  name: 'tail',
  summary: 'print outputs as JSON lines as they arrive (from the start of the output stream with --all)',
  usage: 'tail [--key KEY] [--all] [--count N] [--servers URLS] [--stream NAME]',
  flags: {
    ...CONNECTION_FLAGS,
    key: { type: 'string', arg: 'KEY', help: 'only this key' },
    all: { type: 'boolean', help: 'start at the first stored output, not at new ones' },
    count: { type: 'string', arg: 'N', help: 'stop after N outputs' },
  },
  examples: ['rxrnn-nats tail --all --count 10', 'rxrnn-nats tail --key alice'],
  async run(v, io) {
    const count = int(v, 'count', undefined, 1);
    return withConnection(v, async (nc) => {
      const d = await open(nc, v);
      const consumer = await d.js.consumers.get(d.names.outputStream, {
        deliver_policy: v.all ? DeliverPolicy.All : DeliverPolicy.New,
        filter_subjects: v.key !== undefined ? d.outputSubject(v.key as string) : `${d.names.outputPrefix}.>`,
      });
      const messages = await consumer.consume();
      void io.interrupted.then(() => messages.stop());
      let n = 0;
      for await (const m of messages) {
        let line: string;
        try {
          line = JSON.stringify(decodeOutput(m.data));
        } catch (e) {
          line = JSON.stringify({ subject: m.subject, invalid: (e as Error).message });
        }
        io.stdout.write(`${line}\n`);
        if (count !== undefined && ++n >= count) break;
      }
      messages.stop();
      return 0;
    });
  },
};

const status: Command = {
  name: 'status',
  summary: 'workers, partition owners, checkpoints and lag of a deployment (JSON)',
  usage: 'status [--servers URLS] [--stream NAME]',
  flags: { ...CONNECTION_FLAGS },
  examples: ['rxrnn-nats status'],
  async run(v, io) {
    return withConnection(v, async (nc) => {
      const d = await open(nc, v);
      const workers: string[] = [];
      for await (const k of await d.leases.keys('worker.*')) workers.push(k.slice('worker.'.length));
      const input = await d.jsm.streams.info(d.names.inputStream);
      const output = await d.jsm.streams.info(d.names.outputStream);
      const partitions = [];
      for (let p = 0; p < d.partitions; p++) {
        const lease = await d.leases.get(leaseKey(p));
        const entry = await d.state.get(partitionKey(p));
        const rec =
          entry?.operation === 'PUT'
            ? decodePartitionRecord(entry.value, `KV ${d.names.stateBucket}/${partitionKey(p)}`, p, d.partitions)
            : undefined;
        let pending: number | undefined;
        try {
          pending = rec
            ? (await d.jsm.consumers.info(d.names.inputStream, d.consumerName(p, rec.epoch))).num_pending
            : undefined;
        } catch {
          pending = undefined;
        }
        partitions.push({
          partition: p,
          owner: lease?.operation === 'PUT' ? (JSON.parse(lease.string()) as { worker: string }).worker : null,
          checkpointSeq: rec?.seq ?? 0,
          epoch: rec?.epoch ?? 0,
          checkpointAgeMs: rec ? Date.now() - rec.time : null,
          model: rec ? `sha256:${rec.model}` : null,
          pending,
        });
      }
      io.stdout.write(
        `${JSON.stringify(
          {
            stream: d.names.name,
            partitions: d.partitions,
            replicas: d.replicas,
            leaseTtlMs: d.leaseTtlMs,
            duplicateWindowMs: d.duplicateWindowMs,
            workers: workers.sort(),
            input: { messages: input.state.messages, firstSeq: input.state.first_seq, lastSeq: input.state.last_seq },
            output: { messages: output.state.messages },
            perPartition: partitions,
          },
          null,
          2,
        )}\n`,
      );
      return 0;
    });
  },
};

const DEMO_TEXT: Record<string, string> = {
  alice: 'streams of events arrive one at a time, and each key keeps its own hidden state. ',
  bob: 'a worker owns a few partitions; when it stops, another one takes them over. ',
  carol: 'checkpoints go to a key value bucket, results to an output stream, once each. ',
};

const demo: Command = {
  name: 'demo',
  summary: 'the whole thing on this machine: a local nats-server, two workers, a hand-over, an audit',
  usage: 'demo [--workers N] [--nodes 1|3]',
  flags: {
    workers: { type: 'string', arg: 'N', help: 'workers (in this process)', default: '2' },
    nodes: { type: 'string', arg: '1|3', help: 'one nats-server or a 3-node cluster (replicas 3)', default: '1' },
  },
  examples: ['rxrnn-nats demo', 'rxrnn-nats demo --workers 3 --nodes 3'],
  async run(v, io) {
    const workers = int(v, 'workers', 2, 1, 8)!;
    const nodes = choice(v, 'nodes', ['1', '3'] as const, '1') === '3' ? 3 : 1;
    const say = (m: string) => io.stdout.write(`${m}\n`);
    const nats = await startLocalNats({ nodes });
    let nc: NatsConnection | undefined;
    const running: Awaited<ReturnType<typeof runWorker>>[] = [];
    try {
      say(`nats-server: ${nats.servers.join(', ')} (${nodes === 3 ? '3-node cluster, replicas 3' : 'one node'})`);
      nc = await connectNats(nats.servers);
      const d = await setupDeployment(nc, {
        stream: 'demo',
        partitions: 4,
        replicas: nodes,
        leaseTtlMs: 2000,
        timeoutMs: 60_000,
      });
      const text = Object.values(DEMO_TEXT).join('');
      const m = new CharModel({ cell: 'gru', vocab: Vocabulary.fromText(text).chars, hidden: 32, seed: 1 });
      const hash = await publishModel(d.models, encodeCheckpoint(weightsCheckpoint(m)));
      say(`model: sha256:${hash} (a fresh GRU-32 over ${m.vocabSize} characters)`);
      for (let i = 0; i < workers; i++) {
        running.push(
          await runWorker({
            servers: nats.servers,
            stream: 'demo',
            model: `sha256:${hash}`,
            output: 'surprisal',
            workerId: `demo-${i}`,
            checkpointIntervalMs: 500,
          }),
        );
      }
      for (let i = 0; i < 100 && running.reduce((n, w) => n + w.owned().length, 0) < 4; i++) await sleep(100);
      say(`workers: ${running.map((w) => `${w.id} owns partitions ${w.owned().join(',')}`).join('; ')}`);
      const events = (from: number, to: number) =>
        Object.entries(DEMO_TEXT).flatMap(([key, t]) => [...t.slice(from, to)].map((ch) => ({ key, value: ch })));
      await publishEvents(d, events(0, 40));
      if (running.length > 1) {
        await running[running.length - 1]!.stop();
        say(`stopped ${running.pop()!.id}: its partitions were checkpointed and handed over`);
      }
      await publishEvents(d, events(40, Number.POSITIVE_INFINITY));
      const expected = text.length;
      for (let i = 0; i < 600; i++) {
        if ((await d.jsm.streams.info(d.names.outputStream)).state.messages >= expected) break;
        await sleep(100);
      }
      for (const [key, t] of Object.entries(DEMO_TEXT)) {
        const outs = (await readOutputs(d)).filter(
          (o) => o.key === key && 'output' in o && typeof o.output === 'number',
        );
        const bits = outs.map((o) => (o as { output: number }).output);
        say(
          `${key}: ${outs.length + 1} of ${t.length} characters scored, mean surprisal ${(bits.reduce((a, b) => a + b, 0) / bits.length).toFixed(2)} bits (untrained model: about log2 V = ${Math.log2(m.vocabSize).toFixed(2)})`,
        );
      }
      for (const w of running) await w.stop();
      running.length = 0;
      const audit = await verifyOutputs(d, m, { output: 'surprisal' });
      say(
        `audit against one uninterrupted process: ${audit.events} events, ${audit.outputs} outputs, lost ${audit.lost}, duplicated ${audit.duplicated}, mismatched ${audit.mismatched}, max |diff| ${audit.maxAbsDiff}`,
      );
      return audit.lost + audit.duplicated + audit.mismatched + audit.unexpected === 0 ? 0 : 1;
    } finally {
      for (const w of running) await w.stop().catch(() => {});
      await nc?.close().catch(() => {});
      await nats.close();
    }
  },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every command, in the order of the usage. */
export const COMMANDS: readonly Command[] = [demo, local, setup, model, worker, publish, tail, status];
