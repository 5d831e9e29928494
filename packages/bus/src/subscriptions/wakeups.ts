import type { EventStore } from "../store/event-store.js";

/** A wake-up armed before a poll looks at the store, so that nothing between the two is missed. */
export interface ArmedWakeup {
  /**
   * Resolves when a commit reaches the topic (one of `onlyPartitions`, when given), the
   * subscription changes, or `ms` pass.
   */
  wait(ms: number, onlyPartitions?: ReadonlySet<number>): Promise<void>;
  cancel(): void;
}

/**
 * Wakes long-polling consumers: on a commit to their topic (in any bus process that shares the
 * store, through the store's commit notices) and on changes to their subscription (acks that end a
 * batch, nacks, leaves, resets, redrives) made in this process or announced by another.
 */
/** Wakes one poll; `partition` is the partition a commit reached, when it is a commit. */
type Wake = (partition?: number) => void;

export class Wakeups {
  readonly #byTopic = new Map<string, Set<Wake>>();
  readonly #bySubscription = new Map<string, Set<Wake>>();
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(store: EventStore) {
    const unsubscribeChanges = store.subscriptions.onChange((name) => this.changed(name));
    const unsubscribeCommits = store.onCommit((notice) =>
      this.#fire(this.#byTopic, notice.topic, notice.partition),
    );
    this.#unsubscribe = () => {
      unsubscribeChanges();
      unsubscribeCommits();
    };
  }

  arm(topic: string, subscription: string): ArmedWakeup {
    let wake: (() => void) | undefined;
    let fired = false;
    let partitions: ReadonlySet<number> | undefined;
    const onFire: Wake = (partition) => {
      // A commit to a partition whose batch is still in flight delivers nothing new: stay asleep.
      if (partition !== undefined && partitions !== undefined && !partitions.has(partition)) return;
      fired = true;
      wake?.();
    };
    const topicSet = this.#entry(this.#byTopic, topic);
    const subscriptionSet = this.#entry(this.#bySubscription, subscription);
    topicSet.add(onFire);
    subscriptionSet.add(onFire);
    let timer: NodeJS.Timeout | undefined;
    const cancel = () => {
      fired = true;
      if (timer !== undefined) clearTimeout(timer);
      this.#remove(this.#byTopic, topic, onFire);
      this.#remove(this.#bySubscription, subscription, onFire);
      wake?.();
    };
    return {
      wait: (ms, onlyPartitions) => {
        partitions = onlyPartitions;
        if (fired || this.#closed || ms <= 0) {
          cancel();
          return Promise.resolve();
        }
        return new Promise<void>((resolve) => {
          wake = () => {
            wake = undefined;
            resolve();
            cancel();
          };
          timer = setTimeout(() => wake?.(), ms);
        });
      },
      cancel,
    };
  }

  /** Wakes the polls of one subscription (after a change made in this process). */
  changed(subscription: string): void {
    this.#fire(this.#bySubscription, subscription);
  }

  /** Wakes every poll now; later waits return at once. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    for (const map of [this.#byTopic, this.#bySubscription]) {
      for (const set of map.values()) for (const wake of [...set]) wake();
      map.clear();
    }
  }

  #entry(map: Map<string, Set<Wake>>, key: string): Set<Wake> {
    let set = map.get(key);
    if (set === undefined) {
      set = new Set();
      map.set(key, set);
    }
    return set;
  }

  #remove(map: Map<string, Set<Wake>>, key: string, wake: Wake): void {
    const set = map.get(key);
    if (set === undefined) return;
    set.delete(wake);
    if (set.size === 0) map.delete(key);
  }

  #fire(map: Map<string, Set<Wake>>, key: string, partition?: number): void {
    const set = map.get(key);
    if (set === undefined) return;
    for (const wake of [...set]) wake(partition);
  }
}
