/**
 * Waits `ms`, or less when `signal` aborts or `wakeup` settles first. Never rejects, and leaves no
 * timer or listener behind once it resolves.
 */
export function pause(ms: number, signal: AbortSignal, wakeup?: Promise<unknown>): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let isDone = false;
    const done = () => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    wakeup?.then(done, done);
  });
}

/** A promise with its resolver (`Promise.withResolvers` needs Node 22; the bus runs on 20). */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
