import type { EventCoordinates, StoredEvent, TopicInfo } from "@tributary/protocol";
import { expect } from "vitest";
import { request } from "./http.js";

/** Pages through one partition from offset 0 to its end (at most `maxPages` pages of 1000). */
export async function readWholePartition(
  url: string,
  topic: string,
  partition: number,
  maxPages = 200,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let from = 0;
  for (let page = 0; page < maxPages; page += 1) {
    const answer = await request<{ events: StoredEvent[]; next: number }>(
      `${url}/v1/topics/${topic}/partitions/${partition}/events?from=${from}&limit=1000`,
    );
    expect(answer.status).toBe(200);
    if (answer.body.events.length === 0) return events;
    events.push(...answer.body.events);
    from = answer.body.next;
  }
  throw new Error(`partition ${partition} of ${topic} has more than ${maxPages} pages`);
}

/** Every event of a topic, partition by partition, in offset order. */
export async function scanTopic(
  url: string,
  topic: string,
): Promise<{ info: TopicInfo; partitions: StoredEvent[][] }> {
  const answer = await request<TopicInfo>(`${url}/v1/topics/${topic}`);
  expect(answer.status).toBe(200);
  const partitions: StoredEvent[][] = [];
  for (let partition = 0; partition < answer.body.partitions; partition += 1) {
    partitions.push(await readWholePartition(url, topic, partition));
  }
  return { info: answer.body, partitions };
}

/**
 * Checks the invariants a reader relies on and returns the events by id: in each partition the
 * offsets run 0, 1, 2… without a gap and match the topic's head offsets; no id is stored twice; the
 * versions of each key run 1, 2, 3… in offset order.
 */
export function expectIntactTopic(scan: {
  info: TopicInfo;
  partitions: StoredEvent[][];
}): Map<string, StoredEvent> {
  const byId = new Map<string, StoredEvent>();
  const lastVersion = new Map<string, number>();
  scan.partitions.forEach((events, partition) => {
    expect(events.map((event) => event.offset)).toEqual(events.map((_, index) => index));
    expect(scan.info.headOffsets[partition]).toBe(events.length);
    for (const event of events) {
      expect(event.partition).toBe(partition);
      expect(byId.has(event.id), `id ${event.id} is stored twice`).toBe(false);
      byId.set(event.id, event);
      if (event.key !== null) {
        const expected = (lastVersion.get(event.key) ?? 0) + 1;
        expect(event.version, `version of ${event.key} at offset ${event.offset}`).toBe(expected);
        lastVersion.set(event.key, expected);
      }
    }
  });
  expect(scan.info.events).toBe(byId.size);
  return byId;
}

/** The coordinates part of a stored event, to compare with an append's answer. */
export function coordinatesOf(event: StoredEvent): EventCoordinates {
  const { id, topic, partition, offset, position, version, time } = event;
  return { id, topic, partition, offset, position, version, time };
}
