import type { CommitNotice, EventStore } from "../store/event-store.js";
import { partitionKey } from "../store/topic-keys.js";
import type { SubscriptionStore } from "../subscriptions/subscription-store.js";

/**
 * Partitions a wait is for, each with the offset it reads from: a commit to one of them wakes it
 * once the partition holds an event at or after that offset (offset 0: any new event).
 */
export type PartitionOffsets = ReadonlyMap<number, number>;

/** What wakes a wait. */
export interface WakeupWatch {
  topic: string;
  /** Only commits to these partitions past these offsets; without it, any commit to the topic. */
  partitions?: PartitionOffsets;
  /** Also a change to this subscription (acks that end a batch, nacks, leaves, resets, redrives). */
  subscription?: string;
}

/** A wake-up armed before the caller looks at the store, so that nothing in between is missed. */
export interface Wakeup {
  /**
   * Waits up to `ms` (once). Resolves `true` when woken, at once if that happened since the
   * wake-up was armed; `false` when the time passed, on `cancel`, or when the wake-ups close.
   * `partitions` narrows, from now on, the commits that wake one armed for the whole topic (a
   * subscription poll learns which of its partitions wait for events only once it ran; a commit
   * during the poll wakes it anyway).
   */
  wait(ms: number, partitions?: PartitionOffsets): Promise<boolean>;
  /** Ends the wake-up: a pending wait resolves `false`, a later one at once. */
  cancel(): void;
}

/** Where wake-ups hear of commits and of subscription changes. */
export type WakeupSources = Pick<EventStore, "onCommit"> & {
  subscriptions: Pick<SubscriptionStore, "onChange">;
};

interface Watcher {
  /** A commit reached its topic (`notice`), or its subscription changed (no notice). */
  notify(notice?: CommitNotice): void;
  /** The wake-ups closed. */
  end(): void;
}

type Watchers = Map<string, Set<Watcher>>;

/**
 * Wakes long-polling readers and subscription polls: on a commit to what they wait for (in any bus
 * process that shares the store, through the store's commit notices) and on changes to their
 * subscription, made in this process or announced by another.
 */
export class Wakeups {
  /** Waits for given partitions, by `partitionKey`: a commit looks up only its own partition's. */
  readonly #byPartition: Watchers = new Map();
  /** Waits for any partition of a topic, which narrow to some only when they start waiting. */
  readonly #byTopic: Watchers = new Map();
  readonly #bySubscription: Watchers = new Map();
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(sources: WakeupSources) {
    const unsubscribeChanges = sources.subscriptions.onChange((name) => this.changed(name));
    const unsubscribeCommits = sources.onCommit((notice) => {
      this.#notify(this.#byPartition, partitionKey(notice.topic, notice.partition), notice);
      this.#notify(this.#byTopic, notice.topic, notice);
    });
    this.#unsubscribe = () => {
      unsubscribeChanges();
      unsubscribeCommits();
    };
  }

  /** Arms a wake-up for `watch`; every one ends by its `wait` resolving or by `cancel`. */
  arm(watch: WakeupWatch): Wakeup {
    let partitions = watch.partitions;
    let isWoken = false;
    let isEnded = false;
    let resolveWait: ((woken: boolean) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const registrations: [Watchers, string][] = [];
    const end = (woken: boolean) => {
      if (isEnded) return;
      isEnded = true;
      clearTimeout(timer);
      for (const [watchers, key] of registrations) this.#remove(watchers, key, watcher);
      resolveWait?.(woken);
    };
    const watcher: Watcher = {
      notify: (notice) => {
        if (notice !== undefined && partitions !== undefined) {
          const from = partitions.get(notice.partition);
          // Another partition (a subscription's batch in flight there), or events already read.
          if (from === undefined || notice.nextOffset <= from) return;
        }
        isWoken = true;
        if (resolveWait !== undefined) end(true);
      },
      end: () => end(false),
    };
    if (this.#closed) {
      isEnded = true;
    } else {
      if (partitions === undefined) registrations.push([this.#byTopic, watch.topic]);
      for (const partition of partitions?.keys() ?? []) {
        registrations.push([this.#byPartition, partitionKey(watch.topic, partition)]);
      }
      if (watch.subscription !== undefined) registrations.push([this.#bySubscription, watch.subscription]);
      for (const [watchers, key] of registrations) this.#add(watchers, key, watcher);
    }
    return {
      wait: (ms, narrowed) => {
        if (narrowed !== undefined) partitions = narrowed;
        if (isEnded) return Promise.resolve(false);
        if (isWoken || ms <= 0) {
          end(isWoken);
          return Promise.resolve(isWoken);
        }
        return new Promise<boolean>((resolve) => {
          resolveWait = resolve;
          timer = setTimeout(() => end(false), ms);
        });
      },
      cancel: () => end(false),
    };
  }

  /** Wakes the waits on one subscription (after a change made in this process). */
  changed(subscription: string): void {
    this.#notify(this.#bySubscription, subscription);
  }

  /** Ends every wait now (they resolve `false`) and stops listening; later waits end at once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    for (const watchers of [this.#byPartition, this.#byTopic, this.#bySubscription]) {
      for (const set of [...watchers.values()]) for (const watcher of [...set]) watcher.end();
      watchers.clear();
    }
  }

  #add(watchers: Watchers, key: string, watcher: Watcher): void {
    let set = watchers.get(key);
    if (set === undefined) {
      set = new Set();
      watchers.set(key, set);
    }
    set.add(watcher);
  }

  #remove(watchers: Watchers, key: string, watcher: Watcher): void {
    const set = watchers.get(key);
    if (set === undefined) return;
    set.delete(watcher);
    if (set.size === 0) watchers.delete(key);
  }

  #notify(watchers: Watchers, key: string, notice?: CommitNotice): void {
    const set = watchers.get(key);
    if (set === undefined) return;
    for (const watcher of [...set]) watcher.notify(notice);
  }
}
