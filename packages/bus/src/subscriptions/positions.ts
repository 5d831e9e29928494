import { type ResetTarget, type StartPosition, type TopicInfo, TributaryError } from "@tributary/protocol";
import type { EventStore } from "../store/event-store.js";

/** Per partition of `topic`, the offset a subscription starting at `start` begins at. */
export async function startOffsets(
  store: EventStore,
  topic: TopicInfo,
  start: StartPosition,
): Promise<number[]> {
  if (start === "earliest") return topic.headOffsets.map(() => 0);
  if (start === "latest") return [...topic.headOffsets];
  if ("time" in start) return store.offsetsAt(topic.name, { time: new Date(start.time) });
  return store.offsetsAt(topic.name, { position: start.position });
}

/**
 * The offsets a reset moves partitions to: every partition for a start position, the named ones
 * for explicit offsets (each at most the partition's head).
 */
export async function resetPartitions(
  store: EventStore,
  topic: TopicInfo,
  to: ResetTarget,
): Promise<Map<number, number>> {
  if (typeof to === "string" || !("offsets" in to)) {
    const offsets = await startOffsets(store, topic, to);
    return new Map(offsets.map((offset, partition) => [partition, offset]));
  }
  const targets = new Map<number, number>();
  const errors: { pointer: string; message: string }[] = [];
  for (const [key, offset] of Object.entries(to.offsets)) {
    const partition = Number(key);
    const head = topic.headOffsets[partition];
    if (!/^(0|[1-9][0-9]*)$/.test(key) || head === undefined) {
      errors.push({
        pointer: `/to/offsets/${key}`,
        message: `${topic.name} has partitions 0–${topic.partitions - 1}`,
      });
    } else if (!Number.isSafeInteger(offset) || offset < 0 || offset > head) {
      errors.push({
        pointer: `/to/offsets/${key}`,
        message: `must be an offset from 0 to the head, ${head}`,
      });
    } else {
      targets.set(partition, offset);
    }
  }
  if (errors.length > 0) {
    throw new TributaryError("invalid-request", {
      message: errors.map((error) => `${error.pointer} ${error.message}`).join("; "),
      details: { errors },
    });
  }
  return targets;
}
