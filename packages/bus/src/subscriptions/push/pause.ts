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
