// The rxrnn-nats command line as a user runs it (a child process from TypeScript source, as
// `npm run nats` does): help and usage errors with their exit codes, and the commands end to end
// on a local nats-server — setup, model put, worker, publish, tail, status — and the demo, whose
// audit against a single-process run is the oracle.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { type LocalNats, startLocalNats } from '../src/local-server.js';
import { MUST_RUN, requireServer } from './helpers.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.ts');
const live = new Set<ChildProcess>();
afterAll(() => {
  for (const c of live) c.kill('SIGKILL');
});

function start(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@rxrnn/source', CLI, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', NATS_URL: '' },
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function run(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = start(args);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin!.end(input);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** main() in this process with captured streams (usage paths need no child process). */
async function runHere(
  args: string[],
  input = '',
  interrupted: Promise<void> = new Promise(() => {}),
  onStderr?: (s: string) => void,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (f: (s: string) => void) =>
    ({
      write: (s: string) => {
        f(s);
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const code = await main(args, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => {
      stderr += s;
      onStderr?.(s);
    }),
    stdin: Readable.from(input === '' ? [] : [Buffer.from(input)]),
    interrupted,
  });
  return { code, stdout, stderr };
}

describe('rxrnn-nats usage', () => {
  it('prints the commands, a command’s flags and examples, and refuses bad command lines with exit code 2', async () => {
    const help = await runHere(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['demo', 'local', 'setup', 'model', 'worker', 'publish', 'tail', 'status'])
      expect(help.stdout).toContain(`  ${c} `);
    const worker = await runHere(['worker', '--help']);
    expect(worker.code).toBe(0);
    expect(worker.stdout).toMatch(
      /--model sha256:HEX[\s\S]*--checkpoint-interval-ms MS[\s\S]*examples:\n {2}rxrnn-nats worker/,
    );
    const none = await runHere([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: rxrnn-nats <command>');
    const unknown = await runHere(['frobnicate']);
    expect([unknown.code, unknown.stderr.split('\n')[0]]).toEqual([2, 'rxrnn-nats: unknown command "frobnicate"']);
    const missing = await runHere(['setup']);
    expect([missing.code, missing.stderr.split('\n')[0]]).toEqual([2, 'rxrnn-nats setup: --partitions is required']);
    const bad = await runHere(['setup', '--partitions', 'x']);
    expect(bad.stderr.split('\n')[0]).toBe('rxrnn-nats setup: --partitions "x", expected an integer');
    const flag = await runHere(['tail', '--follow']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.split('\n')[0]).toMatch(/^rxrnn-nats tail: Unknown option '--follow'/);
    const noModel = await runHere(['model', 'get']);
    expect(noModel.stderr.split('\n')[0]).toBe('rxrnn-nats model: expected "model put", got "get"');
    const noServer = await runHere(['status', '--servers', 'nats://127.0.0.1:1']);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toMatch(/^rxrnn-nats status: cannot connect to nats:\/\/127\.0\.0\.1:1/);
  });

  it('runs as a program: exit code and output of the bin', async () => {
    const r = await run(['--help']);
    expect([r.code, r.stdout.split('\n')[0]]).toEqual([0, 'usage: rxrnn-nats <command> [--flags]']);
  });
});

describe.skipIf(!MUST_RUN)('rxrnn-nats on a local nats-server', () => {
  let nats: LocalNats | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await nats?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('setup, model put, worker, publish, tail and status work together', async () => {
    requireServer();
    nats = await startLocalNats();
    dir = mkdtempSync(join(tmpdir(), 'rxrnn-nats-cli-'));
    const s = ['--servers', nats.servers.join(','), '--stream', 'cli'];
    const setup = await runHere(['setup', ...s, '--partitions', '3', '--lease-ttl-ms', '1500']);
    expect(setup.code, setup.stderr).toBe(0);
    expect(JSON.parse(setup.stdout)).toMatchObject({ stream: 'cli', partitions: 3, replicas: 1, leaseTtlMs: 1500 });
    const vocab = join(dir, 'vocab.txt');
    writeFileSync(vocab, 'abc def\n');
    const put = await runHere(['model', 'put', ...s, '--fresh', '--vocab-file', vocab, '--hidden', '8']);
    expect(put.code, put.stderr).toBe(0);
    const model = put.stdout.trim();
    expect(model).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The worker runs until "Ctrl-C" (its interrupted promise), in this process.
    let stop = () => {};
    const interrupted = new Promise<void>((resolve) => {
      stop = resolve;
    });
    let log = '';
    let running = () => {};
    const allRunning = new Promise<void>((resolve) => {
      running = resolve;
    });
    const worker = runHere(
      ['worker', ...s, '--model', model, '--output', 'sample', '--seed', '3', '--checkpoint-interval-ms', '200'],
      '',
      interrupted,
      (line) => {
        log += line;
        if ((log.match(/running from sequence/g) ?? []).length === 3) running();
      },
    );
    await allRunning;
    const published = await runHere(['publish', ...s], 'k1\tabc\nk2\tdd\n');
    expect(published.code, published.stderr).toBe(0);
    expect(published.stderr).toMatch(/^published 5 events/);
    const tail = await runHere(['tail', ...s, '--all', '--count', '5']);
    expect(tail.code, tail.stderr).toBe(0);
    const outs = tail.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; seq: number; output: number });
    expect(outs.map((o) => o.key).sort()).toEqual(['k1', 'k1', 'k1', 'k2', 'k2']);
    for (const o of outs) expect(Number.isInteger(o.output) && o.output >= 0 && o.output < 8).toBe(true);
    const bad = await runHere(['publish', ...s], 'no tab here\n');
    expect([bad.code, bad.stderr.trim()]).toEqual([
      2,
      'rxrnn-nats publish: line 1: expected KEY<TAB>TEXT, got "no tab here"',
    ]);
    const status = JSON.parse((await runHere(['status', ...s])).stdout) as {
      workers: string[];
      perPartition: { owner: string | null; checkpointSeq: number }[];
    };
    expect(status.workers).toHaveLength(1);
    expect(status.perPartition.every((p) => p.owner === status.workers[0])).toBe(true);
    stop();
    const done = await worker;
    expect(done.code, log).toBe(0);
    expect(log).toMatch(/checkpointed at \d+ and released/);
    // Its last line on stdout: the counters as it stopped, one record per partition it ran.
    const last = JSON.parse(done.stdout.trim().split('\n').pop()!) as { partitions: { events: number }[] };
    expect(last.partitions).toHaveLength(3);
    expect(last.partitions.reduce((n, p) => n + p.events, 0)).toBe(5);
  });

  it('demo: a hand-over between two workers, audited against one process', async () => {
    requireServer();
    const r = await runHere(['demo']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/stopped demo-1: its partitions were checkpointed and handed over/);
    expect(r.stdout).toMatch(
      /audit against one uninterrupted process: 235 events, 235 outputs, lost 0, duplicated 0, mismatched 0/,
    );
  });
});
