import type { StoredEvent } from "@tributary/protocol";
import type { DeliveryRow } from "../store/event-store.js";
import { partitionKey } from "../store/topic-keys.js";

/**
 * Bytes counted for each cached event besides its JSON: the row and cache objects, its id and type.
 * An estimate (V8 does not tell), so that a cache of many tiny events is bounded too.
 */
const eventOverheadBytes = 256;
/** Bytes counted for each partition's window besides its events. */
const windowOverheadBytes = 256;

/**
 * An event as the cache holds it: its delivery row, whose JSON text is sent as is however many
 * subscriptions deliver it, and the event as an object, parsed from that text only when a consumer
 * of objects (push, SSE) first asks for it. The HTTP pull path never parses it.
 */
export class CachedEvent {
  readonly row: DeliveryRow;
  #event: StoredEvent | undefined;
  #bytes: number;
  /** Told of the bytes the parsed object adds, while a cache holds the event. */
  onGrow: ((bytes: number) => void) | undefined;

  constructor(row: DeliveryRow) {
    this.row = row;
    this.#bytes = row.openJson.length + eventOverheadBytes;
  }

  /** The event as JSON text, in the shape of `JSON.stringify` of the stored event. */
  get json(): string {
    return `${this.row.openJson.toString()}}`;
  }

  /**
   * The memory the event takes, as the cache counts it: its JSON, a fixed overhead, and once it is
   * parsed as much again for the object (an estimate: the strings of the object are about as long
   * as the JSON they came from).
   */
  get bytes(): number {
    return this.#bytes;
  }

  /** The event as an object, parsed once and shared: callers must not modify it. */
  get event(): StoredEvent {
    if (this.#event === undefined) {
      this.#event = JSON.parse(this.json) as StoredEvent;
      const added = this.row.openJson.length;
      this.#bytes += added;
      this.onGrow?.(added);
    }
    return this.#event;
  }
}

/**
 * Reads delivery rows of one partition (`readPartitionForDelivery`), in offset order from `from`:
 * at most `limit`, and rows of at most about `maxBytes` in all, but at least one when there is one.
 */
export type PartitionLoader = (
  from: number,
  limit: number,
  maxBytes: number,
) => Promise<readonly DeliveryRow[]>;

interface Window {
  key: string;
  /** Offset of `events[0]`. */
  start: number;
  events: CachedEvent[];
  /** The `bytes` of `events`, summed. */
  bytes: number;
  /** A load in flight that will extend the window at its end, shared by concurrent readers. */
  extending: Promise<CachedEvent[]> | undefined;
}

export interface EventCacheOptions {
  /**
   * Bytes of events kept in all, over every partition (default 64 MiB), as `CachedEvent.bytes`
   * counts them. When more are loaded, the oldest events of the least recently read partitions go
   * first. 0 keeps nothing: every read goes to the store.
   */
  maxBytes?: number;
}

/** Default of `EventCacheOptions.maxBytes`: 64 MiB. */
export const defaultEventCacheBytes = 64 * 1024 * 1024;

/**
 * The recently delivered events of each partition, shared by every subscription of this process:
 * when many subscriptions read the same topic they read it from memory, and each event is read from
 * the store once. It keeps, per partition, a window of contiguous offsets; committed events never
 * change, so a cached event never goes stale. A read before the window goes to the store (a
 * subscription catching up on old events does not evict the live tail); a read at the window's end
 * extends it. Memory is bounded by bytes, not by a count of events: events may be up to 1 MiB each.
 * An event larger than the whole budget is delivered but not kept.
 */
export class EventCache {
  readonly #windows = new Map<string, Window>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: EventCacheOptions = {}) {
    this.#maxBytes = options.maxBytes ?? defaultEventCacheBytes;
  }

  /** The bytes held now, as `CachedEvent.bytes` counts them, with each partition's overhead. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The events held now, over every partition. */
  get events(): number {
    let count = 0;
    for (const window of this.#windows.values()) count += window.events.length;
    return count;
  }

  /**
   * Events of one partition from `from`, in offset order: at most `limit`, and no more than
   * `maxBytes` of JSON in all (`row.openJson`), except that the first event is returned whatever
   * its size. Fewer when the partition has no more yet.
   */
  async read(
    topic: string,
    partition: number,
    from: number,
    limit: number,
    maxBytes: number,
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
      const events = (await load(from, limit, maxBytes)).map(toCached);
      // A read before the window does not replace it: the live tail stays.
      if (window === undefined || from >= window.start) this.#install(key, from, events);
      return within(events, 0, limit, maxBytes, []);
    }
    const taken = within(window.events, from - window.start, limit, maxBytes, []);
    const isWindowEnd = from + taken.length === window.start + window.events.length;
    if (taken.length === limit || !isWindowEnd || sizeOf(taken) >= maxBytes) return taken;
    const room = maxBytes - sizeOf(taken);
    const loaded = await this.#extend(window, Math.max(limit - taken.length, 100), room, load);
    const next = from + taken.length;
    const first = loaded.findIndex((event) => event.row.offset === next);
    return first === -1 ? taken : within(loaded, first, limit, maxBytes, taken);
  }

  /** Loads the events after the window's end and adds those that still continue it. */
  #extend(window: Window, limit: number, maxBytes: number, load: PartitionLoader): Promise<CachedEvent[]> {
    if (window.extending !== undefined) return window.extending;
    const extending = (async () => {
      const events = (await load(window.start + window.events.length, limit, maxBytes)).map(toCached);
      // Only events that continue the window are added (a reset may have moved it meanwhile),
      // and only while the window is still the one cached for its partition.
      if (this.#windows.get(window.key) === window) {
        for (const event of events) {
          const next = window.start + window.events.length;
          if (event.row.offset < next) continue;
          if (event.row.offset > next) break;
          this.#add(window, event);
        }
        this.#evict();
      }
      return events;
    })();
    window.extending = extending;
    const done = () => {
      if (window.extending === extending) window.extending = undefined;
    };
    extending.then(done, done);
    return extending;
  }

  #install(key: string, from: number, events: CachedEvent[]): void {
    const previous = this.#windows.get(key);
    if (previous !== undefined) this.#drop(previous);
    // The window starts at the first event read, which is after `from` when retention removed those
    // before it, and holds contiguous offsets only.
    const start = events[0]?.row.offset ?? from;
    const window: Window = { key, start, events: [], bytes: windowOverheadBytes, extending: undefined };
    this.#windows.set(key, window);
    this.#bytes += windowOverheadBytes;
    for (const event of events) {
      if (event.row.offset !== window.start + window.events.length) break;
      this.#add(window, event);
    }
    this.#evict();
  }

  #add(window: Window, event: CachedEvent): void {
    window.events.push(event);
    window.bytes += event.bytes;
    this.#bytes += event.bytes;
    event.onGrow = (added) => {
      window.bytes += added;
      this.#bytes += added;
      this.#evict();
    };
  }

  #drop(window: Window): void {
    for (const event of window.events) event.onGrow = undefined;
    this.#bytes -= window.bytes;
    this.#windows.delete(window.key);
  }

  /** Forgets the oldest events of the least recently read windows until the cache fits its budget. */
  #evict(): void {
    for (const window of this.#windows.values()) {
      if (this.#bytes <= this.#maxBytes) return;
      let dropped = 0;
      while (dropped < window.events.length && this.#bytes > this.#maxBytes) {
        const event = window.events[dropped] as CachedEvent;
        event.onGrow = undefined;
        window.bytes -= event.bytes;
        this.#bytes -= event.bytes;
        dropped++;
      }
      window.events.splice(0, dropped);
      window.start += dropped;
      if (window.events.length === 0 && this.#bytes > this.#maxBytes) this.#drop(window);
    }
  }
}

function toCached(row: DeliveryRow): CachedEvent {
  return new CachedEvent(row);
}

function sizeOf(events: readonly CachedEvent[]): number {
  let bytes = 0;
  for (const event of events) bytes += event.row.openJson.length;
  return bytes;
}

/**
 * Appends to `taken` the events of `events` from `index` on, while `taken` has fewer than `limit`
 * and their JSON stays within `maxBytes`; the first event of an empty `taken` whatever its size.
 */
function within(
  events: readonly CachedEvent[],
  index: number,
  limit: number,
  maxBytes: number,
  taken: CachedEvent[],
): CachedEvent[] {
  let bytes = sizeOf(taken);
  for (let at = index; at < events.length && taken.length < limit; at++) {
    const event = events[at] as CachedEvent;
    const size = event.row.openJson.length;
    if (taken.length > 0 && bytes + size > maxBytes) break;
    taken.push(event);
    bytes += size;
  }
  return taken;
}
