/**
 * Where a store reports failures that no caller waits for: it works around them, but an operator
 * should hear of them (the server logs them and counts them in its metrics).
 */
export interface StoreObserver {
  /**
   * Subscription state written behind (polls, acks, nacks: nobody waits for them) did not reach the
   * SQLite file. The store drops what it held in memory and reads the file again, so the updates of
   * that transaction are lost, as on a crash: their events are delivered again. Told once per failed
   * transaction.
   */
  writeBehindFailed(error: unknown): void;
  /**
   * Work that follows a commit (a commit listener, a cache fill; `step` names it) threw. The commit
   * stands and its callers are answered as committed; only that work was skipped.
   */
  afterCommitFailed(error: unknown, step: string): void;
}

/**
 * Runs `work` that follows a commit. Whatever it throws is handed to `report` and goes no further:
 * once a commit succeeded, nothing may turn it into an error, or a client would retry an append
 * that is stored (and store its events twice when the bus assigned their ids). A `report` that
 * throws is ignored too.
 */
export function runAfterCommit(
  step: string,
  work: () => void,
  report: ((error: unknown, step: string) => void) | undefined,
): void {
  try {
    work();
  } catch (error) {
    try {
      report?.(error, step);
    } catch {
      // The reporter's own failure must not reach the committed caller either.
    }
  }
}
