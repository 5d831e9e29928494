import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CommitNotice } from "../store/event-store.js";
import { type Wakeup, type WakeupSources, Wakeups } from "./wakeups.js";

/** A store's two announcements, driven by the test: commits and subscription changes. */
function createSources() {
  const commitListeners = new Set<(notice: CommitNotice) => void>();
  const changeListeners = new Set<(name: string) => void>();
  const sources: WakeupSources = {
    onCommit(listener) {
      commitListeners.add(listener);
      return () => commitListeners.delete(listener);
    },
    subscriptions: {
      onChange(listener) {
        changeListeners.add(listener);
        return () => changeListeners.delete(listener);
      },
    },
  };
  return {
    sources,
    commit(topic: string, partition: number, nextOffset: number) {
      for (const listener of [...commitListeners]) listener({ topic, partition, nextOffset });
    },
    change(name: string) {
      for (const listener of [...changeListeners]) listener(name);
    },
    listeners: () => commitListeners.size + changeListeners.size,
  };
}

/** How a wait ended so far: `pending` until its promise settled. */
function track(wait: Promise<boolean>): () => boolean | "pending" {
  let outcome: boolean | "pending" = "pending";
  void wait.then((woken) => {
    outcome = woken;
  });
  return () => outcome;
}

/** Lets settled promises run their callbacks (fake timers do not move). */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe("wake-ups", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  describe("of a long-poll read (one partition, from an offset)", () => {
    it("wake for a commit to that partition that reaches the offset", async () => {
      // Given a read of users/1 from offset 5, waiting
      const store = createSources();
      const wakeups = new Wakeups(store.sources);
      const outcome = track(wakeups.arm({ topic: "users", partitions: new Map([[1, 5]]) }).wait(10_000));

      // When a commit moves users/1 to 6 (an event at offset 5)
      store.commit("users", 1, 6);
      await settle();

      // Then the read wakes
      expect(outcome()).toBe(true);
    });

    it("sleep through commits to other partitions, to other topics, and below the offset", async () => {
      // Given a read of users/1 from offset 5, waiting
      const store = createSources();
      const wakeups = new Wakeups(store.sources);
      const outcome = track(wakeups.arm({ topic: "users", partitions: new Map([[1, 5]]) }).wait(10_000));

      // When other partitions, another topic and a stale notice of users/1 commit
      store.commit("users", 0, 100);
      store.commit("orders", 1, 100);
      store.commit("users", 1, 5);
      await settle();

      // Then it still sleeps, until its time passes
      expect(outcome()).toBe("pending");
      await vi.advanceTimersByTimeAsync(10_000);
      expect(outcome()).toBe(false);
    });

    it("hear a commit that lands between arming and waiting", async () => {
      // Given a wake-up armed before the read
      const store = createSources();
      const wakeups = new Wakeups(store.sources);
      const wakeup = wakeups.arm({ topic: "users", partitions: new Map([[1, 0]]) });

      // When a commit lands before the wait starts
      store.commit("users", 1, 1);
      const outcome = track(wakeup.wait(10_000));
      await settle();

      // Then the wait ends at once, woken
      expect(outcome()).toBe(true);
    });
  });

  describe("of a subscription poll (a topic, then the partitions that wait for events)", () => {
    it("wake for a commit to any partition while the poll runs", async () => {
      // Given a poll armed for its topic and subscription
      const store = createSources();
      const wakeups = new Wakeups(store.sources);
      const wakeup = wakeups.arm({ topic: "users", subscription: "billing" });

      // When a commit lands anywhere in the topic during the poll, before it knows its partitions
      store.commit("users", 3, 1);
      const outcome = track(wakeup.wait(10_000, new Map([[0, 0]])));
      await settle();

      // Then the wait ends at once: the poll looks again
      expect(outcome()).toBe(true);
    });

    it("then wake only for the partitions that wait for events", async () => {
      // Given a poll waiting on partition 0 (partition 1's batch is in flight)
      const store = createSources();
      const wakeups = new Wakeups(store.sources);
      const outcome = track(
        wakeups.arm({ topic: "users", subscription: "billing" }).wait(10_000, new Map([[0, 0]])),
      );

      // When partition 1 receives events
      store.commit("users", 1, 7);
      await settle();

      // Then it sleeps; when partition 0 receives one, it wakes
      expect(outcome()).toBe("pending");
      store.commit("users", 0, 1);
      await settle();
      expect(outcome()).toBe(true);
    });

    it("wake when their subscription changes, not another one", async () => {
      // Given a poll of billing waiting on partition 0
      const store = createSources();
      const wakeups = new Wakeups(store.sources);
      const outcome = track(
        wakeups.arm({ topic: "users", subscription: "billing" }).wait(10_000, new Map([[0, 0]])),
      );

      // When another subscription changes, then billing changes (announced by the store)
      store.change("audit");
      await settle();
      const afterOther = outcome();
      store.change("billing");
      await settle();

      // Then only the change of billing woke it
      expect(afterOther).toBe("pending");
      expect(outcome()).toBe(true);
    });

    it("wake on a change made in this process", async () => {
      // Given a poll of billing waiting
      const store = createSources();
      const wakeups = new Wakeups(store.sources);
      const outcome = track(wakeups.arm({ topic: "users", subscription: "billing" }).wait(10_000));

      // When this process changes billing
      wakeups.changed("billing");
      await settle();

      // Then the poll wakes
      expect(outcome()).toBe(true);
    });
  });

  it("end a wait not woken when cancelled, and one cancelled before it waits at once", async () => {
    // Given a waiting wake-up and another armed one
    const store = createSources();
    const wakeups = new Wakeups(store.sources);
    const waiting = wakeups.arm({ topic: "users" });
    const outcome = track(waiting.wait(10_000));
    const armed = wakeups.arm({ topic: "users" });

    // When both are cancelled, and a commit comes after
    waiting.cancel();
    armed.cancel();
    store.commit("users", 0, 1);
    const later = track(armed.wait(10_000));
    await settle();

    // Then both end not woken
    expect(outcome()).toBe(false);
    expect(later()).toBe(false);
  });

  it("end every wait when closed, stop listening, and end later waits at once", async () => {
    // Given waits of both kinds
    const store = createSources();
    const wakeups = new Wakeups(store.sources);
    const waits: Wakeup[] = [
      wakeups.arm({ topic: "users", partitions: new Map([[0, 0]]) }),
      wakeups.arm({ topic: "users", subscription: "billing" }),
    ];
    const outcomes = waits.map((wakeup) => track(wakeup.wait(10_000)));

    // When the wake-ups close, and a wait is armed after
    wakeups.close();
    const later = track(wakeups.arm({ topic: "users" }).wait(10_000));
    await settle();

    // Then every wait ended not woken, and the store has no listener left
    expect(outcomes.map((outcome) => outcome())).toEqual([false, false]);
    expect(later()).toBe(false);
    expect(store.listeners()).toBe(0);
  });
});
