import { type RunningServer, startServer } from "@tributary/bus";
import { createTestStoreUrl, type TestStoreUrl } from "@tributary/bus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type TributaryClient } from "./client.js";
import { isDeliveryNotHeld, isNotFound } from "./index.js";

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("the subscription calls against a bus on sqlite", () => {
  let location: TestStoreUrl;
  let server: RunningServer;
  let client: TributaryClient;

  beforeAll(async () => {
    location = await createTestStoreUrl("sqlite");
    server = await startServer({ store: location.url, port: 0, logger: false });
    client = createClient({ url: server.url });
    await client.putTopic("organizations", { partitions: 1 });
  });

  afterAll(async () => {
    await server?.close();
    await location?.cleanup();
  });

  it("creates, updates, lists, shows and deletes a subscription", async () => {
    // Given a new subscription
    const created = await client.putSubscription("org-directory", {
      topic: "organizations",
      start: "earliest",
    });
    expect(created).toMatchObject({ name: "org-directory", topic: "organizations", maxAttempts: 5 });
    // When its delivery settings change
    const updated = await client.putSubscription("org-directory", {
      topic: "organizations",
      start: "earliest",
      maxAttempts: 3,
    });
    // Then it is updated in place, listed, and its status shows the partitions
    expect(updated.maxAttempts).toBe(3);
    expect((await client.listSubscriptions()).map((subscription) => subscription.name)).toContain(
      "org-directory",
    );
    const status = await client.getSubscription("org-directory");
    expect(status.partitions).toHaveLength(1);
    expect(status.consumers).toEqual([]);
    // and another topic for the same name is a conflict
    expect(await caught(client.putSubscription("org-directory", { topic: "users" }))).toMatchObject({
      code: "subscription-conflict",
    });
    // When it is deleted, it is gone
    await client.deleteSubscription("org-directory");
    const missing = await caught(client.getSubscription("org-directory"));
    expect(isNotFound(missing)).toBe(true);
    expect(missing).toMatchObject({ code: "subscription-not-found" });
  });

  it("polls, acks, nacks, heartbeats and leaves", async () => {
    // Given a subscription from the start of a topic with two events
    await client.putSubscription("org-billing", {
      topic: "organizations",
      start: "latest",
      backoff: { initialMs: 1, maxMs: 1 },
    });
    await client.append("organizations", [
      { type: "OrganizationCreated", key: "org-acme", data: { name: "Acme" } },
      { type: "OrganizationRenamed", key: "org-acme", data: { name: "Acme Inc" } },
    ]);
    // When a consumer polls
    const first = await client.poll("org-billing", { consumer: "billing-1", max: 10, wait: 1_000 });
    // Then it gets both events on the first attempt, and holds the partition
    expect(first.events.map((event) => [event.type, event.attempt])).toEqual([
      ["OrganizationCreated", 1],
      ["OrganizationRenamed", 1],
    ]);
    expect(first.partitions).toEqual([0]);
    expect(await client.heartbeat("org-billing", "billing-1")).toEqual({ partitions: [0] });
    const [created, renamed] = first.events.map((event) => event.id) as [string, string];

    // When the first is acked and the second nacked with no delay
    expect(await client.ack("org-billing", "billing-1", [created])).toEqual({ acked: 1 });
    expect(
      await client.nack("org-billing", "billing-1", [renamed], { error: "ledger down", retryAfterMs: 0 }),
    ).toEqual({ nacked: 1, deadLettered: [] });
    // Then acking it again is refused, and the nacked one comes back on its second attempt
    expect(isDeliveryNotHeld(await caught(client.ack("org-billing", "billing-1", [created])))).toBe(true);
    const again = await client.poll("org-billing", { consumer: "billing-1", wait: 5_000 });
    expect(again.events.map((event) => [event.id, event.attempt])).toEqual([[renamed, 2]]);

    // When the consumer leaves, its unacknowledged event goes to the next one
    await client.leave("org-billing", "billing-1");
    expect((await client.getSubscription("org-billing")).consumers).toEqual([]);
    const next = await client.poll("org-billing", { consumer: "billing-2", wait: 5_000 });
    expect(next.events.map((event) => event.id)).toEqual([renamed]);
    await client.ack("org-billing", "billing-2", [renamed]);
    await client.leave("org-billing", "billing-2");
    expect((await client.getSubscription("org-billing")).lag).toBe(0);
  });

  it("dead-letters an event, then lists, gets, redrives and discards it", async () => {
    // Given a subscription that gives up after one failure
    await client.putSubscription("org-audit", { topic: "organizations", start: "latest", maxAttempts: 1 });
    const appended = await client.append("organizations", {
      type: "OrganizationDeleted",
      key: "org-globex",
      data: {},
    });
    const id = appended.events[0]?.id as string;
    const polled = await client.poll("org-audit", { consumer: "audit-1", wait: 5_000 });
    expect(polled.events.map((event) => event.id)).toEqual([id]);
    // When the event is nacked
    const nacked = await client.nack("org-audit", "audit-1", [id], { error: "schema unknown" });
    // Then it is dead-lettered and listed with its event
    expect(nacked.deadLettered).toEqual([id]);
    const page = await client.listDeadLetters("org-audit", { limit: 10 });
    expect(page.deadLetters.map((letter) => [letter.id, letter.error])).toEqual([[id, "schema unknown"]]);
    expect(page.next).toBeNull();
    expect(await client.getDeadLetter("org-audit", id)).toMatchObject({
      id,
      event: { type: "OrganizationDeleted" },
    });

    // When it is redriven, it is delivered again with a fresh attempt count
    expect(await client.redriveDeadLetters("org-audit", [id])).toBe(1);
    const redriven = await client.poll("org-audit", { consumer: "audit-1", wait: 5_000 });
    expect(redriven.events.map((event) => [event.id, event.attempt])).toEqual([[id, 1]]);
    // and when it fails again and is discarded, it is gone for good
    await client.nack("org-audit", "audit-1", [id]);
    await client.discardDeadLetter("org-audit", id);
    expect(await caught(client.getDeadLetter("org-audit", id))).toMatchObject({
      code: "dead-letter-not-found",
    });
    expect((await client.listDeadLetters("org-audit")).deadLetters).toEqual([]);
    await client.leave("org-audit", "audit-1");
  });

  it("resets a subscription to replay a topic, dropping what was in flight", async () => {
    // Given a consumer holding a delivery of a caught-up subscription
    await client.putSubscription("org-search", { topic: "organizations", start: "latest" });
    await client.append("organizations", { type: "OrganizationCreated", key: "org-initech", data: {} });
    const polled = await client.poll("org-search", { consumer: "search-1", wait: 5_000 });
    expect(polled.events).toHaveLength(1);
    // When the subscription is reset to the earliest event
    const status = await client.reset("org-search", "earliest");
    // Then the whole topic is pending again, and the old delivery is no longer held
    expect(status.partitions[0]?.checkpoint).toBe(0);
    expect(status.lag).toBeGreaterThan(1);
    const ids = polled.events.map((event) => event.id);
    expect(isDeliveryNotHeld(await caught(client.ack("org-search", "search-1", ids)))).toBe(true);
    await client.leave("org-search", "search-1");
  });
});
