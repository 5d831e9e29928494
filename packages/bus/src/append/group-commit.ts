import type { AppendCommand, AppendGroupOptions, AppendOutcome, EventStore } from "../store/event-store.js";
import { runAfterCommit } from "../store/store-observer.js";

export interface GroupCommitOptions extends AppendGroupOptions {
  /** Upper bound of events in one transaction; larger backlogs are split over several commits. */
  maxGroupEvents: number;
  /**
   * Told how long each group's transaction took, and its size (metrics). Called after the commit:
   * what it throws goes to `afterCommitFailed`, and the group's commands are still answered as
   * committed.
   */
  onGroupCommitted?: (seconds: number, commands: number, events: number) => void;
  /** Hears what `onGroupCommitted` threw (to log it); `step` names the observer. */
  afterCommitFailed?: (error: unknown, step: string) => void;
}

interface Pending {
  command: AppendCommand;
  resolve(outcome: AppendOutcome): void;
  reject(error: unknown): void;
}

/**
 * Group commit: commands submitted while a transaction is in flight wait and are committed together
 * in the next one, so many concurrent requests share one fsync. Each command keeps its own
 * outcome; a command that fails (version conflict, id conflict) fails alone. A store-level failure
 * rejects every command of that group (none of them is stored). Once a group committed, its
 * commands are answered as committed whatever the observer after it does. One transaction is in flight at a
 * time per process, which also keeps the order of submission.
 */
export class GroupCommitter {
  readonly #store: EventStore;
  readonly #options: GroupCommitOptions;
  #queue: Pending[] = [];
  #inFlight: Promise<void> | undefined;
  #closed = false;

  constructor(store: EventStore, options: GroupCommitOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** Resolves with the command's outcome once its group has committed (or failed as a whole). */
  submit(command: AppendCommand): Promise<AppendOutcome> {
    if (this.#closed) return Promise.reject(new Error("the group committer is closed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ command, resolve, reject });
      if (this.#inFlight === undefined) this.#inFlight = this.#drain();
    });
  }

  /** Stops taking commands and waits until everything already submitted has been committed. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#inFlight;
  }

  async #drain(): Promise<void> {
    // Yield once so that requests parsed in the same turn of the event loop join the first group.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#queue.length > 0) {
      const group = this.#takeGroup();
      const started = performance.now();
      let outcomes: AppendOutcome[];
      try {
        // Only the store's own options: they may cross to a writer thread, which clones them.
        outcomes = await this.#store.appendGroup(
          group.map((pending) => pending.command),
          { autoCreate: this.#options.autoCreate, defaultPartitions: this.#options.defaultPartitions },
        );
      } catch (error) {
        for (const pending of group) pending.reject(error);
        continue;
      }
      // Committed: from here on nothing may fail the group's commands.
      const observer = this.#options.onGroupCommitted;
      if (observer !== undefined) {
        const seconds = (performance.now() - started) / 1000;
        const events = group.reduce((sum, pending) => sum + pending.command.events.length, 0);
        runAfterCommit(
          "group-committed observer",
          () => observer(seconds, group.length, events),
          this.#options.afterCommitFailed,
        );
      }
      group.forEach((pending, index) => {
        const outcome = outcomes[index];
        if (outcome === undefined) pending.reject(new Error("the store returned too few outcomes"));
        else pending.resolve(outcome);
      });
    }
    this.#inFlight = undefined;
  }

  #takeGroup(): Pending[] {
    let events = 0;
    let count = 0;
    for (const pending of this.#queue) {
      if (count > 0 && events + pending.command.events.length > this.#options.maxGroupEvents) break;
      events += pending.command.events.length;
      count += 1;
    }
    return this.#queue.splice(0, count);
  }
}
