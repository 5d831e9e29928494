import type { CommitNotice, EventStore } from "../store/event-store.js";

interface Waiter {
  fromOffset: number;
  wake(): void;
}

/** A pending wait for a partition to grow past an offset. */
export interface PartitionWait {
  /** Resolves `true` when the partition's head passed the offset, `false` on timeout or abort. */
  readonly done: Promise<boolean>;
  cancel(): void;
}

/**
 * Wakes long-polling readers when a commit reaches their partition. It listens to the store's
 * commit notices (this process's commits, and other processes' where the store announces them), so
 * a reader registers before it reads: a commit that lands between its read and its wait is not
 * missed.
 */
export class CommitWaiter {
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #unsubscribe: () => void;
  readonly #abort = new AbortController();

  constructor(store: EventStore) {
    this.#unsubscribe = store.onCommit((notice) => this.#notify(notice));
  }

  /** Waits up to `timeoutMs` for an event at or after `fromOffset`. */
  wait(topic: string, partition: number, fromOffset: number, timeoutMs: number): PartitionWait {
    const slot = `${topic}\u0000${partition}`;
    let set = this.#waiters.get(slot);
    if (set === undefined) {
      set = new Set();
      this.#waiters.set(slot, set);
    }
    const waiters = set;
    let finish: (woken: boolean) => void = () => {};
    const done = new Promise<boolean>((resolve) => {
      finish = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => settle(false);
    const waiter: Waiter = { fromOffset, wake: () => settle(true) };
    const settle = (woken: boolean) => {
      if (timer === undefined && !waiters.has(waiter)) return;
      clearTimeout(timer);
      timer = undefined;
      waiters.delete(waiter);
      if (waiters.size === 0 && this.#waiters.get(slot) === waiters) this.#waiters.delete(slot);
      this.#abort.signal.removeEventListener("abort", onAbort);
      finish(woken);
    };
    waiters.add(waiter);
    if (this.#abort.signal.aborted) {
      settle(false);
    } else {
      timer = setTimeout(() => settle(false), timeoutMs);
      this.#abort.signal.addEventListener("abort", onAbort);
    }
    return { done, cancel: () => settle(false) };
  }

  /** Ends every wait now (shutdown) and stops listening. */
  close(): void {
    this.#abort.abort();
    this.#unsubscribe();
  }

  #notify(notice: CommitNotice): void {
    const waiters = this.#waiters.get(`${notice.topic}\u0000${notice.partition}`);
    if (waiters === undefined) return;
    for (const waiter of [...waiters]) {
      if (notice.nextOffset > waiter.fromOffset) waiter.wake();
    }
  }
}
