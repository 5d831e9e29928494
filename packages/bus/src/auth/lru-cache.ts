/**
 * A map of at most `maxEntries` entries that forgets the least recently used one to make room, so
 * that a flood of new keys pushes out old ones one by one and never empties it all at once. Reads
 * (`get`) and writes (`set`) count as uses. Entries carry no expiry: callers that need one keep it
 * in the value.
 */
export class LruCache<K, V> {
  readonly #maxEntries: number;
  /** A Map iterates in insertion order: re-inserting on each use keeps the least recent first. */
  readonly #entries = new Map<K, V>();

  constructor(maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError("an LRU cache holds at least one entry");
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Every value, least recently used first; not a use. */
  values(): IterableIterator<V> {
    return this.#entries.values();
  }
}
