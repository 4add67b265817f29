// Checkpoint format and IO: round trip of typed arrays, atomic saves under injected write
// failures, and clear CheckpointErrors for every kind of bad file.
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@rxrnn/kernels';
import { Packr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Adam,
  type Checkpoint,
  CheckpointError,
  type CheckpointIo,
  decodeCheckpoint,
  encodeCheckpoint,
  exportTorch,
  loadCheckpoint,
  saveCheckpoint,
} from '../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'rxrnn-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small, consistent checkpoint: LSTM V 4, E 3, H 4 has 12 + 128 + 20 = 160 parameters. */
function sample(fill = 0.25): Checkpoint {
  const n = 160;
  const params = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i) * fill));
  const adam = new Adam(n).getState();
  return {
    model: {
      cell: 'lstm',
      gruVariant: 'reset-after',
      vocab: ['\n', ' ', 'a', 'b'],
      input: 'embedding',
      embeddingDim: 3,
      hidden: 4,
      layers: 1,
      seed: 1,
    },
    params,
    training: { batch: 2, bptt: 8 },
    optimizer: {
      ...adam,
      step: 3,
      buffers: { m: new Float32Array(n).fill(0.5), v: new Float32Array(n).fill(1e-30) },
    },
    rng: new Rng(5).getState(),
    // B = 1 row of the LSTM's state [h | c] (8 floats), with a subnormal in it.
    cursor: { position: 16, epoch: 0, shift: 3, state: Float32Array.of(0.1, -0.2, 3e-39, 0, 0, 0, 0, 1) },
    counters: { step: 3, tokens: 48, seconds: 0.5 },
    history: [{ step: 3, tokens: 48, seconds: 0.5, lr: 0.002, trainLoss: 1.3, valLoss: 1.4 }],
    best: { valLoss: 1.4, step: 3, params: params.slice() },
  };
}

describe('checkpoint encoding', () => {
  it('round-trips Float32Array and Uint32Array as themselves, bit for bit', () => {
    const c = sample();
    const back = decodeCheckpoint(encodeCheckpoint(c));
    expect(back.params).toBeInstanceOf(Float32Array);
    expect(back.rng).toBeInstanceOf(Uint32Array);
    expect(
      Buffer.from(back.params.buffer, back.params.byteOffset, back.params.byteLength).equals(
        Buffer.from(c.params.buffer),
      ),
    ).toBe(true);
    expect(Array.from(back.cursor.state)).toEqual(Array.from(c.cursor.state)); // includes a subnormal
    expect(back.optimizer.buffers.v![7]!).toBe(Math.fround(1e-30));
    // The sample's model has no dropout fields, like a file written before they existed: they read as 0.
    const none = { dropout: 0, embeddingDropout: 0, outputDropout: 0, inputDropout: 0, recurrentDropout: 0 };
    expect(back).toEqual({ ...c, model: { ...c.model, ...none } });
  });

  it('decoded buffers do not alias the input bytes', () => {
    const bytes = encodeCheckpoint(sample());
    const back = decodeCheckpoint(bytes);
    const p1 = back.params[1];
    bytes.fill(0);
    expect(back.params[1]).toBe(p1);
  });

  it('refuses to encode a malformed checkpoint (no file gets written)', () => {
    const c = sample();
    c.params[3] = NaN;
    expect(() => encodeCheckpoint(c)).toThrow(/params\[3\] must be a finite number, got NaN/);
  });
});

describe('atomic save', () => {
  it('writes, reloads and replaces', () => {
    const path = join(dir, 'a.ckpt');
    saveCheckpoint(path, sample(0.25));
    saveCheckpoint(path, sample(0.5));
    expect(loadCheckpoint(path).params[1]).toBe(Math.fround(Math.sin(1) * 0.5));
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it.each(['write', 'fsync', 'rename'])(
    'a failing %s leaves the previous checkpoint intact and no temp file',
    (where) => {
      const path = join(dir, `fail-${where}.ckpt`);
      saveCheckpoint(path, sample(0.25));
      const before = readFileSync(path);
      const io: CheckpointIo = {
        ...fs,
        writeSync: (fd, data, off, len) => {
          if (where !== 'write') return fs.writeSync(fd, data, off, len);
          // Half the bytes land, then the disk "fills up".
          fs.writeSync(fd, data, off, len >> 1);
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        },
        fsyncSync: (fd) => {
          if (where === 'fsync') throw new Error('EIO: i/o error');
          fs.fsyncSync(fd);
        },
        renameSync: (a, b) => {
          if (where === 'rename') throw new Error('EXDEV');
          fs.renameSync(a, b);
        },
      };
      expect(() => saveCheckpoint(path, sample(0.5), io)).toThrow();
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(loadCheckpoint(path).params[1]).toBe(Math.fround(Math.sin(1) * 0.25));
      expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    },
  );
});

describe('loading bad files throws CheckpointError', () => {
  const good = encodeCheckpoint(sample());
  const expectBad = (bytes: Uint8Array, msg: RegExp) => {
    const path = join(dir, `bad-${Math.random().toString(36).slice(2)}.ckpt`);
    writeFileSync(path, bytes);
    let err: unknown;
    try {
      loadCheckpoint(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(msg);
    expect((err as Error).message).toContain(path);
  };

  it('missing file', () => expectBad(new Uint8Array(0), /empty file/));

  it.each([1, 10, 100, good.length >> 1, good.length - 1])('truncated to %i bytes', (n) => {
    expectBad(good.subarray(0, n), /truncated or corrupt|not an rxrnn checkpoint|checksum|envelope/);
  });

  it('every single bit flip in a sampled set of positions is caught', () => {
    // Flip one bit at a spread of positions, covering envelope, body header and float data.
    for (let pos = 0; pos < good.length; pos += 37) {
      const bad = good.slice();
      bad[pos]! ^= 1 << (pos % 8);
      expect(() => decodeCheckpoint(bad), `flip at byte ${pos}`).toThrow(CheckpointError);
    }
  });

  it('random bytes', () => {
    const rnd = Uint8Array.from({ length: 4096 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 13) & 0xff);
    expectBad(rnd, /.+/);
  });

  it('a msgpack of the wrong shape, a foreign tag, a newer version', () => {
    const p = new Packr({ moreTypes: true, useRecords: false });
    expectBad(p.pack([1, 2, 3]), /not an rxrnn checkpoint/);
    expectBad(p.pack({ format: 'safetensors', version: 1 }), /format tag "safetensors"/);
    expectBad(
      p.pack({ format: 'rxrnn-checkpoint', version: 2, crc32: 0, body: new Uint8Array(1) }),
      /format version 2, this build reads version 1/,
    );
  });

  it('a well-formed envelope around a body of the wrong shape', () => {
    // Build the envelope by hand so the checksum is valid and only the body is wrong.
    const p = new Packr({ moreTypes: true, useRecords: false });
    const c = sample() as unknown as Record<string, unknown>;
    c.params = Array.from(c.params as Float32Array); // plain array instead of Float32Array
    const body = p.pack(c);
    const env = decodeEnvelope(good);
    const bytes = p.pack({ ...env, body, crc32: crc(body) });
    expect(() => decodeCheckpoint(bytes)).toThrow(/params must be a Float32Array/);
    const c2 = { ...sample(), optimizer: { ...sample().optimizer, buffers: { m: new Float32Array(3) } } };
    const body2 = p.pack(c2);
    expect(() => decodeCheckpoint(p.pack({ ...env, body: body2, crc32: crc(body2) }))).toThrow(
      /optimizer.buffers.m length 3, expected the parameter count = 160/,
    );
  });

  it('a dropout probability outside [0, 1) in the model config', () => {
    const p = new Packr({ moreTypes: true, useRecords: false });
    const env = decodeEnvelope(good);
    for (const [key, value] of [
      ['dropout', 1],
      ['recurrentDropout', -0.5],
      ['inputDropout', '0.1'],
    ] as const) {
      const c = sample();
      (c.model as unknown as Record<string, unknown>)[key] = value;
      const body = p.pack(c);
      expect(() => decodeCheckpoint(p.pack({ ...env, body, crc32: crc(body) }))).toThrow(
        new RegExp(`model.${key} must be a number in \\[0, 1\\), got ${JSON.stringify(value)}`),
      );
    }
    // Present and in range (or absent, as in files written before dropout existed): loads.
    const c = sample();
    c.model.dropout = 0.5;
    expect(decodeCheckpoint(encodeCheckpoint(c)).model.dropout).toBe(0.5);
  });

  it('a config or size mismatch with what the caller expects', () => {
    expect(() => decodeCheckpoint(good, { model: { hidden: 8 } })).toThrow(/model hidden is 4, expected 8/);
    expect(() => decodeCheckpoint(good, { model: { vocab: ['a', 'b'] } })).toThrow(/model vocab/);
    expect(() => decodeCheckpoint(good, { paramCount: 51 })).toThrow(/160 parameters, the model has 51/);
    expect(decodeCheckpoint(good, { model: { hidden: 4, cell: 'lstm' }, paramCount: 160 }).counters.step).toBe(3);
  });

  it('a file that does not exist', () => {
    expect(() => loadCheckpoint(join(dir, 'nope.ckpt'))).toThrow(CheckpointError);
  });
});

describe('checkpoints whose checksum is valid but whose content lies', () => {
  const p = new Packr({ moreTypes: true, useRecords: false });
  /** The sample with `mutate` applied to its decoded body, re-sealed with a correct checksum. */
  const forged = (mutate: (body: Record<string, any>) => void): Uint8Array => {
    const body = p.unpack(p.pack(sample())) as Record<string, any>;
    mutate(body);
    const b = new Uint8Array(p.pack(body));
    return new Uint8Array(p.pack({ format: 'rxrnn-checkpoint', version: 1, crc32: crc(b), body: b }));
  };
  const refused = (bytes: Uint8Array, message: RegExp) => {
    expect(() => decodeCheckpoint(bytes)).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(bytes)).toThrow(message);
  };

  it('refuses a model config out of its limits before building anything (layers 100000)', () => {
    refused(
      forged((b) => (b.model.layers = 100_000)),
      /^checkpoint: model.layers must be an integer in \[1, 64\], got 100000$/,
    );
    refused(
      forged((b) => (b.model.hidden = 1e6)),
      /model.hidden must be an integer in \[1, 16384\], got 1000000/,
    );
    refused(
      forged((b) => (b.model.vocab = [...b.model.vocab, 'a'])),
      /model.vocab\[4\] "a" repeats model.vocab\[2\]/,
    );
    refused(
      forged((b) => (b.model.bogus = 1)),
      /model.bogus is not a model setting/,
    );
    refused(
      forged((b) => (b.model.cell = 'transformer')),
      /model.cell must be 'rnn' or 'gru' or 'lstm'/,
    );
  });

  it('refuses a parameter count other than the config implies, naming the tensor it would cut', () => {
    refused(
      forged((b) => (b.model.layers = 2)),
      /params length 160, expected the parameter count of the model \(lstm, V 4, E 3, H 4, L 2\) = 304 \(144 values short: rnn.weight_ih_l1 \[16, 4\] at offset 140/,
    );
    refused(
      forged((b) => {
        b.params = b.params.slice(0, 150);
      }),
      /params length 150, expected .* = 160 \(10 values short: linear.weight \[4, 4\] at offset 140 and what follows would be missing\)/,
    );
    refused(
      forged((b) => (b.best.params = new Float32Array(170))),
      /best.params length 170, expected .* = 160 \(10 values more than the last tensor, linear.bias, ends at\)/,
    );
  });

  it('refuses optimizer, rng, cursor, counters, history and best fields of the wrong type or range', () => {
    const cases: [(b: Record<string, any>) => void, RegExp][] = [
      [(b) => delete b.optimizer.buffers.m, /optimizer.buffers.m missing \(adam keeps m, v\)/],
      [(b) => (b.optimizer.buffers.w = new Float32Array(160)), /optimizer.buffers.w is not a buffer of this optimizer/],
      [(b) => (b.optimizer.buffers.v[3] = -1), /optimizer.buffers.v\[3\] must be a finite number >= 0, got -1/],
      [(b) => (b.optimizer.kind = 'lion'), /optimizer.kind must be one of sgd, adam, adagrad, rmsprop, got "lion"/],
      [(b) => (b.optimizer.options.beta2 = 7), /optimizer.options: adam: beta2 must be in \[0, 1\), got 7/],
      [(b) => (b.optimizer.options.decoupled = 'no'), /optimizer.options.decoupled must be a boolean, got "no"/],
      [(b) => (b.optimizer.step = 4), /counters.step 3 differs from optimizer.step 4/],
      [(b) => (b.rng = new Uint32Array(7)), /rng: Rng.setState: xoshiro state words are all zero/],
      [(b) => (b.rng = new Uint32Array(3)), /rng length 3, expected RNG_STATE_LENGTH = 7/],
      [(b) => (b.cursor.state = new Float32Array(12)), /cursor.state length 12, expected B × the model's state size 8/],
      [(b) => (b.cursor.position = -1), /cursor.position must be an integer >= 0, got -1/],
      [(b) => (b.counters.seconds = NaN), /counters.seconds must be a finite number >= 0, got NaN/],
      [
        (b) => (b.history = [{ step: 1, tokens: 'x', seconds: null, lr: 'lots' }]),
        /history\[0\].tokens must be an integer in \[0, 48\], got "x"/,
      ],
      [(b) => (b.history[0].lr = 'lots'), /history\[0\].lr must be a finite number >= 0, got "lots"/],
      [(b) => (b.history[0].step = 99), /history\[0\].step must be an integer in \[0, 3\], got 99/],
      [(b) => (b.history[0].note = 'hi'), /history\[0\].note is not a checkpoint field/],
      [(b) => (b.history = 'none'), /history must be an array of at most 100000 rows, got "none"/],
      [(b) => (b.best.valLoss = -1), /best.valLoss must be a finite number >= 0, got -1/],
      [(b) => (b.training = { x: { y: { z: { w: { v: 1 } } } } }), /training.x.y.z.w nests deeper than 4 levels/],
      [(b) => (b.training = { tag: new Float32Array(2) }), /training.tag must be plain data/],
      [(b) => (b.extra = 1), /^checkpoint: extra is not a checkpoint field/],
      [(b) => delete b.best, /^checkpoint: best missing$/],
    ];
    for (const [mutate, message] of cases) refused(forged(mutate), message);
  });

  it('refuses in exportTorch what decodeCheckpoint refuses, for a checkpoint built in memory', () => {
    const c = sample();
    expect(() => exportTorch({ ...c, params: c.params.slice(0, 60) })).toThrow(CheckpointError);
    expect(() => exportTorch({ ...c, params: c.params.slice(0, 60) })).toThrow(
      /params length 60, expected .* = 160 \(100 values short: rnn.weight_hh_l0 \[16, 4\] at offset 60/,
    );
    expect(exportTorch(c).params['linear.bias']!.data).toHaveLength(4);
  });

  it('reads only regular files: a device or a folder is refused before any read', () => {
    expect(() => loadCheckpoint('/dev/zero')).toThrow(/checkpoint: not a regular file \(\/dev\/zero\)/);
    expect(() => loadCheckpoint(dir)).toThrow(/not a regular file|cannot read file/);
  });
});

function decodeEnvelope(bytes: Uint8Array): Record<string, unknown> {
  return new Packr({ moreTypes: true, useRecords: false }).unpack(bytes) as Record<string, unknown>;
}

// Independent CRC-32 (bitwise, no table) so the test does not reuse the code under test.
function crc(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
