import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBus } from "../bus.js";
import type { EventStore } from "../store/event-store.js";
import { openStore } from "../store/open-store.js";
import { createTestStoreUrl, storeKinds, type TestStoreUrl } from "../testing/test-stores.js";
import { GroupCommitter } from "./group-commit.js";
import { prepareEvent } from "./prepare-event.js";

const observerDown = () => {
  throw new Error("metrics backend down");
};

describe.each(storeKinds)("work after a commit on %s", (kind) => {
  let location: TestStoreUrl;
  let store: EventStore;
  let reported: string[];

  beforeEach(async () => {
    location = await createTestStoreUrl(kind);
    reported = [];
    store = openStore(location.url, {
      observer: {
        writeBehindFailed: () => reported.push("write-behind"),
        afterCommitFailed: (error, step) => reported.push(`${step}: ${(error as Error).message}`),
      },
    });
    await store.migrate();
  });

  afterEach(async () => {
    await store.close();
    await location.cleanup();
  });

  const countUsers = async () => (await store.readPartition("users", 0, 0, 100)).length;

  it("answers every command of a committed group as committed when the group observer throws", async () => {
    // Given a group committer whose observer throws
    const failures: string[] = [];
    const committer = new GroupCommitter(store, {
      autoCreate: true,
      defaultPartitions: 1,
      maxGroupEvents: 100,
      onGroupCommitted: observerDown,
      afterCommitFailed: (error, step) => failures.push(`${step}: ${(error as Error).message}`),
    });
    // When three commands are committed in one group
    const outcomes = await Promise.all(
      [1, 2, 3].map(() =>
        committer.submit({ topic: "users", events: [prepareEvent("users", { type: "A" })] }),
      ),
    );
    await committer.close();
    // Then each one is answered as committed, the events are stored once, and the failure was heard
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true, true]);
    expect(await countUsers()).toBe(3);
    expect(failures).toEqual(["group-committed observer: metrics backend down"]);
  });

  it("answers an append as committed when the append observers and a commit listener throw", async () => {
    // Given a bus whose append observer throws at both calls, a commit listener that throws, and a log
    const logged: object[] = [];
    const bus = createBus({
      store,
      defaultPartitions: 1,
      appendObserver: { groupCommitted: observerDown, appended: observerDown },
      log: { error: (details) => logged.push(details) },
    });
    store.onCommit(() => {
      throw new Error("listener down");
    });
    // When an event with a bus-assigned id is appended
    const result = await bus.append("users", [{ type: "UserCreated", key: "user-1" }]);
    // Then the producer hears it committed (a retry would store it twice), and it is stored once
    expect(result.events).toHaveLength(1);
    expect(await countUsers()).toBe(1);
    // and each failure was logged, the listener's by the store
    expect(logged).toEqual([
      expect.objectContaining({ step: "group-committed observer" }),
      expect.objectContaining({ step: "append observer" }),
    ]);
    expect(reported).toEqual(["commit listener: listener down"]);
    await bus.close();
  });

  it("answers a subscription PUT and DELETE as done when the change listener throws", async () => {
    // Given a bus whose subscription-change listener throws
    const logged: object[] = [];
    const bus = createBus({
      store,
      subscriptionChanged: observerDown,
      log: { error: (details) => logged.push(details) },
    });
    // When a subscription is put, then deleted
    const put = await bus.subscriptions.put("audit", { topic: "users" });
    await bus.subscriptions.delete("audit");
    // Then both were answered as done, and both failures were logged
    expect(put.created).toBe(true);
    expect(logged).toHaveLength(2);
    await bus.close();
  });
});
