import { describe, expect, it } from "vitest";
import { LruCache } from "./lru-cache.js";

describe("LRU cache", () => {
  it("forgets the least recently used entry, one at a time, when full", () => {
    // Given a cache of 3 where "a" was read after "b" and "c" were set
    const cache = new LruCache<string, number>(3);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    expect(cache.get("a")).toBe(1);
    // When two more are set
    cache.set("d", 4);
    cache.set("e", 5);
    // Then "b" and "c" went, in that order, and the rest stayed
    expect([...cache.values()]).toEqual([1, 4, 5]);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.size).toBe(3);
  });

  it("replaces a value in place of a new entry, and deletes", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("a", 3);
    expect(cache.size).toBe(2);
    expect([...cache.values()]).toEqual([2, 3]);
    cache.delete("b");
    expect([...cache.values()]).toEqual([3]);
  });
});
