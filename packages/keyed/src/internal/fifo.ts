// A first-in first-out queue on an array with a moving head and tail: O(1) push and shift. The
// array keeps its slots when the queue empties (most keys hold zero or one event at a time, and
// giving the slots back would make every next push allocate them again), unless it grew past
// KEEP slots; a long-lived queue is compacted when the consumed prefix dominates, so it never
// grows past twice its live length.

/** Slots an emptied queue keeps for its next items. */
const KEEP = 32;

export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #tail = 0;

  get length(): number {
    return this.#tail - this.#head;
  }

  push(item: T): void {
    if (this.#tail < this.#items.length) this.#items[this.#tail] = item;
    else this.#items.push(item);
    this.#tail++;
  }

  /** The first item, or undefined when empty. */
  peek(): T | undefined {
    return this.#head < this.#tail ? this.#items[this.#head] : undefined;
  }

  /** Removes and returns the first item, or undefined when empty. */
  shift(): T | undefined {
    if (this.#head >= this.#tail) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#tail) this.#reset();
    else if (this.#head >= 1024 && this.#head * 2 >= this.#tail) {
      this.#items.copyWithin(0, this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
      this.#items.length = this.#tail;
    }
    return item;
  }

  clear(): void {
    this.#items.fill(undefined, this.#head, this.#tail);
    this.#reset();
  }

  /** The items in order (a copy). */
  toArray(): T[] {
    return this.#items.slice(this.#head, this.#tail) as T[];
  }

  /** Empty: the slots stay (all undefined) unless there are more than KEEP. */
  #reset(): void {
    this.#head = 0;
    this.#tail = 0;
    if (this.#items.length > KEEP) this.#items = [];
  }
}
