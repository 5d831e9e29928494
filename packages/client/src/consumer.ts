import { type DeliveredEvent, isDeliveryNotHeld } from "@tributary/protocol";
import {
  type ConsumeOptions,
  type ConsumerErrorContext,
  createHeartbeat,
  defaultOnError,
  isFatalConsumerError,
  pause,
  prepareSubscription,
  resolveConsumerId,
  retryDelayMs,
} from "./consumer-options.js";
import { groupByPartition } from "./partition-batches.js";
import type { SubscriptionCalls } from "./subscription-calls.js";

/** Where a handler runs: the subscription (consumer group) and this instance. */
export interface HandlerContext {
  subscription: string;
  consumer: string;
}

/**
 * Handles one event. Resolving acknowledges it; throwing nacks it, and the event is delivered again
 * (with the rest of its partition's batch) after the backoff.
 */
export type EventHandler = (event: DeliveredEvent, context: HandlerContext) => Promise<void> | void;

export type SubscribeOptions = ConsumeOptions & {
  /**
   * Partitions handled at the same time (default: every partition the instance holds). Within one
   * partition events are always handled one at a time, in offset order.
   */
  concurrency?: number;
  /**
   * Milliseconds before a failed event is delivered again; `undefined` (the default) lets the
   * subscription's `backoff` decide. When it throws, its error goes to `onError` (operation
   * `retryBackoff`) and the event is nacked all the same, with the subscription's backoff.
   */
  retryBackoff?: (event: DeliveredEvent, error: unknown) => number | undefined;
};

/** A running `subscribe` loop. */
export interface Consumer {
  /** This instance's consumer id. */
  readonly id: string;
  readonly subscription: string;
  /**
   * Settles once the consumer has stopped: resolves after `stop()`, rejects with the error when the bus
   * refused the consumer for good (e.g. `subscription-not-found` after the subscription was deleted).
   * Transient failures never settle it: the loop backs off and retries.
   */
  readonly stopped: Promise<void>;
  /**
   * Stops polling (a long-poll under way ends first: at most `wait`), lets the handlers already
   * running finish and their acks (or nacks) reach the bus, then leaves the subscription so its partitions move to the other instances at once. Events of a
   * batch not yet started are not handled here; leaving hands them to the others without counting a
   * failure. A handler that never settles keeps it waiting. Idempotent; never rejects.
   */
  stop(): Promise<void>;
}

/** The longest nack reason the bus keeps. */
const maxErrorLength = 4096;

/** Gives at most `limit` callers a slot at a time, first come first served. */
function createSlots(limit: number) {
  let free = limit;
  const waiting: Array<() => void> = [];
  return {
    async acquire(): Promise<void> {
      if (free > 0) {
        free -= 1;
        return;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    },
    release(): void {
      const next = waiting.shift();
      if (next === undefined) free += 1;
      else next();
    },
  };
}

/**
 * Runs the pull loop of one consumer instance: poll, hand each partition's events to `handler` in
 * offset order (partitions in parallel up to `concurrency`), ack what succeeded, nack what threw.
 * Resolves once the subscription is ensured; rejects when that fails (or on an invalid consumer id
 * or `concurrency`).
 */
export async function subscribe(
  calls: SubscriptionCalls,
  name: string,
  options: SubscribeOptions,
  handler: EventHandler,
): Promise<Consumer> {
  const id = resolveConsumerId(options.consumer);
  const concurrency = options.concurrency ?? Number.POSITIVE_INFINITY;
  if (!(concurrency >= 1)) throw new TypeError(`concurrency must be 1 or more, not ${options.concurrency}`);
  const { leaseMs, ackTimeoutMs } = await prepareSubscription(calls, name, options);
  const wait = options.wait ?? 5_000;
  const onError = options.onError ?? defaultOnError;
  const context: HandlerContext = { subscription: name, consumer: id };
  const controller = new AbortController();
  const signal = controller.signal;
  const slots = createSlots(concurrency);
  /** Per partition, the tail of its chain of batches: a partition's batches never overlap. */
  const workers = new Map<number, Promise<void>>();
  let wakeLoop: (() => void) | undefined;

  const report = (error: unknown, errorContext: ConsumerErrorContext) => {
    try {
      onError(error, errorContext);
    } catch {
      // A failing error reporter must not take the loop down with it.
    }
  };

  const heartbeat = createHeartbeat(options.heartbeatMs ?? leaseMs / 3, async () => {
    try {
      await calls.heartbeat(name, id);
    } catch (error) {
      report(error, { operation: "heartbeat" });
      throw error;
    }
  });

  /** Acks `done` (emptying it); false when the partition is no longer this instance's to handle. */
  async function flushAcks(done: string[]): Promise<boolean> {
    if (done.length === 0) return true;
    const ids = done.splice(0);
    heartbeat.touch();
    try {
      await calls.ack(name, id, ids);
      return true;
    } catch (error) {
      report(error, { operation: "ack" });
      // Any other failure: the events come back after the ack timeout; the rest can still go on.
      return !isDeliveryNotHeld(error);
    }
  }

  /** The caller's backoff for a failed event; never throws (the subscription's backoff then decides). */
  function retryAfterOf(event: DeliveredEvent, failure: unknown): number | undefined {
    try {
      return options.retryBackoff?.(event, failure);
    } catch (error) {
      report(error, { operation: "retryBackoff", event });
      return undefined;
    }
  }

  async function nackEvent(event: DeliveredEvent, failure: unknown): Promise<void> {
    const retryAfterMs = retryAfterOf(event, failure);
    const message = failure instanceof Error ? failure.message : String(failure);
    heartbeat.touch();
    try {
      await calls.nack(name, id, [event.id], {
        error: message.slice(0, maxErrorLength),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs: Math.max(0, Math.round(retryAfterMs)) }),
      });
    } catch (error) {
      report(error, { operation: "nack", event });
    }
  }

  async function handleBatch(events: DeliveredEvent[], deliveredAt: number): Promise<void> {
    const done: string[] = [];
    for (const event of events) {
      // Stopping: what has not started stays unhandled; leaving hands it to the other instances.
      if (signal.aborted) break;
      try {
        await handler(event, context);
      } catch (error) {
        report(error, { operation: "handler", event });
        if (await flushAcks(done)) await nackEvent(event, error);
        // The nack brings the partition's later events back with this one: they wait for it.
        return;
      }
      done.push(event.id);
      // Late in the ack timeout, ack as we go so that finished events are not delivered again.
      if (Date.now() - deliveredAt >= ackTimeoutMs / 2 && !(await flushAcks(done))) return;
    }
    await flushAcks(done);
  }

  function dispatch(partition: number, events: DeliveredEvent[], deliveredAt: number): void {
    const previous = workers.get(partition) ?? Promise.resolve();
    const next = previous.then(async () => {
      await slots.acquire();
      try {
        await handleBatch(events, deliveredAt);
      } catch (error) {
        // Never left rejected: the partition's later batches chain on this one.
        report(error, { operation: "handler" });
      } finally {
        slots.release();
      }
    });
    workers.set(partition, next);
    void next.finally(() => {
      if (workers.get(partition) === next) workers.delete(partition);
      wakeLoop?.();
    });
  }

  /** With every slot taken: waits until a partition's batch is done, `ms` passed, or the consumer stops. */
  function idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        wakeLoop = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakeLoop = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** The poll loop; resolves with the error that ended it for good, if one did. */
  async function run(): Promise<unknown> {
    let failures = 0;
    while (!signal.aborted) {
      if (workers.size >= concurrency) {
        await idle(wait);
        continue;
      }
      // Long-poll even while partitions are busy: the bus answers at once when a commit arrives or an
      // ack ends a batch, so neither new events nor a finished partition's next batch wait on it.
      let polled: Awaited<ReturnType<SubscriptionCalls["poll"]>>;
      try {
        heartbeat.touch();
        // Not aborted by `stop`: the bus would go on with a poll whose client went away, and could
        // lease partitions to this instance again after it left. `stop` waits for it instead.
        polled = await calls.poll(name, {
          consumer: id,
          wait,
          ...(options.max === undefined ? {} : { max: options.max }),
        });
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        report(error, { operation: "poll" });
        if (isFatalConsumerError(error)) return error;
        failures += 1;
        await pause(retryDelayMs(failures), signal);
        continue;
      }
      // Stopping: events of the last poll stay unhandled; leaving hands them to the other instances.
      if (signal.aborted) break;
      const deliveredAt = Date.now();
      for (const [partition, events] of groupByPartition(polled.events))
        dispatch(partition, events, deliveredAt);
    }
    return undefined;
  }

  const stopped = run().then(async (fatal) => {
    controller.abort();
    while (workers.size > 0) await Promise.all([...workers.values()]);
    heartbeat.stop();
    try {
      await calls.leave(name, id);
    } catch (error) {
      report(error, { operation: "leave" });
    }
    if (fatal !== undefined) throw fatal;
  });
  // `stopped` rejecting is news for whoever awaits it, never an unhandled rejection.
  stopped.catch(() => {});

  return {
    id,
    subscription: name,
    stopped,
    stop() {
      controller.abort();
      return stopped.catch(() => {});
    },
  };
}
