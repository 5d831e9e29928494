import { setTimeout as sleep } from "node:timers/promises";
import { createLatencyRecorder, ratePerSecond, summarizeLatencies } from "./stats.js";

/**
 * Runs `work(item)` over `items` on `streams` concurrent streams; each stream handles one item at a
 * time and takes the next one as soon as it is done.
 */
export async function runStreams(streams, items, work) {
  let next = 0;
  const stream = async () => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: streams }, stream));
}

/**
 * Batched append through the raw driver: each batch of rows in one transaction, on `streams`
 * concurrent streams. The first `warmupBatches` batches are not timed.
 */
export function measureRawBatched(writer, batches, options) {
  return measureBatches((batch) => writer.insertBatch(batch), batches, options);
}

/**
 * Appends each batch with `append`, on `streams` concurrent callers, and times all but the first
 * `warmupBatches` (which run first, one at a time).
 */
export async function measureBatches(append, batches, { streams, warmupBatches }) {
  for (const batch of batches.slice(0, warmupBatches)) await append(batch);
  const timed = batches.slice(warmupBatches);
  const startedAt = performance.now();
  await runStreams(streams, timed, append);
  const endedAt = performance.now();
  const events = timed.reduce((sum, batch) => sum + batch.length, 0);
  return {
    events,
    seconds: (endedAt - startedAt) / 1000,
    eventsPerSecond: ratePerSecond(events, startedAt, endedAt),
  };
}

/**
 * Batched append through the bus: each body (`{ events: [...] }`, pre-serialized) in one POST, on
 * `streams` concurrent keep-alive connections. The first `warmupBatches` bodies are not timed.
 */
export async function measureBusBatched(client, topic, bodies, { streams, warmupBatches, eventsPerBody }) {
  const path = `/v1/topics/${topic}/events`;
  const post = (body) => client.sendExpecting([201], "POST", path, body);
  for (const body of bodies.slice(0, warmupBatches)) await post(body);
  const timed = bodies.slice(warmupBatches);
  const startedAt = performance.now();
  await runStreams(streams, timed, post);
  const endedAt = performance.now();
  const events = timed.length * eventsPerBody;
  return {
    events,
    seconds: (endedAt - startedAt) / 1000,
    eventsPerSecond: ratePerSecond(events, startedAt, endedAt),
  };
}

/**
 * One commit per event through the raw driver, sequentially, for `durationMs` (or until the rows
 * run out), starting at `rows[startIndex]`. The first `warmupRows` inserts are not timed. Returns the
 * latency samples too, so that runs before and after the bus's can be combined.
 */
export async function measureRawSingle(writer, rows, { durationMs, warmupRows = 0, startIndex = 0 }) {
  let index = startIndex;
  for (const stop = startIndex + warmupRows; index < stop; index += 1) await writer.insertOne(rows[index]);
  const samples = [];
  const startedAt = performance.now();
  const endAt = startedAt + durationMs;
  const firstTimed = index;
  while (index < rows.length && performance.now() < endAt) {
    const sentAt = performance.now();
    await writer.insertOne(rows[index]);
    samples.push(performance.now() - sentAt);
    index += 1;
  }
  const endedAt = performance.now();
  if (index === rows.length) throw new Error("the raw single-commit run ran out of rows: prepare more");
  return { events: index - firstTimed, seconds: (endedAt - startedAt) / 1000, samples, nextIndex: index };
}

/** Combines raw single-commit runs (e.g. one before and one after the bus's run) into one figure. */
export function combineRawSingle(runs) {
  const events = runs.reduce((sum, run) => sum + run.events, 0);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  return {
    events,
    seconds,
    eventsPerSecond: events / seconds,
    latencyMs: summarizeLatencies(runs.flatMap((run) => run.samples)),
    runs: runs.map((run) => ({
      events: run.events,
      seconds: run.seconds,
      eventsPerSecond: run.events / run.seconds,
      latencyMs: summarizeLatencies(run.samples),
    })),
  };
}

/**
 * Single-event appends from `clients` concurrent clients, each keeping one POST in flight, for
 * `warmupMs + durationMs`. Throughput counts the appends that completed inside the measured window;
 * latency is that of the requests sent inside it.
 */
export async function measureBusSingle(client, topic, bodies, { clients, warmupMs, durationMs }) {
  const path = `/v1/topics/${topic}/events`;
  const latency = createLatencyRecorder();
  const windowStart = performance.now() + warmupMs;
  const windowEnd = windowStart + durationMs;
  let next = 0;
  let completedInWindow = 0;
  const runClient = async () => {
    while (performance.now() < windowEnd) {
      const body = bodies[next % bodies.length];
      next += 1;
      const sentAt = performance.now();
      await client.sendExpecting([201], "POST", path, body);
      const doneAt = performance.now();
      if (sentAt >= windowStart && doneAt <= windowEnd) latency.add(doneAt - sentAt);
      if (doneAt >= windowStart && doneAt <= windowEnd) completedInWindow += 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, runClient));
  return {
    events: completedInWindow,
    seconds: durationMs / 1000,
    eventsPerSecond: ratePerSecond(completedInWindow, windowStart, windowEnd),
    latencyMs: latency.summary(),
  };
}

/**
 * Append-to-reader latency on a 1-partition topic. A reader long-polls partition 0 (`from=next`,
 * `wait=5000`) while a producer sends single-event POSTs paced by the clock at `eventsPerSecond`,
 * each carrying in `data.sentAt` the moment the producer started sending it. The latency of an
 * event is when the reader got it minus `sentAt` (one process, one monotonic clock). The first
 * `warmupEvents` are not counted.
 */
export async function measureAppendToReader(
  producer,
  reader,
  topic,
  events,
  { eventsPerSecond, warmupEvents },
) {
  const total = events.length;
  const appendPath = `/v1/topics/${topic}/events`;
  const appendLatency = createLatencyRecorder();
  const readerLatency = createLatencyRecorder();
  // [ms since the first send, latency] of every counted event, for the slowest ones' timeline.
  const timeline = [];
  let firstSentAt;
  let received = 0;
  let producerFailures = 0;
  let firstProducerError;
  let isStopped = false;

  const read = async () => {
    let from = 0;
    while (!isStopped && received < total) {
      let page;
      try {
        page = await reader.sendExpecting(
          [200],
          "GET",
          `/v1/topics/${topic}/partitions/0/events?from=${from}&limit=1000&wait=5000`,
        );
      } catch (error) {
        if (isStopped) return;
        throw error;
      }
      const receivedAt = performance.now();
      for (const event of page.events) {
        if (event.data.sequence >= warmupEvents) {
          readerLatency.add(receivedAt - event.data.sentAt);
          timeline.push([event.data.sentAt - firstSentAt, receivedAt - event.data.sentAt]);
        }
      }
      received += page.events.length;
      from = page.next;
    }
  };

  const send = async (sequence) => {
    const event = events[sequence];
    const sentAt = performance.now();
    firstSentAt ??= sentAt;
    const body = JSON.stringify({
      type: event.type,
      key: event.key,
      data: { ...event.data, sequence, sentAt },
    });
    try {
      await producer.sendExpecting([201], "POST", appendPath, body);
      if (sequence >= warmupEvents) appendLatency.add(performance.now() - sentAt);
    } catch (error) {
      producerFailures += 1;
      firstProducerError ??= error;
    }
  };

  const produce = async () => {
    const inFlight = [];
    const startedAt = performance.now();
    let sent = 0;
    while (sent < total && !isStopped) {
      const due = Math.min(total, Math.floor(((performance.now() - startedAt) * eventsPerSecond) / 1000) + 1);
      while (sent < due) {
        inFlight.push(send(sent));
        sent += 1;
      }
      await sleep(1);
    }
    await Promise.all(inFlight);
    return (performance.now() - startedAt) / 1000;
  };

  const reading = read();
  // A reader that fails makes the producer's work meaningless: surface it at once.
  const readerFailed = reading.then(
    () => new Promise(() => {}),
    (error) => Promise.reject(error),
  );
  let producingSeconds;
  let timer;
  try {
    producingSeconds = await Promise.race([produce(), readerFailed]);
    if (producerFailures > 0) {
      throw new Error(
        `${producerFailures} of ${total} paced appends failed; the first: ${firstProducerError.message}`,
      );
    }
    // Every acknowledged event must reach the reader; give it a bounded time to.
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve("timeout"), 10_000);
    });
    const outcome = await Promise.race([reading.then(() => "done"), timedOut]);
    if (outcome === "timeout") {
      throw new Error(
        `the reader got ${received} of ${total} events within 10 s after the producer finished`,
      );
    }
  } finally {
    clearTimeout(timer);
    isStopped = true;
  }
  return {
    events: total - warmupEvents,
    offeredEventsPerSecond: eventsPerSecond,
    producingSeconds,
    producerFailures,
    appendLatencyMs: appendLatency.summary(),
    readerLatencyMs: readerLatency.summary(),
    // When the stalls happened: the 1% slowest events as [ms since the first send, latency ms].
    slowest: timeline
      .sort((a, b) => b[1] - a[1])
      .slice(0, Math.ceil(timeline.length / 100))
      .sort((a, b) => a[0] - b[0])
      .map(([at, latency]) => [Math.round(at), Number(latency.toFixed(2))]),
  };
}
