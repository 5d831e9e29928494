import { describe, expect, it } from "vitest";
import { StreamVersionCache } from "./stream-version-cache.js";

describe("StreamVersionCache", () => {
  it("answers a version only while the partition's head is the one it was recorded at", () => {
    const cache = new StreamVersionCache(100);
    cache.record("p0", 0, 2, [
      ["a", 2],
      ["b", 0],
    ]);
    expect(cache.head("p0")).toBe(2);
    expect(cache.lookup("p0", "a", 2)).toBe(2);
    expect(cache.lookup("p0", "b", 2)).toBe(0);
    expect(cache.lookup("p0", "a", 3)).toBeUndefined();
    expect(cache.lookup("p0", "c", 2)).toBeUndefined();
    expect(cache.lookup("p1", "a")).toBeUndefined();
  });

  it("merges a commit made at its head and starts afresh after one made at another head", () => {
    const cache = new StreamVersionCache(100);
    cache.record("p0", 0, 1, [["a", 1]]);
    cache.record("p0", 1, 2, [["b", 1]]);
    expect([cache.lookup("p0", "a"), cache.lookup("p0", "b")]).toEqual([1, 1]);
    // Another process appended: the head read under the lock was 5, not 2
    cache.record("p0", 5, 6, [["b", 3]]);
    expect([cache.lookup("p0", "a"), cache.lookup("p0", "b"), cache.head("p0")]).toEqual([undefined, 3, 6]);
  });

  it("stays within its bound by forgetting everything when it would grow past it", () => {
    const cache = new StreamVersionCache(3);
    cache.record("p0", 0, 2, [
      ["a", 1],
      ["b", 1],
    ]);
    cache.record("p1", 0, 1, [["c", 1]]);
    expect(cache.lookup("p1", "c")).toBe(1);
    cache.record("p1", 1, 2, [["d", 1]]);
    expect([cache.lookup("p0", "a"), cache.lookup("p1", "d"), cache.head("p1")]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    cache.record("p1", 2, 3, [["e", 1]]);
    cache.forget("p1");
    expect(cache.head("p1")).toBeUndefined();
  });
});
