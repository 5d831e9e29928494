import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import type { EventStore } from "../store/event-store.js";
import { openStore } from "../store/open-store.js";
import { createTestStoreUrl, type TestStoreUrl } from "../testing/test-stores.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `check` for up to two seconds: a NOTIFY takes a moment to arrive. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let attempt = 0; attempt < 40; attempt += 1) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

describe("schema registry across two bus processes on one PostgreSQL", () => {
  let location: TestStoreUrl;
  const stores: EventStore[] = [];
  let first: Bus;
  let second: Bus;

  beforeAll(async () => {
    location = await createTestStoreUrl("postgres");
    for (let index = 0; index < 2; index += 1) {
      const store = openStore(location.url);
      await store.migrate();
      stores.push(store);
    }
    first = createBus({ store: stores[0] as EventStore });
    second = createBus({ store: stores[1] as EventStore });
  });

  afterAll(async () => {
    await first.close();
    await second.close();
    await location.cleanup();
  });

  const appendOn = (bus: Bus, data: unknown) =>
    bus.append("accounts", [{ type: "AccountOpened", data }]).then(
      () => "stored",
      (error: { code?: string }) => error.code,
    );

  it("validates on one process against a schema registered, changed or deleted on the other", async () => {
    // Given the second bus has appended (and cached that the type has no schema)
    expect(await appendOn(second, { anything: true })).toBe("stored");
    // When the first registers a schema, the second checks against it
    await first.registry.register("accounts-AccountOpened", {
      type: "object",
      required: ["accountId"],
      properties: { accountId: { type: "string" } },
    });
    expect(
      await eventually(async () => (await appendOn(second, { anything: true })) === "schema-violation"),
    ).toBe(true);
    expect(await appendOn(second, { accountId: "a-1" })).toBe("stored");
    // And when the first deletes it, the second stops checking
    await first.registry.deleteSubject("accounts-AccountOpened");
    expect(await eventually(async () => (await appendOn(second, { anything: true })) === "stored")).toBe(
      true,
    );
  });

  it("serializes registrations from both processes: versions are numbered once each", async () => {
    const schemas = Array.from({ length: 6 }, (_, index) => ({
      type: "object",
      properties: { [`field${index}`]: { type: "string" } },
    }));
    await first.registry.setCompatibility("ledger-Entry", "NONE");
    const results = await Promise.all(
      schemas.map((schema, index) =>
        (index % 2 === 0 ? first : second).registry.register("ledger-Entry", schema),
      ),
    );
    const versions = results.map((result) => result.version.version).sort((a, b) => a - b);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(results.map((result) => result.version.id)).size).toBe(6);
  });
});
