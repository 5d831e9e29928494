import type { EventMetadata, StoredEvent } from "@tributary/protocol";
import type { DeliveryRow } from "../event-store.js";

/** The columns every event read selects, in the shape of `EventRow`. */
export const eventColumns = `position, id, topic, "partition", "offset", key, version, type, time, data, metadata`;

/** An `events` row as `eventColumns` selects it. */
export interface EventRow {
  position: number;
  id: string;
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  version: number | null;
  type: string;
  time: string;
  data: string;
  metadata: string;
}

/** What a read bounded by bytes counts of a row: the UTF-8 bytes of `data` and `metadata`. */
export function payloadBytes(row: EventRow): number {
  return Buffer.byteLength(row.data) + Buffer.byteLength(row.metadata);
}

/** A row as readers see it: `data` and `metadata` parsed back from their stored JSON text. */
export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    topic: row.topic,
    partition: row.partition,
    offset: row.offset,
    position: row.position,
    version: row.version,
    time: row.time,
    type: row.type,
    key: row.key,
    data: JSON.parse(row.data) as unknown,
    metadata: JSON.parse(row.metadata) as EventMetadata,
  };
}

/**
 * The columns of a delivery read, as a raw row (`DeliveryTuple`): the fields delivery decides on,
 * then the whole event as JSON text, built by SQLite. `data` and `metadata` are stored as JSON text
 * and go in unparsed; `json_quote` escapes the strings. Building the text in SQL rather than in
 * JavaScript means the driver makes six values per row instead of eleven, which is most of the
 * cost of a read on the event loop; one `format()` makes it in one buffer, where a chain of `||`
 * would copy it once per piece.
 */
export const deliveryColumns = `id, "partition", "offset", type, CAST(format(
  '{"id":%s,"topic":%s,"partition":%d,"offset":%d,"position":%d,"version":%s,"time":%s,"type":%s,"key":%s,"data":%s,"metadata":%s',
  json_quote(id), json_quote(topic), "partition", "offset", position, coalesce(version, 'null'),
  json_quote(time), json_quote(type), json_quote(key), data, metadata) AS BLOB),
  octet_length(data) + octet_length(metadata)`;

/**
 * A raw (array) row as `deliveryColumns` selects it: id, partition, offset, type, the open JSON
 * text as a blob, which the driver hands over as a Buffer without decoding it, and the bytes of
 * `data` and `metadata` (what a read bounded by bytes counts).
 */
export type DeliveryTuple = [string, number, number, string, Buffer, number];

/** A delivery row from its raw row. */
export function toDeliveryRow(tuple: DeliveryTuple): DeliveryRow {
  return { id: tuple[0], partition: tuple[1], offset: tuple[2], type: tuple[3], openJson: tuple[4] };
}
