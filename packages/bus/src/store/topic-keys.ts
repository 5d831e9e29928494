/*
 * Map keys of a topic's partitions and of its entity streams: the topic name, NUL, then the
 * partition or the event key. NUL cannot occur in a topic name, so keys of different topics never
 * collide, and each key splits back at its first NUL.
 */

/** The map key of partition `partition` of `topic`. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The topic and partition of a `partitionKey`. */
export function parsePartitionKey(key: string): { topic: string; partition: number } {
  const [topic, partition] = splitAtTopic(key);
  return { topic, partition: Number(partition) };
}

/** The map key of the entity stream of event key `key` in `topic`. */
export function streamKey(topic: string, key: string): string {
  return `${topic}\u0000${key}`;
}

/** The topic and event key of a `streamKey` (the event key may hold NUL itself). */
export function parseStreamKey(stream: string): { topic: string; key: string } {
  const [topic, key] = splitAtTopic(stream);
  return { topic, key };
}

function splitAtTopic(key: string): [string, string] {
  const separator = key.indexOf("\u0000");
  return [key.slice(0, separator), key.slice(separator + 1)];
}
