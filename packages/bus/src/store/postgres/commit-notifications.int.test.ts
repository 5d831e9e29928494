import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestSchema, type TestSchema } from "../../testing/postgres-test-schema.js";
import { createCommitNotifications } from "./commit-notifications.js";
import { commitChannel } from "./schema-names.js";

/** Polls `check` every 25 ms until it holds; fails after `timeoutMs` naming `what`. */
async function eventually(what: string, check: () => boolean, timeoutMs = 10_000) {
  for (let waited = 0; waited < timeoutMs; waited += 25) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("commit notifications on PostgreSQL", () => {
  let schema: TestSchema;
  let driver: Sql;

  beforeAll(async () => {
    schema = await createTestSchema();
    driver = postgres(schema.url, { max: 2, onnotice: () => {} });
  });

  afterAll(async () => {
    await driver.end({ timeout: 5 });
    await schema.drop();
  });

  it("tells no listener of any kind after close, not even of a notification still on its way", async () => {
    // Given notifications listening through the real driver, which hands over each payload it hears
    const channel = commitChannel(schema.schema);
    let deliver: ((payload: string) => void) | undefined;
    let listened: Promise<unknown> | undefined;
    const listening = {
      listen: (name: string, onNotify: (payload: string) => void, onListen: () => void) => {
        deliver = onNotify;
        listened = driver.listen(name, onNotify, onListen);
        return listened;
      },
    } as unknown as Sql;
    const notifications = createCommitNotifications({
      sql: () => listening,
      channel,
      source: "this-process",
      readHeads: async () => [],
    });
    const heard: string[] = [];
    notifications.subscribe((notice) => heard.push(`commit ${notice.topic}`));
    notifications.subscribeSubscriptionChanges((name) => heard.push(`subscription ${name}`));
    notifications.subscribeRegistryChanges(() => heard.push("registry"));
    // and a registry change from another process, heard while open
    const registryChange = JSON.stringify({ source: "another-process", registry: true });
    await listened;
    await driver`SELECT pg_notify(${channel}, ${registryChange})`;
    await eventually("the registry change to be heard", () => heard.length > 0);
    expect(heard).toEqual(["registry"]);
    heard.length = 0;
    // When it is closed, and the driver then hands over what was already on its way
    notifications.close();
    deliver?.(registryChange);
    deliver?.(JSON.stringify({ source: "another-process", subscription: "audit" }));
    deliver?.(JSON.stringify({ source: "another-process", topic: "users", partition: 0, nextOffset: 1 }));
    // Then nobody hears of it: close let go of every listener
    expect(heard).toEqual([]);
  });
});
