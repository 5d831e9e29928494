/** The outcome of one combined request: its own result, or its own error. */
export type CombinedOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Queues requests per key and runs those that queued up together as one batch. */
export interface RequestCombiner<Q, R> {
  /** Resolves or rejects with this request's own outcome in the batch it joined. */
  submit(key: string, request: Q): Promise<R>;
}

/**
 * Runs at most one batch per key at a time. A request that arrives while its key's batch runs
 * waits, together with every other request arriving meanwhile, and they go as the next batch: under
 * load, N queued requests cost one batch instead of N turns. An idle key runs a request at once,
 * alone, so combining adds no delay.
 *
 * `run` gets the requests in arrival order and returns one outcome per request, in the same order.
 * When `run` itself rejects, every request of the batch rejects with that error.
 */
export function createRequestCombiner<Q, R>(
  run: (key: string, requests: Q[]) => Promise<CombinedOutcome<R>[]>,
): RequestCombiner<Q, R> {
  interface Waiting {
    request: Q;
    resolve: (value: R) => void;
    reject: (error: unknown) => void;
  }
  const queued = new Map<string, Waiting[]>();
  const running = new Set<string>();

  const runBatches = async (key: string) => {
    running.add(key);
    try {
      for (let batch = queued.get(key); batch !== undefined; batch = queued.get(key)) {
        queued.delete(key);
        try {
          const outcomes = await run(
            key,
            batch.map((entry) => entry.request),
          );
          batch.forEach((entry, index) => {
            const outcome = outcomes[index];
            if (outcome === undefined) entry.reject(new Error("the batch returned no outcome for a request"));
            else if (outcome.ok) entry.resolve(outcome.value);
            else entry.reject(outcome.error);
          });
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      running.delete(key);
    }
  };

  return {
    submit(key, request) {
      return new Promise<R>((resolve, reject) => {
        const batch = queued.get(key);
        if (batch === undefined) queued.set(key, [{ request, resolve, reject }]);
        else batch.push({ request, resolve, reject });
        if (!running.has(key)) void runBatches(key);
      });
    },
  };
}
