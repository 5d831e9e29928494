import { createHash, randomUUID } from "node:crypto";
import { partitionForKey } from "@tributary/protocol";

/** Size of each event's `data` as JSON, in bytes (the brief's "~200-byte JSON data"). */
export const dataBytes = 200;
/** Distinct entity keys the events are spread over. */
export const keyCount = 50_000;

const types = ["OrderPlaced", "OrderPaid", "OrderShipped", "OrderCancelled"];
const filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ".repeat(4);

/** A small deterministic PRNG (mulberry32), so that every run sends the same payloads. */
function createRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` order events `{ type, key, data }` with keys spread over `keyCount` entities and `data`
 * padded to `dataBytes` of JSON. The same seed gives the same events.
 */
export function createEvents(count, seed = 1) {
  const random = createRandom(seed);
  const events = new Array(count);
  for (let index = 0; index < count; index += 1) {
    const orderNumber = Math.floor(random() * keyCount);
    const quantity = 1 + Math.floor(random() * 5);
    const priceCents = 100 + Math.floor(random() * 20_000);
    const data = {
      orderId: `order-${orderNumber}`,
      customerId: `customer-${Math.floor(random() * 10_000)}`,
      sku: `SKU-${Math.floor(random() * 100_000)}`,
      quantity,
      priceCents,
      totalCents: quantity * priceCents,
      currency: "EUR",
      note: "",
    };
    data.note = filler.slice(0, Math.max(0, dataBytes - JSON.stringify(data).length));
    events[index] = { type: types[Math.floor(random() * types.length)], key: `order-${orderNumber}`, data };
  }
  return events;
}

/** The body of one batched append request. */
export function batchBody(events) {
  return Buffer.from(JSON.stringify({ events }));
}

/**
 * The rows the bus would store for `events` appended in order to a fresh topic: partition by the
 * bus's own partitioner, contiguous offsets per partition, versions per key, serialized data and
 * metadata, an id and a content digest. Computed ahead of the raw-driver runs, so that those time
 * the database alone (the strictest baseline); `time` is set at insert.
 */
export function createRows(topic, partitions, events) {
  const nextOffsets = new Array(partitions).fill(0);
  const versions = new Map();
  return events.map((event) => {
    const partition = partitionForKey(event.key, partitions);
    const version = (versions.get(event.key) ?? 0) + 1;
    versions.set(event.key, version);
    const dataJson = JSON.stringify(event.data);
    return {
      id: randomUUID(),
      topic,
      partition,
      offset: nextOffsets[partition]++,
      key: event.key,
      version,
      type: event.type,
      dataJson,
      metadataJson: "{}",
      digest: createHash("sha256")
        .update(`${topic}\n${event.type}\n${event.key}\n${dataJson}\n{}`)
        .digest("base64url"),
    };
  });
}
