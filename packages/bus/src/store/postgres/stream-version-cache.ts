/**
 * The versions of entity streams this process has seen, per partition, each partition's entry
 * tagged with the head (next offset) at which it was exact. Every event of a key lands in one
 * partition, and every append takes that partition's lock and reads its head; so when the locked
 * head still equals the entry's head, nobody (no other process either) appended to the partition
 * since, and every version in the entry is current. The append then needs no database read for
 * those keys. When the heads differ the entry is stale and dropped. Entries only change after a
 * COMMIT that succeeded; bounded in keys (the whole cache is cleared when it would grow past it).
 */
export class StreamVersionCache {
  readonly #maxKeys: number;
  readonly #partitions = new Map<string, { head: number; versions: Map<string, number> }>();
  #keys = 0;

  constructor(maxKeys: number) {
    this.#maxKeys = maxKeys;
  }

  /** The cached version of `key` (0: no stream yet) if the entry was exact at `head`, else undefined. */
  lookup(partitionSlot: string, key: string, head?: number): number | undefined {
    const entry = this.#partitions.get(partitionSlot);
    if (entry === undefined || (head !== undefined && entry.head !== head)) return undefined;
    return entry.versions.get(key);
  }

  /** The head at which the partition's entry is exact, if there is one. */
  head(partitionSlot: string): number | undefined {
    return this.#partitions.get(partitionSlot)?.head;
  }

  /**
   * Records a committed state of a partition: `versions` were exact when its head was `lockedHead`
   * (read under the lock, or cached and checked against it) and the partition's head is now
   * `newHead`, with `written` the versions the commit gave. Keys with no stream have version 0.
   */
  record(
    partitionSlot: string,
    lockedHead: number,
    newHead: number,
    versions: Iterable<[string, number]>,
  ): void {
    let entry = this.#partitions.get(partitionSlot);
    if (entry === undefined || entry.head !== lockedHead) {
      if (entry !== undefined) this.#keys -= entry.versions.size;
      entry = { head: lockedHead, versions: new Map() };
      this.#partitions.set(partitionSlot, entry);
    }
    for (const [key, version] of versions) {
      if (!entry.versions.has(key)) this.#keys += 1;
      entry.versions.set(key, version);
    }
    entry.head = newHead;
    if (this.#keys > this.#maxKeys) this.clear();
  }

  /** Forgets one partition, e.g. after a commit whose outcome is unknown. */
  forget(partitionSlot: string): void {
    const entry = this.#partitions.get(partitionSlot);
    if (entry === undefined) return;
    this.#keys -= entry.versions.size;
    this.#partitions.delete(partitionSlot);
  }

  clear(): void {
    this.#partitions.clear();
    this.#keys = 0;
  }
}
