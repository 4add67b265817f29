// What every installed-package consumer runs, whichever way it loaded the packages (import in
// esm.mjs, require() in cjs.cjs): a token stream through lstm(), a char model trained on the spot
// from a stream with trainOnline(), generate(), the stream through bidirectional(), many keys
// through keyed() with a directory store, and from the Node entry offline training with a worker
// thread and a checkpoint file round trip.
// Throws on any wrong result; returns a summary.
'use strict';
const assert = require('node:assert/strict');

const TEXT = 'the cat sat on the mat. '.repeat(40);

async function scenario({
  kernels,
  cells,
  clipping,
  trainer,
  trainerNode,
  bidirectional,
  keyed,
  keyedNode,
  nats,
  rxjs,
}) {
  const { from, lastValueFrom, toArray } = rxjs;
  const summary = {};

  // Every package loads and says who it is through its public entry.
  for (const [name, mod] of Object.entries({
    kernels,
    cells,
    clipping,
    trainer,
    'trainer/node': trainerNode,
    bidirectional,
    keyed,
    'keyed/node': keyedNode,
    nats,
  })) {
    assert.ok(Object.keys(mod).length > 0, `@rxrnn/${name} exports nothing`);
  }
  summary.backend = kernels.getBackend();

  // Kernels: y = W·x for a 2×3 matrix, checked by hand.
  const y = new Float32Array(2);
  kernels.gemv(y, Float32Array.of(1, 2, 3, 4, 5, 6), Float32Array.of(1, 0, -1), 2, 3);
  assert.deepEqual(Array.from(y), [-2, -2]);

  // A token stream through the LSTM operator: one-hot inputs in, h [H] out per token, equal to
  // stepping the same cell by hand from a zero state.
  const vocab = cells.Vocabulary.fromText(TEXT);
  const H = 8;
  const cell = cells.createCell({ kind: 'lstm', inputSize: vocab.size, hiddenSize: H, seed: 3 });
  const ids = Array.from(vocab.encode('the cat sat'));
  const oneHot = (id) => {
    const x = new Float32Array(vocab.size);
    x[id] = 1;
    return x;
  };
  const hs = await lastValueFrom(from(ids.map(oneHot)).pipe(cells.lstm(cell), toArray()));
  assert.equal(hs.length, ids.length);
  const state = cell.createState(1);
  ids.forEach((id, t) => {
    const h = cell.step(state, oneHot(id), 1);
    assert.equal(hs[t].length, H);
    assert.deepEqual(Array.from(hs[t]), Array.from(h), `lstm() output at step ${t} differs from cell.step`);
  });
  assert.ok(
    hs.some((h) => h.some((v) => v !== 0)),
    'lstm() emitted only zeros',
  );
  summary.lstmSteps = hs.length;

  // The same stream through a bidirectional GRU in windows of 4 steps: one [2H] output per
  // step, and the first window equals the stack's own forward pass over those 4 steps.
  const bi = new bidirectional.BidirectionalStack({
    kind: 'gru',
    inputSize: vocab.size,
    hiddenSize: 6,
    layers: 1,
    seed: 5,
  });
  const windows = await lastValueFrom(
    from(ids.map(oneHot)).pipe(bidirectional.bidirectional(bi, { window: { size: 4 } }), toArray()),
  );
  assert.deepEqual(
    windows.map((w) => w.length),
    [4, 4, 3],
  );
  for (const w of windows) for (const step of w) assert.equal(step.length, 2 * 6);
  const x0 = new Float32Array(4 * vocab.size);
  ids.slice(0, 4).forEach((id, t) => (x0[t * vocab.size + id] = 1));
  const direct = bi.forward(x0, 4, 1, bi.createState(1));
  windows[0].forEach((step, t) =>
    step.forEach((v, j) => {
      assert.ok(
        Math.abs(v - direct[t * 12 + j]) <= 1e-6,
        `bidirectional() step ${t}[${j}] = ${v}, stack.forward gives ${direct[t * 12 + j]}`,
      );
    }),
  );
  summary.bidirectionalWindows = windows.map((w) => w.length);

  // Gradient clipping on a flat buffer: norm 5 clipped to 1.
  const g = Float32Array.of(3, 4);
  const clip = clipping.clipByGlobalNorm(g, 1);
  assert.equal(clip.totalNorm, 5);
  assert.ok(Math.abs(Math.hypot(g[0], g[1]) - 1) < 1e-5, `clipByGlobalNorm left norm ${Math.hypot(g[0], g[1])}`);

  // A small model trained on the spot from a text stream, then text generated from it.
  const model = new cells.CharModel({ cell: 'lstm', vocab: vocab.chars, hidden: 32, embeddingDim: 16, seed: 1 });
  const chunks = TEXT.match(/.{1,24}/gs);
  const events = await lastValueFrom(
    from(chunks).pipe(
      trainer.trainOnline(model, { bptt: 24, lr: 0.01, maxPendingWindows: 1000, overflow: 'block' }),
      toArray(),
    ),
  );
  assert.ok(events.length >= 10, `trainOnline emitted ${events.length} events`);
  const first = events[0].loss;
  const last = events.slice(-5).reduce((s, e) => s + e.loss, 0) / 5;
  assert.ok(Number.isFinite(first) && Number.isFinite(last), 'non-finite training loss');
  assert.ok(last < 0.6 * first, `training did not learn: first window loss ${first}, last five ${last}`);
  summary.training = { windows: events.length, firstLoss: first, lastLoss: last };

  const sample = (seed) =>
    lastValueFrom(cells.generate(model, { prime: 'the ', length: 48, seed }).pipe(toArray())).then((cs) => cs.join(''));
  const text = await sample(7);
  assert.equal([...text].length, 48);
  for (const ch of text) assert.ok(vocab.chars.includes(ch), `generated ${JSON.stringify(ch)}, not in the vocabulary`);
  assert.equal(await sample(7), text, 'the same seed generated different text');
  summary.generated = text;

  // Many streams through one model (@rxrnn/keyed): five keys interleaved, at most two states in
  // memory (the rest in files of @rxrnn/keyed/node's directory store), batches of up to four;
  // each key's logits equal its tokens stepped alone through the model.
  // A fresh folder per run: the ESM and CommonJS consumers run in the same project, and a store
  // left by the other would (rightly) continue its keys' streams.
  const { mkdtempSync } = require('node:fs');
  const store = new keyedNode.DirectoryStateStore(mkdtempSync(require('node:path').join(process.cwd(), 'keys-')));
  const states = keyed.createKeyedStates(keyed.keyedCharModel(model), { maxKeys: 2, store });
  const keyedEvents = Array.from(vocab.encode('the cat sat on the mat'), (value, i) => ({ key: `u${i % 5}`, value }));
  const answers = await lastValueFrom(from(keyedEvents).pipe(keyed.keyed(states, { maxBatch: 4 }), toArray()));
  assert.equal(answers.length, keyedEvents.length);
  const alone = new Map();
  keyedEvents.forEach((e) => {
    if (!alone.has(e.key)) alone.set(e.key, { state: model.createState(1), logits: [] });
    const a = alone.get(e.key);
    a.logits.push(model.step(Int32Array.of(e.value), a.state).slice());
  });
  for (const r of answers) {
    assert.ok(!('error' in r), `keyed() failed an event: ${r.error}`);
    const want = alone.get(r.key).logits[r.seq - 1];
    r.output.forEach((v, j) =>
      assert.ok(Math.abs(v - want[j]) <= 1e-5, `keyed() ${r.key}#${r.seq}[${j}] = ${v}, alone ${want[j]}`),
    );
  }
  await states.checkpoint();
  summary.keyed = { answers: answers.length, keys: [...store.keys()].length, evictions: states.metrics().evictions };

  // Node entry (@rxrnn/trainer/node): offline training with the gradient worker thread (a
  // separate file in the package's dist, loaded by URL), a checkpoint file written atomically
  // and read back, and the same checkpoint through msgpackr in memory.
  const gru = new cells.CharModel({ cell: 'gru', vocab: vocab.chars, hidden: 16, embeddingDim: 8, seed: 2 });
  const before = gru.params.slice();
  const run = await trainerNode.trainOfflineToFile({
    model: gru,
    text: TEXT,
    batchSize: 4,
    bptt: 16,
    maxSteps: 5,
    threads: 2,
    evalEvery: 0,
    valFraction: 0.1,
  });
  assert.equal(run.steps, 5);
  assert.ok(
    gru.params.some((v, i) => v !== before[i]),
    'trainOfflineToFile did not change the parameters',
  );
  const file = require('node:path').join(process.cwd(), 'model.ckpt');
  trainerNode.saveCheckpoint(file, run.checkpoint);
  const loaded = trainerNode.loadCheckpoint(file);
  assert.deepEqual(Array.from(loaded.params), Array.from(gru.params));
  assert.equal(loaded.counters.step, 5);
  const restored = trainer.decodeCheckpoint(trainer.encodeCheckpoint(run.checkpoint));
  assert.deepEqual(Array.from(restored.params), Array.from(gru.params));
  summary.offline = { steps: run.steps, threads: 2, checkpointParams: loaded.params.length };

  // @rxrnn/nats without a server: partitions as nats-server maps them, a model bundle's content
  // hash (the SHA-256 of its bytes), and the rxrnn-nats bin as npm installed it.
  assert.equal(nats.partitionOf('alice', 8), 7);
  const bundle = trainer.encodeCheckpoint(nats.weightsCheckpoint(gru));
  const sha = require('node:crypto').createHash('sha256').update(bundle).digest('hex');
  assert.equal(nats.modelHash(bundle), sha);
  assert.deepEqual(Array.from(nats.modelFromBundle(bundle).model.params), Array.from(gru.params));
  const pkgDir = require('node:path').dirname(require.resolve('@rxrnn/nats/package.json'));
  const bin = require('node:path').join(pkgDir, require('@rxrnn/nats/package.json').bin['rxrnn-nats']);
  const help = require('node:child_process').spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  summary.nats = { partition: 7, bin: help.stdout.split('\n')[0] };
  return summary;
}

module.exports = { scenario };
