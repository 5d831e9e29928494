/** Admits subscription transactions of this process; see `createTransactionGate`. */
export interface TransactionGate {
  /** Runs `work` once every earlier work of `name` is done and a slot is free. */
  run<T>(name: string, work: () => Promise<T>): Promise<T>;
}

/**
 * Admission of subscription transactions in one process, for two reasons:
 *
 * - Transactions of one subscription run one after the other here before they reach the database,
 *   so the ones waiting for their turn do not each hold a connection blocked on the row lock.
 *   (The row lock still serializes them against other bus processes.)
 * - At most `slots` transactions hold a connection at once. A transaction's change may read events
 *   through the same pool while its connection stays reserved: were every connection reserved by
 *   a transaction, those reads would wait for ever. `slots` below the pool size keeps one free.
 *
 * Slots are handed out in arrival order.
 */
export function createTransactionGate(slots: number): TransactionGate {
  if (!Number.isInteger(slots) || slots < 1)
    throw new Error(`a transaction gate needs 1 slot or more, not ${slots}`);
  /** The settling of the last admitted work of each subscription, while any is running or queued. */
  const tails = new Map<string, Promise<void>>();
  let free = slots;
  const waiting: (() => void)[] = [];

  const takeSlot = (): Promise<void> => {
    if (free > 0) {
      free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const giveSlot = () => {
    const next = waiting.shift();
    // The slot passes straight to the next waiter, so a new arrival cannot overtake it.
    if (next === undefined) free += 1;
    else next();
  };

  return {
    async run(name, work) {
      const previous = tails.get(name) ?? Promise.resolve();
      let markDone: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        markDone = resolve;
      });
      const tail = previous.then(() => done);
      tails.set(name, tail);
      await previous;
      try {
        await takeSlot();
        try {
          return await work();
        } finally {
          giveSlot();
        }
      } finally {
        markDone();
        if (tails.get(name) === tail) tails.delete(name);
      }
    },
  };
}
