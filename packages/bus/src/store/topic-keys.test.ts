import { describe, expect, it } from "vitest";
import { parsePartitionKey, parseStreamKey, partitionKey, streamKey } from "./topic-keys.js";

describe("topic keys", () => {
  it("split back into the topic and the partition", () => {
    // Given the key of a partition
    const key = partitionKey("users.v2", 11);

    // When it is parsed
    const parsed = parsePartitionKey(key);

    // Then it names the same partition
    expect(parsed).toEqual({ topic: "users.v2", partition: 11 });
  });

  it("never collide across topics whose names share a prefix", () => {
    // Given partitions of topics `a` and `a1`
    const keys = [partitionKey("a", 11), partitionKey("a1", 1), partitionKey("a", 1)];

    // When their keys are compared
    const distinct = new Set(keys);

    // Then there are as many keys as partitions
    expect(distinct.size).toBe(keys.length);
  });

  it("keep an event key whole, whatever characters it holds", () => {
    // Given the stream of an event key with a NUL in it
    const stream = streamKey("users", "user\u00001");

    // When it is parsed
    const parsed = parseStreamKey(stream);

    // Then the topic ends at the first NUL and the key is unchanged
    expect(parsed).toEqual({ topic: "users", key: "user\u00001" });
  });
});
