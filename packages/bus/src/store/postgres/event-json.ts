import type { StoredEvent } from "@tributary/protocol";

/** A stored event with `data` and `metadata` as the JSON text the store holds, unparsed. */
export type EventJsonFields = Omit<StoredEvent, "data" | "metadata"> & {
  dataJson: string;
  metadataJson: string;
};

/**
 * The JSON text of a stored event without its closing `}` (see `DeliveryRow.openJson`), by concatenation: the same field order as `JSON.stringify` of the
 * `StoredEvent` that the adapters' `toStoredEvent` builds (id, topic, partition, offset, position,
 * version, time, type, key, data, metadata), with `data` and `metadata` spliced in unparsed. Strings
 * go through `JSON.stringify` for escaping; the numbers are integers, which print the same either
 * way. `quotedTopic` may be given when many events of one topic are written, to escape it once.
 */
export function openEventJson(fields: EventJsonFields, quotedTopic = JSON.stringify(fields.topic)): string {
  const key = fields.key === null ? "null" : JSON.stringify(fields.key);
  return (
    `{"id":${JSON.stringify(fields.id)},"topic":${quotedTopic},"partition":${fields.partition}` +
    `,"offset":${fields.offset},"position":${fields.position},"version":${fields.version}` +
    `,"time":${JSON.stringify(fields.time)},"type":${JSON.stringify(fields.type)},"key":${key}` +
    `,"data":${fields.dataJson},"metadata":${fields.metadataJson}`
  );
}
