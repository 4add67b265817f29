// Vocabulary: characters (Unicode code points) ↔ token ids, ids in sorted code-point order.
// encode/decode allocate their results; nothing here is on a per-step hot path.

/**
 * Characters (Unicode code points) ↔ token ids, ids in sorted code-point order, so the same text
 * gives the same ids everywhere.
 *
 * @example
 * ```ts
 * import { Vocabulary } from '@rxrnn/cells';
 * const vocab = Vocabulary.fromText('hello world');
 * const ids = vocab.encode('hello'); // Int32Array of ids
 * console.log(vocab.size, vocab.decode(ids)); // 8 'hello'
 * ```
 */
export class Vocabulary {
  /** The characters in id order. */
  readonly chars: string[];
  private readonly ids = new Map<string, number>();

  /** `chars` in id order: distinct single code points. */
  constructor(chars: readonly string[]) {
    if (!Array.isArray(chars) || chars.length === 0) {
      throw new TypeError(
        `Vocabulary: chars must be a non-empty array of characters, got ${Array.isArray(chars) ? 'an empty array' : typeof chars}`,
      );
    }
    chars.forEach((ch, i) => {
      if (typeof ch !== 'string' || [...ch].length !== 1) {
        throw new TypeError(`Vocabulary: chars[${i}] must be one character (code point), got ${JSON.stringify(ch)}`);
      }
      if (this.ids.has(ch))
        throw new RangeError(`Vocabulary: chars[${i}] ${JSON.stringify(ch)} repeats chars[${this.ids.get(ch)}]`);
      this.ids.set(ch, i);
    });
    this.chars = [...chars];
  }

  /** The distinct code points of `text`, sorted by code point. */
  static fromText(text: string): Vocabulary {
    if (typeof text !== 'string' || text.length === 0) {
      throw new TypeError(
        `Vocabulary.fromText: text must be a non-empty string, got ${typeof text === 'string' ? 'an empty string' : typeof text}`,
      );
    }
    const set = [...new Set(text)];
    set.sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new Vocabulary(set);
  }

  /** V, the number of characters. */
  get size(): number {
    return this.chars.length;
  }

  /** The id of `char`; RangeError if it is not in the vocabulary. */
  id(char: string): number {
    const i = this.ids.get(char);
    if (i === undefined)
      throw new RangeError(`Vocabulary: character ${JSON.stringify(char)} is not in the vocabulary of ${this.size}`);
    return i;
  }

  /** Whether `char` is in the vocabulary. */
  has(char: string): boolean {
    return this.ids.has(char);
  }

  /** The ids of `text`'s code points. */
  encode(text: string): Int32Array {
    const chars = [...text];
    const out = new Int32Array(chars.length);
    chars.forEach((ch, i) => {
      const id = this.ids.get(ch);
      if (id === undefined) {
        throw new RangeError(
          `Vocabulary.encode: character ${JSON.stringify(ch)} at index ${i} is not in the vocabulary of ${this.size}`,
        );
      }
      out[i] = id;
    });
    return out;
  }

  /** The text of `ids`. */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.size) {
        throw new RangeError(`Vocabulary.decode: ids[${i}] must be an id in [0, ${this.size}), got ${id}`);
      }
      s += this.chars[id];
    }
    return s;
  }
}
