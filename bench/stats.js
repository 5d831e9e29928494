/** Collects latency samples (milliseconds) and summarises them. */
export function createLatencyRecorder() {
  const samples = [];
  return {
    add: (milliseconds) => samples.push(milliseconds),
    get count() {
      return samples.length;
    },
    summary: () => summarizeLatencies(samples),
  };
}

/** Nearest-rank percentiles of `samples` (milliseconds); nulls when there are none. */
export function summarizeLatencies(samples) {
  if (samples.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null };
  const sorted = Float64Array.from(samples).sort();
  const at = (fraction) => sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted[sorted.length - 1],
    mean: total / sorted.length,
  };
}

/** Events per second over an interval measured with `performance.now()`. */
export function ratePerSecond(count, startedAt, endedAt) {
  return count / ((endedAt - startedAt) / 1000);
}
