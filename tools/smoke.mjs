#!/usr/bin/env node
// `npm run smoke`: what a new user does first, right after `npm ci` on a fresh clone — every
// command of the README's Commands table, run as written (with small budgets), in a temporary
// folder. CI runs it before any build or test, so nothing else can have prepared the tree.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'rxrnn-smoke-'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let failures = 0;

function step(name, args, check, input) {
  const t0 = performance.now();
  const r = spawnSync(npm, args, { cwd: root, encoding: 'utf8', input, env: { ...process.env, FORCE_COLOR: '0' } });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  let problem = r.status !== 0 ? `exit code ${r.status ?? r.signal}` : null;
  if (!problem) {
    try {
      check?.(r.stdout, r.stderr);
    } catch (e) {
      problem = e.message;
    }
  }
  if (problem) {
    failures++;
    console.log(
      `FAIL ${name} (${seconds}s): ${problem}\n  npm ${args.join(' ')}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  } else console.log(`ok   ${name} (${seconds}s)`);
  return r;
}

function expect(ok, message) {
  if (!ok) throw new Error(message);
}

// The main job: online training on the built-in corpus; the loss must fall and a sample appear.
step('npm start -- --seconds 5', ['start', '--', '--seconds', '5'], (out) => {
  const m = /Train loss ([\d.]+) -> ([\d.]+) nats\/char/.exec(out);
  expect(m, 'no "Train loss A -> B" line');
  expect(Number(m[2]) < Number(m[1]) - 0.5, `the loss did not fall: ${m[1]} -> ${m[2]}`);
  const sample = /Final sample \(temperature [\d.]+\):\n([\s\S]+)$/.exec(out);
  expect(sample && sample[1].trim().length > 100, 'no final sample');
});

// Every command's --help.
for (const args of [
  ['charstream', '--', '--help'],
  ...['demo', 'train', 'sample', 'score', 'serve', 'gradients', 'export'].map((c) => ['charstream', '--', c, '--help']),
  ['train', '--', '--help'],
  ['export-torch', '--', '--help'],
  ['export-onnx', '--', '--help'],
  ['import-onnx', '--', '--help'],
  ['conformance', '--', '--help'],
  ['bench', '--', '--help'],
]) {
  step(`npm run ${args.filter((a) => a !== '--').join(' ')}`, ['run', '--silent', ...args], (out) => {
    expect(/usage: /.test(out), 'no usage text on stdout');
    expect(!out.includes('../shared'), 'the help points outside the repository');
  });
}

// A file the user brings: any UTF-8 text (here the project's own docs).
const text = join(dir, 'input.txt');
writeFileSync(
  text,
  ['README.md', 'CONTRIBUTING.md', 'apps/charstream/README.md']
    .map((f) => readFileSync(join(root, f), 'utf8'))
    .join('\n'),
);
const ckpt = join(dir, 'm.ckpt');
step(
  'npm run train',
  [
    'run',
    '--silent',
    'train',
    '--',
    '--input',
    text,
    '--seconds',
    '4',
    '--hidden',
    '64',
    '--checkpoint',
    ckpt,
    '--json',
  ],
  (out) => {
    const s = JSON.parse(out.trim().split('\n').at(-1));
    expect(s.steps > 0 && s.validation && s.validation.nats > 0, 'no validation loss in the summary');
    expect(existsSync(ckpt), 'no checkpoint written');
  },
);
step(
  'npm run charstream -- train --input FILE',
  [
    'run',
    '--silent',
    'charstream',
    '--',
    'train',
    '--input',
    text,
    '--steps',
    '20',
    '--hidden',
    '32',
    '--checkpoint',
    join(dir, 'c.ckpt'),
    '--plot',
    join(dir, 'loss.svg'),
  ],
  () => {
    expect(readFileSync(join(dir, 'loss.svg'), 'utf8').includes('<svg'), 'no SVG plot');
  },
);
step(
  'npm run charstream -- sample',
  [
    'run',
    '--silent',
    'charstream',
    '--',
    'sample',
    '--checkpoint',
    ckpt,
    '--prime',
    'The ',
    '--length',
    '100',
    '--seed',
    '1',
  ],
  (out) => {
    expect(
      out.startsWith('The ') && out.endsWith('\n') && [...out].length >= 104,
      `not prime + 100 characters + newline: ${JSON.stringify(out)}`,
    );
  },
);
step(
  'npm run charstream -- score',
  ['run', '--silent', 'charstream', '--', 'score', '--checkpoint', ckpt, '--input', '-', '--learn'],
  (out) => {
    expect(/^\s+\d+\.\d{3} {2}The packages$/m.test(out), 'no per-line score');
  },
  'The packages\nnpm start\n',
);
step('npm run export-torch', ['run', '--silent', 'export-torch', '--', ckpt, join(dir, 'm.json')], () => {
  const e = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
  expect(e.config.mode === 'LSTM' && e.params['rnn.weight_hh_l0'], 'not a torch state_dict export');
});
const flowSvg = join(dir, 'flow.svg');
step(
  'npm run charstream -- gradients --plot',
  ['run', '--silent', 'charstream', '--', 'gradients', '--plot', flowSvg],
  (out) => {
    for (const cell of ['rnn', 'gru', 'lstm'])
      expect(new RegExp(`^${cell} +\\d`, 'm').test(out), `no ${cell} row in the gradient-flow summary`);
    expect(readFileSync(flowSvg, 'utf8').startsWith('<svg'), 'no SVG plot written');
  },
);
step('npm run export-onnx', ['run', '--silent', 'export-onnx', '--', ckpt, join(dir, 'm.onnx')], (_out, err) => {
  expect(/export-onnx: lstm 1×64, V = \d+/.test(err), 'no export summary');
  expect(readFileSync(join(dir, 'm.onnx')).length > 1000, 'no ONNX file');
});
step(
  'npm run import-onnx',
  ['run', '--silent', 'import-onnx', '--', join(dir, 'm.onnx'), join(dir, 'onnx.ckpt')],
  (_out, err) => {
    expect(/import-onnx: rxrnn opset 14: lstm 1×64/.test(err), 'no import summary');
  },
);
step(
  'npm run charstream -- sample (imported ONNX)',
  ['run', '--silent', 'charstream', '--', 'sample', '--checkpoint', join(dir, 'onnx.ckpt'), '--length', '50'],
  (out) => {
    expect(out.trim().length > 10, 'no sample from the imported checkpoint');
  },
);
step('npm run conformance', ['run', '--silent', 'conformance', '--', 'test/fixtures/torch/cell_lstm.json'], (out) => {
  expect(JSON.parse(out).kind === 'rnn_cell', 'no rnn_cell result');
});
step('npm run example -- examples/taste.ts', ['run', '--silent', 'example', '--', 'examples/taste.ts'], (out) => {
  expect(out.includes('quick brown fox'), 'the example did not learn its sentence');
});

// serve: the page and the API answer, then Ctrl-C stops it.
await new Promise((resolve) => {
  const t0 = performance.now();
  const child = spawn(npm, ['run', '--silent', 'charstream', '--', 'serve', '--port', '0', '--hidden', '32'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const done = (problem) => {
    try {
      process.kill(-child.pid, 'SIGINT');
    } catch {}
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    if (problem) {
      failures++;
      console.log(`FAIL npm run charstream -- serve (${seconds}s): ${problem}\n${out}`);
    } else console.log(`ok   npm run charstream -- serve (${seconds}s)`);
    resolve();
  };
  child.stdout.on('data', async (d) => {
    out += d;
    const url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
    if (!url || child.answered) return;
    child.answered = true;
    try {
      const page = await fetch(`${url}/`);
      const status = await (await fetch(`${url}/api/status`)).json();
      done(page.ok && status.model ? null : `page ${page.status}, status ${JSON.stringify(status).slice(0, 200)}`);
    } catch (e) {
      done(e.message);
    }
  });
  child.stderr.on('data', (d) => (out += d));
  child.on('exit', (code) => {
    if (!child.answered) done(`exited with ${code} before serving`);
  });
});

rmSync(dir, { recursive: true, force: true });
console.log(failures ? `smoke: ${failures} failed` : 'smoke: every README command ran');
process.exit(failures ? 1 : 0);
