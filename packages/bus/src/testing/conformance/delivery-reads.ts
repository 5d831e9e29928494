import { describe, expect, it } from "vitest";
import { prepareEvent } from "../../append/prepare-event.js";
import type { DeliveryRow } from "../../store/event-store.js";
import { appendCommand, type ConformanceContext, expectCommitted, range, userCreated } from "./fixtures.js";

/** readPartitionForDelivery: the events of readPartition, with their JSON passed through as stored. */
export function describeDeliveryReadConformance(context: ConformanceContext): void {
  describe("delivery reads", () => {
    it("reads the same offsets as readPartition, from an offset, at most the limit", async () => {
      // Given 10 events in the single partition of users
      const store = context.store();
      await store.putTopic("users", { partitions: 1 });
      expectCommitted(
        await appendCommand(
          store,
          "users",
          range(10).map((index) => userCreated(`user-${index}`)),
        ),
      );

      // When the partition is read for delivery from offset 3, 4 at most, and from its head
      const page = await store.readPartitionForDelivery("users", 0, 3, 4);
      const atHead = await store.readPartitionForDelivery("users", 0, 10, 4);

      // Then the rows are those of readPartition, with their fields as values
      const stored = await store.readPartition("users", 0, 3, 4);
      expect(page.map(({ id, partition, offset, type }) => ({ id, partition, offset, type }))).toEqual(
        stored.map(({ id, partition, offset, type }) => ({ id, partition, offset, type })),
      );
      expect(atHead).toEqual([]);
    });

    it("gives JSON that parses to the stored event, field for field and in the same order", async () => {
      // Given events with awkward ids, types, keys, payloads and metadata
      const store = context.store();
      await store.putTopic("users", { partitions: 1 });
      const payloads: unknown[] = [
        {
          name: "Zoë Ångström 🚀 名前",
          quote: 'she said "hi"\\ \n\t\u0001\u2028',
          percent: "100% %s %d %%",
          nested: { list: [1, -2.5, 1e-7, 12345678901234, true, false, null, { deep: [[]] }], empty: {} },
          big: 12345678901234567000, // beyond 2^53: stored as the nearest double
          max: Number.MAX_SAFE_INTEGER,
          min: -Number.MAX_SAFE_INTEGER,
        },
        null,
        'a "string" with \\ and \n',
        [1, "two", { three: 3 }],
        0,
        false,
      ];
      const metadata = {
        correlationId: "corr-ü",
        causationId: 'cause-"1"',
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        source: "users-service",
        schemaVersion: 2,
        tenant: { id: "org-1", tags: ["a", "b"] },
      };
      const events = payloads.map((data, index) =>
        prepareEvent("users", {
          id: `evt-"${index}"\\ü%s`,
          type: `User"Payload"\t${index}`,
          ...(index % 2 === 0 ? { key: `user-"ü"\n${index}` } : {}),
          data,
          metadata,
        }),
      );
      events.push(prepareEvent("users", { type: "UserPayload" }));
      expectCommitted(await appendCommand(store, "users", events));

      // When the partition is read both ways
      const rows = await store.readPartitionForDelivery("users", 0, 0, 100);
      const stored = await store.readPartition("users", 0, 0, 100);

      // Then each row's JSON is the stored event, and serializing it again gives the same text
      expect(rows).toHaveLength(events.length);
      const json = (row: DeliveryRow | undefined) => `${row?.openJson.toString()}}`;
      rows.forEach((row, index) => {
        const event = stored[index];
        expect(JSON.parse(json(row))).toEqual(event);
        expect(JSON.stringify(JSON.parse(json(row)))).toBe(JSON.stringify(event));
        expect([row.id, row.partition, row.offset, row.type]).toEqual([
          event?.id,
          event?.partition,
          event?.offset,
          event?.type,
        ]);
      });
      expect(JSON.parse(json(rows[1]))).toMatchObject({ data: null, key: null, version: null });
      expect(JSON.parse(json(rows[payloads.length]))).toMatchObject({ data: null, metadata: {} });
    });
  });
}
