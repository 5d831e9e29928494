import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { prepareEvent } from "../../append/prepare-event.js";
import { createSqliteStore } from "./sqlite-store.js";
import { writerWorkerUrl } from "./writer.js";

const folder = mkdtempSync(join(tmpdir(), "tributary-writer-"));

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe("the SQLite writer thread", () => {
  it("runs the sources under test, not a build of them", async () => {
    // Given a store run from its TypeScript sources (as every test runs it)
    const store = createSqliteStore({ path: join(folder, "store.db") });
    await store.migrate();

    // When an event is appended (the writer thread commits it)
    await store.putTopic("users", { partitions: 1 });
    const event = prepareEvent("users", { type: "UserCreated", key: "user-1", data: { name: "Ada" } });
    const [outcome] = await store.appendGroup([{ topic: "users", events: [event] }], {
      autoCreate: false,
      defaultPartitions: 1,
    });
    await store.close();

    // Then the thread ran the worker's source beside the writer, whatever dist/ holds
    expect(fileURLToPath(writerWorkerUrl())).toBe(
      join(dirname(fileURLToPath(import.meta.url)), "writer-worker.ts"),
    );
    expect(outcome).toMatchObject({ ok: true, replayed: false });
  });
});
