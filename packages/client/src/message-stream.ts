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
import type { SubscriptionCalls } from "./subscription-calls.js";

/** One delivered event of `consume`, settled by exactly one `ack` or `nack`. */
export interface Message {
  readonly event: DeliveredEvent;
  /** 1 on the first delivery, higher on redeliveries. */
  readonly attempt: number;
  /**
   * Acknowledges the event: it is done for this subscription. Resolves `false` when the bus no longer
   * held the delivery for this instance (its partition moved, was reset, or the ack timeout passed;
   * the event is or was delivered again). Rejects when the bus could not be reached after the client's
   * retries: the event then comes back after the ack timeout. Settling twice answers like the first time.
   */
  ack(): Promise<boolean>;
  /**
   * Reports the event as failed: it comes back after `delayMs` (default: the subscription's backoff)
   * together with the later events of its partition, which this stream then no longer yields from the
   * current batch. Resolves `false` like `ack`.
   */
  nack(delayMs?: number, error?: string): Promise<boolean>;
  /** Heartbeats now, keeping this instance's leases while the event takes long to handle. */
  working(): Promise<void>;
}

/**
 * The events of a subscription as an async iterable, in poll order: within a partition, offset order.
 *
 * A partition gives nothing new until every message of its previous batch is acked or nacked, so ack
 * or nack each message before expecting more of its partition; a message left unsettled comes back
 * after the ack timeout. Iterate it once, from one loop.
 */
export interface MessageStream extends AsyncIterable<Message> {
  readonly id: string;
  readonly subscription: string;
  /**
   * Ends the iteration (the loop sees `done` at its next step), waits for a long-poll under way (at
   * most `wait`) and for acks and nacks already sent, then leaves the subscription, so that its partitions and every unsettled message go to the
   * other instances at once. Idempotent; never rejects. Breaking out of the loop calls it.
   */
  stop(): Promise<void>;
}

/**
 * Creates a pull consumer instance as an async iterable. Nothing happens until the iteration starts:
 * then the subscription is ensured (a failure there throws from the loop), and the stream heartbeats
 * while the loop body runs. Transient poll failures are retried with backoff; an error the bus will
 * not get past (e.g. `subscription-not-found`) ends the loop by throwing.
 */
export function consume(calls: SubscriptionCalls, name: string, options: ConsumeOptions): MessageStream {
  const id = resolveConsumerId(options.consumer);
  const wait = options.wait ?? 5_000;
  const onError = options.onError ?? defaultOnError;
  const controller = new AbortController();
  const signal = controller.signal;
  const buffer: Array<Message & { batch: number }> = [];
  const settling = new Set<Promise<unknown>>();
  let heartbeat: ReturnType<typeof createHeartbeat> | undefined;
  let prepared: Promise<void> | undefined;
  let polling: ReturnType<SubscriptionCalls["poll"]> | undefined;
  let stopping: Promise<void> | undefined;
  let batchCount = 0;

  const report = (error: unknown, context: ConsumerErrorContext) => {
    try {
      onError(error, context);
    } catch {
      // A failing error reporter must not break the stream.
    }
  };

  function prepare(): Promise<void> {
    prepared ??= prepareSubscription(calls, name, options).then(({ leaseMs }) => {
      if (signal.aborted) return;
      heartbeat = createHeartbeat(options.heartbeatMs ?? leaseMs / 3, async () => {
        try {
          await calls.heartbeat(name, id);
        } catch (error) {
          report(error, { operation: "heartbeat" });
          throw error;
        }
      });
    });
    return prepared;
  }

  /** Sends an ack or nack once, keeping it in `settling` until the bus answered. */
  async function settle(
    event: DeliveredEvent,
    operation: "ack" | "nack",
    send: () => Promise<unknown>,
  ): Promise<boolean> {
    heartbeat?.touch();
    const sent = send().then(
      () => true,
      (error: unknown) => {
        report(error, { operation, event });
        if (isDeliveryNotHeld(error)) return false;
        throw error;
      },
    );
    settling.add(sent);
    try {
      return await sent;
    } finally {
      settling.delete(sent);
    }
  }

  function toMessage(event: DeliveredEvent, batch: number): Message & { batch: number } {
    let settled: Promise<boolean> | undefined;
    return {
      event,
      attempt: event.attempt,
      batch,
      ack() {
        settled ??= settle(event, "ack", () => calls.ack(name, id, [event.id]));
        return settled;
      },
      nack(delayMs, error) {
        settled ??= settle(event, "nack", () => {
          // The bus brings the partition's later in-flight events back with this one.
          for (let index = buffer.length - 1; index >= 0; index -= 1) {
            const queued = buffer[index];
            if (queued?.batch === batch && queued.event.partition === event.partition)
              buffer.splice(index, 1);
          }
          return calls.nack(name, id, [event.id], {
            ...(error === undefined ? {} : { error: error.slice(0, 4096) }),
            ...(delayMs === undefined ? {} : { retryAfterMs: Math.max(0, Math.round(delayMs)) }),
          });
        });
        return settled;
      },
      async working() {
        await calls.heartbeat(name, id);
        heartbeat?.touch();
      },
    };
  }

  async function next(): Promise<IteratorResult<Message, undefined>> {
    if (signal.aborted) return { value: undefined, done: true };
    try {
      await prepare();
    } catch (error) {
      await stop();
      throw error;
    }
    let failures = 0;
    while (!signal.aborted) {
      const message = buffer.shift();
      if (message !== undefined) return { value: message, done: false };
      try {
        heartbeat?.touch();
        // Not aborted by `stop`, which waits for it: an abandoned poll could lease this instance
        // partitions again after it left.
        polling = calls.poll(name, {
          consumer: id,
          wait,
          ...(options.max === undefined ? {} : { max: options.max }),
        });
        const polled = await polling;
        failures = 0;
        if (signal.aborted) break;
        batchCount += 1;
        for (const event of polled.events) buffer.push(toMessage(event, batchCount));
      } catch (error) {
        if (signal.aborted) break;
        report(error, { operation: "poll" });
        if (isFatalConsumerError(error)) {
          await stop();
          throw error;
        }
        failures += 1;
        await pause(retryDelayMs(failures), signal);
      }
    }
    return { value: undefined, done: true };
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      controller.abort();
      buffer.length = 0;
      await Promise.allSettled([...settling, polling]);
      heartbeat?.stop();
      if (prepared === undefined) return;
      try {
        await prepared;
      } catch {
        // Never joined: nothing to leave.
        return;
      }
      try {
        await calls.leave(name, id);
      } catch (error) {
        report(error, { operation: "leave" });
      }
    })();
    return stopping;
  }

  const iterator: AsyncIterableIterator<Message> = {
    next,
    async return() {
      await stop();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };

  return {
    id,
    subscription: name,
    stop,
    [Symbol.asyncIterator]: () => iterator,
  };
}
