import type { EventMetadata, StoredEvent } from "@tributary/protocol";

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
