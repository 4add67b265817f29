// The built-in training text: a seeded generator of structured "field notes" about streaming
// networks (numbered sections, sentences from a small grammar, Q/A pairs, training log lines).
// Written for this project; deterministic for a given seed, so every fresh clone sees the same text.

/** Options of defaultCorpus(). */
export interface DefaultCorpusOptions {
  /** Seed of the generator; the same seed always gives the same text. Default 2026. */
  seed?: number;
  /** Approximate length in characters (the text ends at the first section end past it). Default 200000. */
  chars?: number;
}

const SUBJECTS = [
  'the cell',
  'the stream',
  'a gated unit',
  'the trainer',
  'every layer',
  'the hidden state',
  'the model',
  'a small network',
  'the forget gate',
  'the sampler',
  'the operator',
  'each window',
];
const VERBS = [
  'reads',
  'remembers',
  'forgets',
  'predicts',
  'carries',
  'learns',
  'samples',
  'clips',
  'keeps',
  'updates',
  'scores',
  'emits',
];
const OBJECTS = [
  'the next character',
  'one token at a time',
  'its hidden state',
  'the gradient',
  'a window of text',
  'the last word',
  'what came before',
  'a long sentence',
  'the loss',
  'every new line',
  'the rare letters',
  'its memory',
];
const TAILS = [
  'as the text arrives',
  'without looking back',
  'step by step',
  'in real time',
  'before the window ends',
  'while the page stays live',
  'and then waits',
  'for as long as it runs',
];
const QUESTIONS: ReadonlyArray<readonly [string, string]> = [
  ['what does the forget gate do', 'it decides how much of the old memory to keep'],
  ['why clip the gradient', 'so that one bad window cannot throw the weights far away'],
  ['what is a bit per character', 'the average surprise of the model, measured in bits'],
  ['why carry the state across windows', 'so the model can remember more than one window of text'],
  ['what does temperature change', 'how boldly the sampler picks unlikely characters'],
  ['when does training stop', 'when the time budget runs out or someone presses ctrl-c'],
];

/** A tiny seeded generator (mulberry32): enough for text, independent of the kernels' Rng. */
function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Generates the default corpus: plain ASCII, lines separated by "\n". */
export function defaultCorpus(options: DefaultCorpusOptions = {}): string {
  const seed = options.seed ?? 2026;
  const target = options.chars ?? 200_000;
  if (!Number.isInteger(seed)) throw new RangeError(`defaultCorpus: seed ${String(seed)}, expected an integer`);
  if (!Number.isInteger(target) || target < 1)
    throw new RangeError(`defaultCorpus: chars ${String(target)}, expected a positive integer`);
  const random = makeRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

  const sentence = (): string => {
    const tail = random() < 0.6 ? ` ${pick(TAILS)}` : '';
    return `${capital(pick(SUBJECTS))} ${pick(VERBS)} ${pick(OBJECTS)}${tail}.`;
  };
  const logLine = (step: number, loss: number): string => {
    const bpc = loss / Math.LN2;
    return `step=${String(step).padStart(5, '0')} loss=${loss.toFixed(2)} bpc=${bpc.toFixed(2)} clip=${random() < 0.2 ? 'yes' : 'no'}`;
  };

  const parts: string[] = [];
  let length = 0;
  let step = 0;
  let loss = 4.2;
  for (let section = 1; length < target; section++) {
    const lines: string[] = [`## notes ${section}`, ''];
    for (let p = int(1, 3); p > 0; p--) {
      const sentences: string[] = [];
      for (let s = int(2, 4); s > 0; s--) sentences.push(sentence());
      lines.push(sentences.join(' '), '');
    }
    if (random() < 0.5) {
      const [q, a] = pick(QUESTIONS);
      lines.push(`Q: ${q}?`, `A: ${a}.`, '');
    }
    // The log's loss drifts down like a real run's, so its numbers have a learnable shape; every
    // 25 sections a new run starts from the top, so the numbers keep varying.
    if (section % 25 === 1) {
      step = 0;
      loss = 4 + random() * 0.4;
    }
    for (let n = int(2, 5); n > 0; n--) {
      step += int(10, 60);
      loss = Math.max(0.8 + random() * 0.2, loss - random() * 0.08);
      lines.push(logLine(step, loss));
    }
    lines.push('', '');
    const text = lines.join('\n');
    parts.push(text);
    length += text.length;
  }
  return parts.join('');
}
