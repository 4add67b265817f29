// Short samples for progress lines: generate() on a twin of the training model, so sampling
// never touches the scratch buffers of the model being trained, and a prime the vocabulary knows.
import { CharModel, generate } from '@rxrnn/cells';
import { lastValueFrom, reduce } from 'rxjs';

/** Options of a sample; the same names and defaults as `charstream sample`. */
export interface SampleTextOptions {
  prime?: string;
  length?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
}

/** A prime every vocabulary can take: "\n" when known, else the first character. */
export function defaultPrime(vocab: readonly string[]): string {
  return vocab.includes('\n') ? '\n' : vocab[0]!;
}

/** Samples `length` characters from a copy of `model`'s current weights. */
export async function sampleText(model: CharModel, options: SampleTextOptions = {}, twin?: CharModel): Promise<string> {
  // A copy of the weights (no initialization: at H 512 that alone took 1.6 s, every sample).
  const copy = twin ?? new CharModel(model.config, model.params);
  if (twin) copy.params.set(model.params);
  const text$ = generate(copy, {
    prime: options.prime ?? defaultPrime(model.config.vocab),
    length: options.length ?? 120,
    temperature: options.temperature ?? 0.8,
    topK: options.topK,
    topP: options.topP,
    seed: options.seed ?? 1,
  });
  return lastValueFrom(text$.pipe(reduce((acc, ch) => acc + ch, '')), { defaultValue: '' });
}

/** One line for a terminal: newlines shown as ⏎, control characters dropped. */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
  return text.replace(/\n/g, '⏎').replace(/[\x00-\x1f\x7f]/g, '');
}
