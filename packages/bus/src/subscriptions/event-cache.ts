import type { StoredEvent } from "@tributary/protocol";
import type { DeliveryRow } from "../store/event-store.js";
import { partitionKey } from "../store/topic-keys.js";

/**
 * An event as the cache holds it: its delivery row, whose JSON text is sent as is however many
 * subscriptions deliver it, and the event as an object, parsed from that text only when a consumer
 * of objects (push, SSE) first asks for it. The HTTP pull path never parses it.
 */
export class CachedEvent {
  readonly row: DeliveryRow;
  #event: StoredEvent | undefined;

  constructor(row: DeliveryRow) {
    this.row = row;
  }

  /** The event as JSON text, in the shape of `JSON.stringify` of the stored event. */
  get json(): string {
    return `${this.row.openJson.toString()}}`;
  }

  /** The event as an object, parsed once and shared: callers must not modify it. */
  get event(): StoredEvent {
    this.#event ??= JSON.parse(this.json) as StoredEvent;
    return this.#event;
  }
}

/** Reads delivery rows of one partition (`readPartitionForDelivery`), in offset order from `from`. */
export type PartitionLoader = (from: number, limit: number) => Promise<readonly DeliveryRow[]>;

interface Window {
  /** Offset of `events[0]`. */
  start: number;
  events: CachedEvent[];
  /** A load in flight that will extend the window at its end, shared by concurrent readers. */
  extending: Promise<void> | undefined;
}

export interface EventCacheOptions {
  /** Events kept per partition, the most recent read (default 4096). */
  eventsPerPartition?: number;
  /** Partitions kept; the least recently read go first (default 64). */
  partitions?: number;
}

/**
 * The recently delivered events of each partition, shared by every subscription of this process:
 * when many subscriptions read the same topic they read it from memory, and each event is read from
 * the store once. It keeps, per partition, a window of contiguous offsets;
 * committed events never change, so a cached event never goes stale. A read before the window goes
 * to the store (a subscription catching up on old events does not evict the live tail); a read at
 * the window's end extends it.
 */
export class EventCache {
  readonly #windows = new Map<string, Window>();
  readonly #eventsPerPartition: number;
  readonly #partitions: number;

  constructor(options: EventCacheOptions = {}) {
    this.#eventsPerPartition = options.eventsPerPartition ?? 4096;
    this.#partitions = options.partitions ?? 64;
  }

  async read(
    topic: string,
    partition: number,
    from: number,
    limit: number,
    load: PartitionLoader,
  ): Promise<CachedEvent[]> {
    const key = partitionKey(topic, partition);
    const window = this.#windows.get(key);
    if (window !== undefined) {
      // Most recently used last: Map keeps insertion order, the first entry is evicted first.
      this.#windows.delete(key);
      this.#windows.set(key, window);
    }
    const end = window === undefined ? undefined : window.start + window.events.length;
    if (window === undefined || end === undefined || from > end || from < window.start) {
      if (window !== undefined && end !== undefined && from < window.start) {
        return (await load(from, limit)).map(toCached);
      }
      // Nothing cached here yet, or the reader is past the window: start a new one at `from`.
      const events = (await load(from, limit)).map(toCached);
      this.#install(key, from, events);
      return events;
    }
    if (from + limit > end) await this.#extend(window, limit, load);
    const offset = from - window.start;
    return window.events.slice(Math.max(offset, 0), offset + limit);
  }

  async #extend(window: Window, limit: number, load: PartitionLoader): Promise<void> {
    if (window.extending === undefined) {
      const from = window.start + window.events.length;
      window.extending = load(from, Math.max(limit, 100)).then(
        (events) => {
          window.extending = undefined;
          // Only events that continue the window are added (a reset may have moved it meanwhile).
          for (const event of events) {
            const next = window.start + window.events.length;
            if (event.offset < next) continue;
            if (event.offset > next) break;
            window.events.push(toCached(event));
          }
          const excess = window.events.length - this.#eventsPerPartition;
          if (excess > 0) {
            window.events.splice(0, excess);
            window.start += excess;
          }
        },
        (error: unknown) => {
          window.extending = undefined;
          throw error;
        },
      );
    }
    await window.extending;
  }

  #install(key: string, start: number, events: CachedEvent[]): void {
    const kept = events.slice(Math.max(events.length - this.#eventsPerPartition, 0));
    this.#windows.set(key, {
      start: start + (events.length - kept.length),
      events: kept,
      extending: undefined,
    });
    while (this.#windows.size > this.#partitions) {
      const oldest = this.#windows.keys().next().value as string;
      this.#windows.delete(oldest);
    }
  }
}

function toCached(row: DeliveryRow): CachedEvent {
  return new CachedEvent(row);
}
