import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { partitionForKey, partitionHashRange } from "./partitioner.js";

describe("partitionForKey", () => {
  it("places keys by the 128-bit MD5 hash range, as Kinesis shards do", () => {
    // Expected values computed independently: floor(int(md5(key)) * n / 2^128).
    const expected: Record<string, number[]> = {
      a: [0, 0, 0, 0, 0],
      "user-1": [0, 1, 3, 5, 13],
      "user-2": [0, 0, 0, 1, 3],
      "org-42": [0, 1, 3, 6, 13],
    };
    for (const [key, partitions] of Object.entries(expected)) {
      expect([1, 2, 4, 7, 16].map((n) => partitionForKey(key, n))).toEqual(partitions);
    }
  });

  it("spreads many keys over all partitions", () => {
    const counts = new Array<number>(8).fill(0);
    for (let index = 0; index < 8000; index++) {
      const partition = partitionForKey(`user-${index}`, 8);
      counts[partition] = (counts[partition] ?? 0) + 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it("agrees with the hash ranges it publishes", () => {
    for (const key of ["user-1", "org-42", "x", "ünïcødé"]) {
      const hash = BigInt(`0x${createHash("md5").update(key).digest("hex")}`);
      const partition = partitionForKey(key, 5);
      const range = partitionHashRange(partition, 5);
      expect(hash >= BigInt(range.startingHashKey)).toBe(true);
      expect(hash <= BigInt(range.endingHashKey)).toBe(true);
    }
  });

  it("publishes contiguous ranges covering the whole hash space", () => {
    const ranges = [0, 1, 2].map((index) => partitionHashRange(index, 3));
    expect(ranges[0]?.startingHashKey).toBe("0");
    expect(BigInt(ranges[1]!.startingHashKey)).toBe(BigInt(ranges[0]!.endingHashKey) + 1n);
    expect(BigInt(ranges[2]!.startingHashKey)).toBe(BigInt(ranges[1]!.endingHashKey) + 1n);
    expect(ranges[2]?.endingHashKey).toBe(((1n << 128n) - 1n).toString());
  });
});
