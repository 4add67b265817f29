// The CLI end to end, as child processes: exit codes and usage, train (file and stdin) with its
// JSON summary, plot and checkpoint, sample and score on a checkpoint trained here, bad
// checkpoints, and Ctrl-C (SIGINT) during training saving a final checkpoint atomically.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { loadCheckpoint } from '@rxrnn/trainer/node';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROOT, finished, runCli, startCli, stopChildren, tempDir, waitFor, writeCorpus } from './helpers.js';

const REPO = join(APP_ROOT, '..', '..');

const tmp = tempDir();
let corpus: string;
let ckpt: string;
// Small, one thread, constant rate: a resumed run then continues the straight one exactly.
const TINY = [
  '--hidden',
  '16',
  '--embedding',
  '8',
  '--seq',
  '16',
  '--batch',
  '4',
  '--seed',
  '3',
  '--threads',
  '1',
  '--schedule',
  'constant',
];

beforeAll(async () => {
  corpus = writeCorpus(tmp.dir);
  ckpt = join(tmp.dir, 'tiny.ckpt');
  // A step budget, not a time budget: the same model however loaded the machine is.
  const r = await runCli([
    'train',
    '--input',
    corpus,
    ...TINY,
    '--steps',
    '300',
    '--checkpoint',
    ckpt,
    '--plot',
    join(tmp.dir, 'loss.svg'),
    '--json',
  ]);
  expect(r.stderr).not.toContain('error');
  expect(r.code).toBe(0);
  writeFileSync(join(tmp.dir, 'summary.json'), r.stdout);
});
afterAll(() => {
  stopChildren();
  tmp.cleanup();
});

describe('charstream train', () => {
  it('prints a JSON summary, writes the checkpoint and a loss plot with both curves', () => {
    const summary = JSON.parse(readFileSync(join(tmp.dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      command: 'train',
      mode: 'offline',
      checkpoint: ckpt,
      model: { cell: 'lstm', hidden: 16, layers: 1 },
    });
    expect(summary.steps).toBe(300);
    expect(summary.stoppedBy).toBe('steps');
    expect(summary.train.bpc).toBeCloseTo(summary.train.nats / Math.LN2, 10);
    expect(summary.validation.nats).toBeGreaterThan(0);
    const saved = loadCheckpoint(ckpt);
    expect(saved.counters.step).toBe(summary.steps);
    const svg = readFileSync(join(tmp.dir, 'loss.svg'), 'utf8');
    expect(svg).toContain('class="train"');
    expect(svg).toContain('class="val"');
    expect(svg).toContain('loss (nats/char)');
  });

  it('--resume continues a file run exactly where it stopped: 300 + 40 updates equal 340 in one go', async () => {
    const resumed = join(tmp.dir, 'resumed.ckpt');
    const straight = join(tmp.dir, 'straight.ckpt');
    copyFileSync(ckpt, resumed);
    const [r, s] = await Promise.all([
      runCli(['train', '--input', corpus, '--resume', '--steps', '340', '--checkpoint', resumed, '--json']),
      runCli(['train', '--input', corpus, ...TINY, '--steps', '340', '--checkpoint', straight, '--json']),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(s.code, s.stderr).toBe(0);
    expect(r.stderr).toContain(`resuming from ${resumed} at step 300`);
    expect(JSON.parse(r.stdout)).toMatchObject({
      mode: 'offline',
      resumedFrom: 300,
      steps: 340,
      model: { hidden: 16 },
    });
    const a = loadCheckpoint(resumed);
    const b = loadCheckpoint(straight);
    expect(a.counters.step).toBe(340);
    expect([...a.params]).toEqual([...b.params]);
    expect(a.history.length).toBeGreaterThan(loadCheckpoint(ckpt).history.length);
  });

  it('--resume refuses a checkpoint of the other kind, naming it', async () => {
    const r = await runCli(['train', '--input', '-', '--resume', '--checkpoint', ckpt], 'some text\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--resume: ${ckpt} was written by training on a file; resume it with a file --input`);
  });

  it('carries the dropout flags and --optimizer/--weight-decay into the model, checkpoint and summary', async () => {
    const out = join(tmp.dir, 'dropout.ckpt');
    const flags = ['--dropout', '0.3', '--output-dropout', '0.1', '--recurrent-dropout', '0.2', '--optimizer', 'adamw'];
    const [file, stdin] = await Promise.all([
      runCli([
        'train',
        '--input',
        corpus,
        ...TINY,
        '--layers',
        '2',
        ...flags,
        '--weight-decay',
        '0.05',
        '--steps',
        '5',
        '--checkpoint',
        out,
        '--json',
      ]),
      runCli(
        ['train', '--input', '-', ...TINY, ...flags, '--checkpoint', join(tmp.dir, 'drop-stdin.ckpt'), '--json'],
        readFileSync(corpus, 'utf8').slice(0, 3000),
      ),
    ]);
    expect(file.code, file.stderr).toBe(0);
    const dropout = { dropout: 0.3, embedding: 0.3, output: 0.1, input: 0, recurrent: 0.2 };
    const summary = JSON.parse(file.stdout);
    expect(summary.model).toMatchObject({ layers: 2, dropout });
    expect(summary.optimizer).toEqual({ kind: 'adamw', weightDecay: 0.05 });
    const saved = loadCheckpoint(out);
    expect(saved.model).toMatchObject({
      dropout: 0.3,
      embeddingDropout: 0.3,
      outputDropout: 0.1,
      inputDropout: 0,
      recurrentDropout: 0.2,
    });
    expect(saved.optimizer.options).toMatchObject({ decoupled: true, weightDecay: 0.05 });
    // Online from stdin: the same model flags; AdamW's own default decay.
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(JSON.parse(stdin.stdout)).toMatchObject({
      mode: 'online',
      model: { dropout },
      optimizer: { kind: 'adamw', weightDecay: 0.01 },
    });
    // The defaults (the run of beforeAll): `train`'s dropout 0.25 with 0.1 on the embedding (no
    // variational dropout), Adam without decay. (Given --dropout, the embedding's follows it: above.)
    const plain = loadCheckpoint(ckpt);
    expect(plain.model).toMatchObject({
      dropout: 0.25,
      embeddingDropout: 0.1,
      outputDropout: 0.25,
      inputDropout: 0,
      recurrentDropout: 0,
    });
    expect(plain.optimizer).toMatchObject({ kind: 'adam', options: { weightDecay: 0, decoupled: false } });
    const bad = await runCli(['train', '--input', corpus, '--dropout', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--dropout 1, expected <= 0.99/);
    const badOpt = await runCli(['train', '--input', corpus, '--optimizer', 'sgd']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.stderr).toMatch(/--optimizer "sgd", expected one of adam, adamw/);
  });

  it('trains online from stdin until it ends', async () => {
    const out = join(tmp.dir, 'stdin.ckpt');
    const text = readFileSync(corpus, 'utf8').slice(0, 6000);
    const r = await runCli(['train', '--input', '-', ...TINY, '--checkpoint', out, '--json'], text);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ mode: 'online', stoppedBy: 'end' });
    // Every 20th block of 256 characters is held out for validation, the rest is trained on.
    expect(summary.tokens).toBeGreaterThan(5000);
    expect(summary.tokens).toBeLessThanOrEqual(6000);
    expect(summary.validation.nats).toBeGreaterThan(0);
    expect(loadCheckpoint(out).training.mode).toBe('online');

    // --resume: the same model and optimizer go on learning from more text.
    const more = await runCli(
      ['train', '--input', '-', '--resume', '--checkpoint', out, '--json'],
      readFileSync(corpus, 'utf8').slice(6000, 9000),
    );
    expect(more.code, more.stderr).toBe(0);
    const next = JSON.parse(more.stdout);
    expect(next.resumedFrom).toBe(summary.steps);
    expect(loadCheckpoint(out).counters.step).toBe(next.steps);
    expect(next.steps).toBeGreaterThan(summary.steps);
    expect(next.tokens).toBeGreaterThan(summary.tokens);
  });

  it('says clearly when stdin has no text', async () => {
    const r = await runCli(['train', '--input', '-', ...TINY, '--checkpoint', join(tmp.dir, 'none.ckpt')], '');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stdin ended before one window of text arrived/);
  });

  it('refuses a text too short for the batch', async () => {
    const small = join(tmp.dir, 'small.txt');
    writeFileSync(small, 'abc abc abc');
    const r = await runCli(['train', '--input', small, '--checkpoint', join(tmp.dir, 'x.ckpt')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has 11 characters; --batch 32 --seq 64 need at least/);
  });

  it('writes periodic checkpoints, then a final one on SIGINT, and exits 0', async () => {
    const out = join(tmp.dir, 'sigint.ckpt');
    const child = startCli([
      'train',
      '--input',
      corpus,
      ...TINY,
      '--seconds',
      '120',
      '--checkpoint',
      out,
      '--checkpoint-every',
      '0.3',
    ]);
    const done = finished(child);
    // A periodic checkpoint appears while training runs, and is always whole (temp file + rename).
    let periodic = null;
    for (let i = 0; i < 300 && periodic === null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      if (existsSync(out)) periodic = loadCheckpoint(out);
    }
    expect(periodic).not.toBeNull();
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/interrupted; trained \d+ steps/);
    const saved = loadCheckpoint(out);
    expect(saved.counters.step).toBeGreaterThanOrEqual(periodic!.counters.step);
    expect(readdirSync(tmp.dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});

describe('charstream train --input - (online)', () => {
  it('saves what it learned from stdin on SIGINT while the stream is still open', async () => {
    const out = join(tmp.dir, 'stdin-sigint.ckpt');
    const child = startCli(['train', '--input', '-', ...TINY, '--checkpoint', out, '--checkpoint-every', '0.2']);
    const done = finished(child);
    child.stdin!.write(readFileSync(corpus, 'utf8').slice(0, 4000));
    // The first periodic checkpoint says training is under way.
    for (let i = 0; i < 300 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(out)).toBe(true);
    rmSync(out);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(0);
    expect(loadCheckpoint(out).counters.step).toBeGreaterThan(0);
  });
});

describe('charstream (the demo, no command)', () => {
  it('trains on the built-in corpus for its time budget, then prints a final sample and exits 0', async () => {
    const r = await runCli(['--seconds', '1.5', '--hidden', '16', '--sample-every', '0.5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /online training of a 1-layer LSTM \(hidden 16, \d+ parameters, 46 characters\) on the built-in corpus/,
    );
    expect(r.stdout).toMatch(/sample: /);
    expect(r.stdout).toMatch(/Done after \d+\.\ds: \d+ updates, \d+ characters/);
    expect(r.stdout).toMatch(/Final sample \(temperature 0\.7\):\n## notes/);
  });
});

describe('charstream sample', () => {
  it('streams the asked number of characters, the same for the same seed', async () => {
    const args = ['sample', '--checkpoint', ckpt, '--length', '120', '--seed', '5', '--prime', '## ', '--top-k', '5'];
    const [a, b] = await Promise.all([runCli(args), runCli(args)]);
    expect(a.code).toBe(0);
    // The prime, the 120 generated characters, and a newline unless the text ended with one.
    expect(a.stdout.startsWith('## ')).toBe(true);
    const body = [...a.stdout.slice(3)];
    expect(body.at(-1)).toBe('\n');
    expect(body.length === 120 || body.length === 121).toBe(true);
    expect(b.stdout).toBe(a.stdout);
    // A helper thread sharing the steps changes nothing in the text, and the process still ends.
    const threaded = await runCli([...args, '--step-threads', '2']);
    expect(threaded.code).toBe(0);
    expect(threaded.stdout).toBe(a.stdout);
  });

  it('refuses a prime outside the vocabulary', async () => {
    const r = await runCli(['sample', '--checkpoint', ckpt, '--prime', 'é']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--prime has "é", which the model's vocabulary of \d+ characters does not contain/);
  });
});

describe('charstream score', () => {
  it('scores each line in bits/char, unusual lines higher', async () => {
    const lines = 'The cell reads the next character.\nqzxv#@!jk wq\n';
    const r = await runCli(['score', '--checkpoint', ckpt, '--json'], lines);
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => x.text)).toEqual(['The cell reads the next character.', 'qzxv#@!jk wq']);
    expect(rows[0].chars).toBe(35);
    expect(rows[1].bits).toBeGreaterThan(rows[0].bits);
  });

  it('prints each line as soon as it is complete, before the input ends', async () => {
    const child = startCli(['score', '--checkpoint', ckpt]);
    const done = finished(child);
    child.stdin!.write('The cell reads.\nThe model le');
    const seen = await waitFor(child.stdout!, /The cell reads\.\n/);
    expect(seen).not.toContain('The model');
    child.stdin!.end('arns.\n');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+\d+\.\d{3} {2}The cell reads\.\n\s+\d+\.\d{3} {2}The model learns\.\n$/);
  });

  it('learns from the stream with --learn (dynamic evaluation) and marks lines over --threshold', async () => {
    const text = 'step=00001 loss=1.00 bpc=1.44 clip=no\n'.repeat(60);
    const frozen = await runCli(['score', '--checkpoint', ckpt, '--json'], text);
    const learning = await runCli(
      ['score', '--checkpoint', ckpt, '--json', '--learn', '--lr', '0.01', '--seq', '16'],
      text,
    );
    const last = (r: { stdout: string }) => JSON.parse(r.stdout.trim().split('\n').at(-1)!).bits as number;
    expect(learning.code).toBe(0);
    expect(last(learning)).toBeLessThan(last(frozen));
    const marked = await runCli(['score', '--checkpoint', ckpt, '--threshold', '0'], 'abc\n');
    expect(marked.stdout).toMatch(/^!\s+\d+\.\d{3} {2}abc$/m);
    expect(marked.stderr).toContain('1 of 1 lines above 0 bits/char');
  });
});

// Independent child processes: run them side by side.
describe.concurrent('exit codes and errors', () => {
  it.each([
    [['bogus'], /unknown command "bogus"/],
    [['train', '--input', 'x', '--wat'], /unknown flag --wat/],
    [['train', '--input', 'x', '--hidden', 'big'], /--hidden "big", expected an integer/],
    [['sample', '--checkpoint', 'x', '--temperature', '0'], /--temperature 0, expected > 0/],
    [['serve', '--port', '70000'], /--port 70000, expected <= 65535/],
  ])('%j → usage and exit 2', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/usage: charstream/);
  });

  it('needs --input for train', async () => {
    const r = await runCli(['train']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--input FILE|- is required');
  });

  it('shows the commands with --help and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['demo', 'train', 'sample', 'score', 'serve']) expect(r.stdout).toContain(`  ${c} `);
  });

  it.each(['demo', 'train', 'sample', 'score', 'serve'])(
    '%s --help: flags with FILE placeholders, defaults and examples',
    async (command) => {
      const r = await runCli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: charstream ${command}`));
      expect(r.stdout).toMatch(/\nexamples:\n {2}charstream/);
      expect(r.stdout).not.toMatch(/--(checkpoint|input|plot) TEXT/);
      expect(r.stdout).not.toContain('../shared');
      if (command === 'train') {
        // The regularizers, each with its meaning and default.
        expect(r.stdout).toMatch(
          /\n {2}--dropout X +dropout on the embedding output, between stacked layers .*\(default 0.25\)\n/,
        );
        expect(r.stdout).toMatch(
          /\n {2}--embedding-dropout X +.*\(default 0\.1, or --dropout's value when that is given\)\n/,
        );
        expect(r.stdout).toMatch(/\n {2}--output-dropout X +.*\(default: --dropout's value\)\n/);
        expect(r.stdout).toMatch(/\n {2}--input-dropout X +variational .*Keras dropout\) \(default 0\)\n/);
        expect(r.stdout).toMatch(
          /\n {2}--recurrent-dropout X +variational .*Keras recurrent_dropout\) \(default 0\)\n/,
        );
        expect(r.stdout).toMatch(/\n {2}--optimizer adam\|adamw +.*\(default adam\)\n/);
        expect(r.stdout).toMatch(/\n {2}--weight-decay X +weight decay λ \(default 0 with adam, 0.01 with adamw/);
      }
    },
  );

  it('refuses checksum-valid checkpoints with hostile values in one line with exit 2, every command', async () => {
    // The trained checkpoint's body, changed and sealed again with a correct CRC-32.
    const p = new Packr({ moreTypes: true, useRecords: false });
    const env = p.unpack(readFileSync(ckpt)) as Record<string, unknown>;
    const forge = (name: string, mutate: (b: Record<string, any>) => void): string => {
      const body = p.unpack(env.body as Uint8Array) as Record<string, any>;
      mutate(body);
      const bytes = new Uint8Array(p.pack(body));
      const path = join(tmp.dir, `${name}.ckpt`);
      writeFileSync(path, p.pack({ ...env, body: bytes, crc32: zlibCrc32(bytes) }));
      return path;
    };
    const layers = forge('layers', (b) => (b.model.layers = 100_000));
    const short = forge('short', (b) => {
      b.params = b.params.slice(0, b.params.length - 100);
    });
    const history = forge('history', (b) => (b.history = [{ step: 1, tokens: 'x', seconds: null, lr: 'lots' }]));
    const optimizer = forge('optimizer', (b) => delete b.optimizer.buffers.m);
    const batch = forge('batch', (b) => (b.training.batchSize = 2_000_000_001));
    const exportTorch = (file: string) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--conditions=@rxrnn/source',
          join(REPO, 'tools', 'export-torch.ts'),
          file,
          join(tmp.dir, 'x.json'),
        ],
        { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      return finished(child);
    };
    const cases: [string, Promise<{ code: number | null; stderr: string }>, RegExp][] = [];
    for (const [file, message] of [
      [layers, /checkpoint: model.layers must be an integer in \[1, 64\], got 100000/],
      [short, /checkpoint: params length \d+, expected the parameter count .* \(100 values short: linear.weight/],
      [history, /checkpoint: history\[0\].tokens must be an integer in \[0, \d+\], got "x"/],
    ] as const) {
      for (const command of ['sample', 'score'])
        cases.push([command, runCli([command, '--checkpoint', file], 'x\n'), message]);
      cases.push(['export-torch', exportTorch(file), message]);
    }
    const resume = (file: string, input = corpus) =>
      runCli(['train', '--input', input, '--resume', '--steps', '301', '--checkpoint', file]);
    const withE = join(tmp.dir, 'corpus-e.txt');
    writeFileSync(withE, `${readFileSync(corpus, 'utf8').slice(0, 3000)}é${readFileSync(corpus, 'utf8').slice(3000)}`);
    const copy = join(tmp.dir, 'resume-e.ckpt');
    copyFileSync(ckpt, copy);
    cases.push(
      ['train --resume', resume(layers), /model.layers must be an integer in \[1, 64\]/],
      ['train --resume', resume(optimizer), /checkpoint: optimizer.buffers.m missing \(adam keeps m, v\)/],
      [
        'train --resume',
        resume(batch),
        /checkpoint: training.batchSize must be an integer in \[1, 65536\], got 2000000001 \(.*batch.ckpt\)/,
      ],
      [
        'train --resume (new character)',
        resume(copy, withE),
        /has "é" \(first at character 3000\), which the vocabulary of .* does not contain: a checkpoint's vocabulary \(\d+ characters\) is fixed when its model is created\. Train a new model on this text \(without --resume, or with another --checkpoint\), or remove those characters from the text/,
      ],
    );
    for (const [command, run, message] of cases) {
      const r = await run;
      expect(r.code, `${command}: ${r.stderr}`).toBe(2);
      expect(r.stderr, command).toMatch(message);
      expect(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('resuming from')),
        command,
      ).toHaveLength(1);
    }
    // Nothing was written back: the refused checkpoints are as they were.
    expect(() => loadCheckpoint(history)).toThrow(/history\[0\].tokens/);
    expect(readFileSync(copy).equals(readFileSync(ckpt))).toBe(true);
  });

  it('reports a missing, truncated or foreign checkpoint in one line with exit 2', async () => {
    const bytes = readFileSync(ckpt);
    const truncated = join(tmp.dir, 'truncated.ckpt');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const foreign = join(tmp.dir, 'foreign.ckpt');
    writeFileSync(foreign, JSON.stringify({ hello: 'world' }));
    const cases = [
      [join(tmp.dir, 'missing.ckpt'), /cannot read file: ENOENT/],
      [truncated, /truncated or corrupt|checksum/],
      [foreign, /not a readable msgpack file|not an rxrnn checkpoint/],
    ] as const;
    const runs = cases.flatMap(([file, message]) =>
      ['sample', 'score'].map(async (command) => ({
        message,
        r: await runCli([command, '--checkpoint', file], 'x\n'),
      })),
    );
    for (const { message, r } of await Promise.all(runs)) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const verbose = await runCli(['sample', '--checkpoint', foreign, '--verbose']);
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });
});
