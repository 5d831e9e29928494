import { randomBytes } from "node:crypto";
import type { SubscriptionInfo, SubscriptionStatus } from "@tributary/protocol";
import type { Subscriptions } from "../subscription-service.js";
import { CircuitBreaker, endpointOf } from "./circuit-breaker.js";
import type { PushLogger, PushObserver } from "./push-hooks.js";
import { isPushSubscription, PushLoop } from "./push-loop.js";

export interface PushDispatcherOptions {
  subscriptions: Subscriptions;
  /** This process's consumer id in every push subscription (default `push-` and 12 random hex digits). */
  consumer?: string;
  /** How often the subscriptions are listed to find new, changed and deleted ones (default 1 s). */
  discoveryIntervalMs?: number;
  /** Long-poll wait of each poll (default 5 s). */
  pollWaitMs?: number;
  /** How long `stop` lets POSTs under way finish before aborting them (default 5 s). */
  stopGraceMs?: number;
  observer?: PushObserver;
  log?: PushLogger;
}

/** Push delivery of every push subscription, from this bus process. */
export interface PushDispatcher {
  /** The consumer id this process uses in push subscriptions. */
  readonly consumer: string;
  /**
   * Takes a definition this process just stored (`undefined`: deleted) without waiting for the next
   * discovery, so that a new push subscription starts at once.
   */
  changed(name: string, subscription: SubscriptionInfo | undefined): void;
  /**
   * Lists the subscriptions now: starts, updates and stops loops to match. Never rejects: a failure
   * is logged, and the next discovery tries again.
   */
  refresh(): Promise<void>;
  /**
   * The breaker of the endpoint `name` pushes to, for its status; `undefined` when this process does
   * not push that subscription (a pull subscription, or one not discovered yet).
   */
  breakerStatus(name: string): SubscriptionStatus["push"];
  /**
   * Stops discovery and every loop: polls end, POSTs under way get the grace period, and each loop
   * leaves its group so that what was not acknowledged goes out again at once. Idempotent.
   */
  stop(): Promise<void>;
}

/**
 * Starts push delivery: discovers push subscriptions (at once, then every `discoveryIntervalMs`)
 * and runs one `PushLoop` each, all under one consumer id, with one circuit breaker per endpoint.
 * Every bus process runs one; the leases share the partitions among them.
 *
 * @example
 * const dispatcher = createPushDispatcher({ subscriptions: bus.subscriptions });
 * // … on shutdown, before the bus closes:
 * await dispatcher.stop();
 */
export function createPushDispatcher(options: PushDispatcherOptions): PushDispatcher {
  const { subscriptions } = options;
  const consumer = options.consumer ?? `push-${randomBytes(6).toString("hex")}`;
  const discoveryIntervalMs = options.discoveryIntervalMs ?? 1_000;
  const stopGraceMs = options.stopGraceMs ?? 5_000;
  const loops = new Map<string, PushLoop>();
  /** Loops on their way out, so that a successor under the same name starts after they left. */
  const leaving = new Map<string, Promise<void>>();
  const breakers = new Map<string, CircuitBreaker>();
  /**
   * Counts the changes heard through `changed`; a listing that began before a subscription's latest
   * change must not undo it (a DELETE racing a discovery would otherwise restart its loop).
   */
  let changes = 0;
  const changedAt = new Map<string, number>();
  let isStopped = false;
  let timer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> = Promise.resolve();
  let stopping: Promise<void> | undefined;

  function breakerFor(url: string): CircuitBreaker {
    const endpoint = endpointOf(url);
    let breaker = breakers.get(endpoint);
    if (breaker === undefined) {
      breaker = new CircuitBreaker({
        onChange: (state) => options.observer?.breakerChanged(endpoint, state),
      });
      breakers.set(endpoint, breaker);
    }
    return breaker;
  }

  function stopLoop(loop: PushLoop): void {
    loops.delete(loop.name);
    const left = loop.stop(stopGraceMs).finally(() => {
      if (leaving.get(loop.name) === left) leaving.delete(loop.name);
    });
    leaving.set(loop.name, left);
  }

  /** Starts, updates or stops the loop of one subscription to match its definition. */
  function apply(name: string, subscription: SubscriptionInfo | undefined): void {
    if (isStopped) return;
    const loop = loops.get(name);
    if (loop !== undefined && !loop.isRunning) loops.delete(name);
    const current = loops.get(name);
    if (subscription === undefined || !isPushSubscription(subscription)) {
      if (current !== undefined) stopLoop(current);
      return;
    }
    if (current !== undefined) {
      current.update(subscription);
      return;
    }
    const predecessor = leaving.get(name);
    const started = new PushLoop({
      subscriptions,
      subscription,
      consumer,
      breakerFor,
      pollWaitMs: options.pollWaitMs ?? 5_000,
      ...(predecessor === undefined ? {} : { after: predecessor }),
      ...(options.observer === undefined ? {} : { observer: options.observer }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    loops.set(name, started);
    // A loop ends by itself when its subscription is deleted: forget it then.
    started.done.then(() => {
      if (loops.get(name) === started) loops.delete(name);
    });
  }

  async function discover(): Promise<void> {
    const listedAfter = changes;
    let listed: SubscriptionInfo[];
    try {
      listed = await subscriptions.list();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      options.log?.warn({ err: reason }, "push: could not list the subscriptions; trying again");
      return;
    }
    const isStale = (name: string) => (changedAt.get(name) ?? 0) > listedAfter;
    const byName = new Map(listed.map((subscription) => [subscription.name, subscription]));
    for (const name of [...loops.keys()]) {
      if (!byName.has(name) && !isStale(name)) apply(name, undefined);
    }
    for (const [name, subscription] of byName) if (!isStale(name)) apply(name, subscription);
  }

  function refresh(): Promise<void> {
    // One listing at a time: an older answer must not undo what a newer one applied. The chain
    // never stays rejected: an unexpected failure would otherwise end discovery for good.
    refreshing = refreshing
      .then(() => (isStopped ? undefined : discover()))
      .catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        options.log?.warn({ err: reason }, "push: discovering the subscriptions failed; trying again");
      });
    return refreshing;
  }

  function schedule(): void {
    timer = setTimeout(() => {
      refresh().finally(() => {
        if (!isStopped) schedule();
      });
    }, discoveryIntervalMs);
  }

  refresh().finally(() => {
    if (!isStopped) schedule();
  });

  return {
    consumer,
    refresh,

    changed(name, subscription) {
      changedAt.set(name, ++changes);
      apply(name, subscription);
    },

    breakerStatus(name) {
      const loop = loops.get(name);
      return loop === undefined ? undefined : { breaker: breakerFor(loop.url).status() };
    },

    stop() {
      stopping ??= (async () => {
        isStopped = true;
        clearTimeout(timer);
        for (const loop of [...loops.values()]) stopLoop(loop);
        await refreshing;
        await Promise.all([...leaving.values()]);
      })();
      return stopping;
    },
  };
}
