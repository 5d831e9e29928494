import {
  type DeliveredEvent,
  type DeliveryMode,
  isDeliveryNotHeld,
  isTributaryError,
  type SubscriptionInfo,
} from "@tributary/protocol";
import type { Subscriptions } from "../subscription-service.js";
import type { BreakerPermit, CircuitBreaker } from "./circuit-breaker.js";
import { deferred, pause } from "./pause.js";
import { postBatch } from "./post-batch.js";
import type { PushLogger, PushObserver } from "./push-hooks.js";

export type PushDelivery = Extract<DeliveryMode, { mode: "push" }>;

/** A push subscription: one whose `delivery.mode` is `"push"`. */
export function isPushSubscription(
  subscription: SubscriptionInfo,
): subscription is SubscriptionInfo & { delivery: PushDelivery } {
  return subscription.delivery.mode === "push";
}

export interface PushLoopOptions {
  subscriptions: Subscriptions;
  subscription: SubscriptionInfo & { delivery: PushDelivery };
  /** This process's consumer id, the same for every subscription it pushes. */
  consumer: string;
  /** The shared breaker of the endpoint a URL points at. */
  breakerFor(url: string): CircuitBreaker;
  /** Long-poll wait of each poll. */
  pollWaitMs: number;
  /** Settles when a predecessor under the same name has left the group; the loop waits for it. */
  after?: Promise<void>;
  observer?: PushObserver;
  log?: PushLogger;
}

/** Attempts at an ack or nack the store refused, before the ack timeout is left to redeliver. */
const settleAttempts = 3;

/** Wait before trying again after the store failed `failures` times in a row: 100 ms … 5 s. */
function storeRetryDelay(failures: number): number {
  const delay = Math.min(5_000, 100 * 2 ** Math.min(failures - 1, 10));
  return Math.round(delay * (0.5 + Math.random() / 2));
}

function groupByPartition(events: readonly DeliveredEvent[]): DeliveredEvent[][] {
  const byPartition = new Map<number, DeliveredEvent[]>();
  for (const event of events) {
    const batch = byPartition.get(event.partition) ?? [];
    batch.push(event);
    byPartition.set(event.partition, batch);
  }
  return [...byPartition.values()];
}

/**
 * Delivers one push subscription from this bus process: a consumer instance that polls its share
 * of the partitions, POSTs each partition's batch (partitions concurrently, one batch at a time
 * per partition, so per-key order holds), acknowledges a batch on 2xx and nacks it otherwise (the
 * core applies the backoff and dead-letters after `maxAttempts`).
 *
 * While the endpoint's breaker is open the loop does not poll, so waiting consumes no attempts. A
 * batch polled before the breaker opened and not yet sent is given back uncounted (the instance
 * leaves the group and joins again on its next poll).
 *
 * The loop ends when the subscription is deleted, or on `stop`, which lets POSTs under way finish
 * (up to a grace period, then aborts them) and leaves the group so that what was not acknowledged
 * goes out again at once, to this process's successor or another bus process.
 */
export class PushLoop {
  #subscription: SubscriptionInfo & { delivery: PushDelivery };
  readonly #options: PushLoopOptions;
  /** Ends polls and waits: no new round starts. */
  readonly #stopping = new AbortController();
  /** Aborts POSTs under way: the grace period is over. */
  readonly #aborting = new AbortController();
  #isDeleted = false;
  /** Resolves when the definition changes: a loop waiting on one endpoint's breaker looks again. */
  #updated = deferred();
  /** Settles when the loop has ended and left the group. */
  readonly done: Promise<void>;

  constructor(options: PushLoopOptions) {
    this.#options = options;
    this.#subscription = options.subscription;
    // Every expected failure is handled inside; an unexpected one ends the loop (the dispatcher
    // starts a new one at its next discovery) rather than the shutdown that awaits it.
    this.done = this.#run().catch((error) => this.#warn(error, "push: the delivery loop failed"));
  }

  get name(): string {
    return this.#subscription.name;
  }

  get url(): string {
    return this.#subscription.delivery.url;
  }

  get isRunning(): boolean {
    return !this.#stopping.signal.aborted && !this.#isDeleted;
  }

  /** Takes a changed definition (URL, batch size, timeout, backoff); the next round uses it. */
  update(subscription: SubscriptionInfo & { delivery: PushDelivery }): void {
    this.#subscription = subscription;
    this.#updated.resolve();
    this.#updated = deferred();
  }

  /**
   * Stops polling; POSTs under way get `graceMs` to finish before they are aborted (an aborted
   * batch is not counted as failed). Resolves once the loop has left the group.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping.abort();
    const timer = setTimeout(() => this.#aborting.abort(), graceMs);
    try {
      await this.done;
    } finally {
      clearTimeout(timer);
    }
  }

  async #run(): Promise<void> {
    const { subscriptions, consumer } = this.#options;
    const signal = this.#stopping.signal;
    let storeFailures = 0;
    // The predecessor leaves with this process's consumer id: leaving after this loop polled would
    // hand back this loop's batches.
    await this.#options.after;
    while (this.isRunning) {
      const subscription = this.#subscription;
      const breaker = this.#options.breakerFor(subscription.delivery.url);
      const permit = breaker.permit();
      if (permit.kind === "wait") {
        await pause(permit.ms, signal, Promise.race([breaker.changed(), this.#updated.promise]));
        continue;
      }
      let events: DeliveredEvent[];
      try {
        const max = permit.kind === "probe" ? 1 : (subscription.delivery.batchSize ?? 100);
        const polled = await subscriptions.poll(subscription.name, {
          consumer,
          max,
          waitMs: this.#options.pollWaitMs,
          signal,
        });
        events = polled.events;
        storeFailures = 0;
      } catch (error) {
        if (permit.kind === "probe") breaker.releaseProbe();
        if (this.#isGone(error)) break;
        storeFailures++;
        this.#warn(error, "push: poll failed; trying again");
        await pause(storeRetryDelay(storeFailures), signal);
        continue;
      }
      // After a stop, a batch polled but not sent goes back to the group when the loop leaves.
      if (events.length === 0 || !this.isRunning) {
        if (permit.kind === "probe") breaker.releaseProbe();
        continue;
      }
      // The definition may have changed during the long-poll: send with the current one, under its
      // endpoint's breaker (a batch for a new endpoint goes out only while that breaker is closed).
      const current = this.#subscription;
      const currentBreaker = this.#options.breakerFor(current.delivery.url);
      if (currentBreaker !== breaker && permit.kind === "probe") breaker.releaseProbe();
      const sendPermit: BreakerPermit = currentBreaker === breaker ? permit : { kind: "send" };
      await this.#deliverRound(current, events, sendPermit, currentBreaker);
    }
    if (!this.#isDeleted) await this.#leave();
  }

  async #deliverRound(
    subscription: SubscriptionInfo & { delivery: PushDelivery },
    events: DeliveredEvent[],
    permit: BreakerPermit,
    breaker: CircuitBreaker,
  ): Promise<void> {
    // POSTs may outlast the lease the poll renewed; heartbeats keep the partitions meanwhile.
    const heartbeat = setInterval(
      () => {
        this.#options.subscriptions.heartbeat(subscription.name, this.#options.consumer).catch(() => {});
      },
      Math.max(subscription.leaseMs / 3, 100),
    );
    try {
      const outcomes = await Promise.all(
        groupByPartition(events).map((batch) => this.#deliverBatch(subscription, batch, permit, breaker)),
      );
      if (permit.kind === "probe" && outcomes.includes("held back")) breaker.releaseProbe();
      if (outcomes.includes("held back") && this.isRunning) await this.#leave();
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** POSTs one partition's batch and settles it; `held back` when it was not sent. */
  async #deliverBatch(
    subscription: SubscriptionInfo & { delivery: PushDelivery },
    batch: DeliveredEvent[],
    permit: BreakerPermit,
    breaker: CircuitBreaker,
  ): Promise<"settled" | "held back"> {
    if (!this.isRunning || !breaker.isSendAllowed(permit)) return "held back";
    const started = performance.now();
    const outcome = await postBatch({
      url: subscription.delivery.url,
      subscription: subscription.name,
      events: batch,
      timeoutMs: subscription.delivery.timeoutMs ?? 10_000,
      signal: this.#aborting.signal,
    });
    if (outcome.kind === "aborted") return "held back";
    const seconds = (performance.now() - started) / 1000;
    this.#options.observer?.posted(subscription.name, outcome.kind, batch.length, seconds);
    const ids = batch.map((event) => event.id);
    if (outcome.kind === "delivered") {
      breaker.succeeded();
      await this.#settle(() =>
        this.#options.subscriptions.ack(subscription.name, this.#options.consumer, ids),
      );
    } else {
      breaker.failed(subscription.backoff, permit);
      await this.#settle(() =>
        this.#options.subscriptions.nack(subscription.name, this.#options.consumer, ids, {
          error: outcome.error,
        }),
      );
    }
    return "settled";
  }

  /**
   * Records an ack or nack. `delivery-not-held` means the partition moved or was reset meanwhile:
   * nothing to record. A store error is tried again a few times, then left to the ack timeout.
   */
  async #settle(record: () => Promise<unknown>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await record();
        return;
      } catch (error) {
        if (isDeliveryNotHeld(error) || this.#isGone(error)) return;
        if (attempt >= settleAttempts) {
          this.#warn(error, "push: could not record a delivery; the ack timeout will redeliver it");
          return;
        }
        await pause(storeRetryDelay(attempt), this.#aborting.signal);
      }
    }
  }

  /** Leaves the group, so that unacknowledged events go out again at once (uncounted). */
  async #leave(): Promise<void> {
    try {
      await this.#options.subscriptions.leave(this.#subscription.name, this.#options.consumer);
    } catch (error) {
      if (!this.#isGone(error)) this.#warn(error, "push: could not leave; the lease will expire instead");
    }
  }

  /** A subscription that is not found was deleted: the loop has nothing left to do. */
  #isGone(error: unknown): boolean {
    if (isTributaryError(error) && error.code === "subscription-not-found") {
      this.#isDeleted = true;
    }
    return this.#isDeleted;
  }

  #warn(error: unknown, message: string): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.#options.log?.warn({ subscription: this.#subscription.name, err: reason }, message);
  }
}
