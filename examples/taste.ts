// The README's "A taste" example, kept runnable: npm run example -- examples/taste.ts
import { CharModel, generate, Vocabulary } from '@rxrnn/cells';
import { trainOffline } from '@rxrnn/trainer';

const text = 'the quick brown fox jumps over the lazy dog. '.repeat(200);
const vocab = Vocabulary.fromText(text);
const model = new CharModel({ cell: 'lstm', vocab: vocab.chars, hidden: 64, seed: 1 });
await trainOffline({ model, text, maxSteps: 300, bptt: 32, batchSize: 8 });
generate(model, { prime: 'the ', length: 80, temperature: 0.5, seed: 1 }).subscribe((ch) => process.stdout.write(ch));
