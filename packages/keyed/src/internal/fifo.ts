// A first-in first-out queue on an array with a moving head: O(1) push and shift, compacted when
// the consumed prefix dominates, so a long-lived queue never grows past twice its live length.

export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The first item, or undefined when empty. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** Removes and returns the first item, or undefined when empty. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items.length = 0;
    this.#head = 0;
  }

  /** The items in order (a copy). */
  toArray(): T[] {
    return this.#items.slice(this.#head) as T[];
  }
}
