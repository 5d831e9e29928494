import { createHash } from "node:crypto";

const hashSpace = 1n << 128n;

/**
 * The partition of a key, as Kinesis places a partition key on a shard: partition `i` of `n` owns
 * the contiguous range `[i * 2^128 / n, (i + 1) * 2^128 / n)` of the key's MD5 hash, read as a
 * 128-bit unsigned big-endian integer. The same key always lands on the same partition for a given
 * partition count.
 */
export function partitionForKey(key: string, partitions: number): number {
  const hash = BigInt(`0x${createHash("md5").update(key, "utf8").digest("hex")}`);
  return Number((hash * BigInt(partitions)) / hashSpace);
}

/** The first hash of partition `index` of `partitions` (inclusive), as a decimal string. */
export function partitionHashRange(
  index: number,
  partitions: number,
): { startingHashKey: string; endingHashKey: string } {
  const start = (BigInt(index) * hashSpace + BigInt(partitions) - 1n) / BigInt(partitions);
  const nextStart = (BigInt(index + 1) * hashSpace + BigInt(partitions) - 1n) / BigInt(partitions);
  return { startingHashKey: start.toString(), endingHashKey: (nextStart - 1n).toString() };
}
