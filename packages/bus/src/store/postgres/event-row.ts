import type { EventCoordinates, EventMetadata, StoredEvent } from "@tributary/protocol";

/**
 * An `events` row as the driver returns it for
 * `SELECT id, topic, partition, "offset", position, version, type, key, time, data, metadata`:
 * bigint columns arrive as decimal strings, timestamptz as a Date, jsonb parsed.
 */
export interface EventRow {
  id: string;
  topic: string;
  partition: number;
  offset: string;
  position: string;
  version: string | null;
  type: string;
  key: string | null;
  time: Date;
  data: unknown;
  metadata: EventMetadata;
}

/**
 * The event as readers see it. Offsets, positions and versions become numbers (exact up to 2^53,
 * far beyond any real store); the time is ISO 8601 with milliseconds, as the append returned it.
 */
export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    ...toEventCoordinates(row),
    type: row.type,
    key: row.key,
    data: row.data,
    metadata: row.metadata,
  };
}

/** The coordinates of a stored event, from the columns of its row. */
export function toEventCoordinates(
  row: Pick<EventRow, "id" | "topic" | "partition" | "offset" | "position" | "version" | "time">,
): EventCoordinates {
  return {
    id: row.id,
    topic: row.topic,
    partition: row.partition,
    offset: Number(row.offset),
    position: Number(row.position),
    version: row.version === null ? null : Number(row.version),
    time: row.time.toISOString(),
  };
}
