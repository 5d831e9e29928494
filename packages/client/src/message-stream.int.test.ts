import { type RunningServer, startServer } from "@tributary/bus";
import { createTestStoreUrl, type TestStoreUrl } from "@tributary/bus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type TributaryClient } from "./client.js";
import type { Message } from "./message-stream.js";

describe("client.consume against a bus on sqlite", () => {
  let location: TestStoreUrl;
  let server: RunningServer;
  let client: TributaryClient;

  beforeAll(async () => {
    location = await createTestStoreUrl("sqlite");
    server = await startServer({ store: location.url, port: 0, logger: false });
    client = createClient({ url: server.url });
    await client.putTopic("users", { partitions: 1 });
    await client.append(
      "users",
      Array.from({ length: 6 }, (_, index) => ({ type: "UserRenamed", key: "user-ada", data: { index } })),
    );
  });

  afterAll(async () => {
    await server?.close();
    await location?.cleanup();
  });

  it("yields messages in order; a nack brings the event back with the rest of its partition", async () => {
    // Given a stream over six versions of one user
    const messages = client.consume("profiles", {
      topic: "users",
      start: "earliest",
      consumer: "profiles-1",
      wait: 200,
      onError: () => {},
    });
    const seen: Array<[number, number]> = [];
    // When v3 is nacked once with no delay and everything else is acked
    for await (const message of messages) {
      seen.push([message.event.version as number, message.attempt]);
      if (message.event.version === 3 && message.attempt === 1) {
        expect(await message.nack(0, "profile store busy")).toBe(true);
      } else {
        expect(await message.ack()).toBe(true);
      }
      if (message.event.version === 6) break;
    }
    // Then the loop saw v1–v3, v3 again, then v4–v6; breaking out stopped the stream and left
    expect(seen).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [3, 2],
      [4, expect.any(Number)],
      [5, expect.any(Number)],
      [6, expect.any(Number)],
    ]);
    const status = await client.getSubscription("profiles");
    expect(status.consumers).toEqual([]);
    expect(status.lag).toBe(0);
  });

  it("resolves ack false for a delivery the bus no longer holds, and stop() ends the loop", async () => {
    // Given a stream holding a message of a subscription that is then reset
    await client.putSubscription("search", { topic: "users", start: "earliest" });
    const messages = client.consume("search", {
      ensure: false,
      consumer: "search-1",
      wait: 200,
      onError: () => {},
    });
    const iterator = messages[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as Message;
    expect(first.event.version).toBe(1);
    await first.working();
    await client.reset("search", "latest");
    // When it is acked
    // Then the ack reports the delivery as lost, and a second ack answers the same
    expect(await first.ack()).toBe(false);
    expect(await first.ack()).toBe(false);
    // When the stream stops, the loop ends and the instance has left
    await messages.stop();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect((await client.getSubscription("search")).consumers).toEqual([]);
    await messages.stop();
  });
});
