import { isNotFound, type SubscriptionStatus } from "@tributary/protocol";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { AppendObserver, Bus } from "../bus.js";
import type { StoreObserver } from "../store/store-observer.js";
import type { DeliveryObserver } from "../subscriptions/subscription-service.js";

interface LagReading {
  samples: { labels: { subscription: string; topic: string; partition: string }; lag: number }[];
  /** False when the store failed before every subscription was read. */
  isComplete: boolean;
}

/**
 * The lag of every partition of every subscription. A subscription deleted between the list and
 * its status has no lag to report; any other failure (the store is unavailable) ends the reading
 * as incomplete, with what was read so far, rather than failing the whole scrape: the counters
 * of this process stay visible through an outage.
 */
async function readLag(bus: Bus): Promise<LagReading> {
  const samples: LagReading["samples"] = [];
  try {
    for (const subscription of await bus.subscriptions.list()) {
      let status: SubscriptionStatus;
      try {
        status = await bus.subscriptions.status(subscription.name);
      } catch (error) {
        if (isNotFound(error)) continue;
        throw error;
      }
      for (const partition of status.partitions) {
        const labels = {
          subscription: status.name,
          topic: status.topic,
          partition: String(partition.partition),
        };
        samples.push({ labels, lag: partition.lag });
      }
    }
    return { samples, isComplete: true };
  } catch {
    return { samples, isComplete: false };
  }
}

/** The Prometheus metrics of one bus process. */
export interface BusMetrics {
  readonly registry: Registry;
  /** Pass to `createBus({ appendObserver })`. */
  readonly appendObserver: AppendObserver;
  /** Pass to `createBus({ deliveryObserver })`. */
  readonly deliveryObserver: DeliveryObserver;
  /** Counts the store's failed write-behinds; pass its method in `openStore(url, { observer })`. */
  readonly storeObserver: Pick<StoreObserver, "writeBehindFailed">;
  /** Reads subscription lag from this bus at each scrape. */
  watch(bus: Bus): void;
}

export interface MetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop lag, GC). Default true. */
  processMetrics?: boolean;
}

/**
 * Creates the metrics of a bus process in a registry of its own (several buses in one process,
 * as in tests, do not collide). Subscription lag is read from the store when scraped, so it is
 * exact across bus processes sharing a PostgreSQL; the counters are this process's.
 *
 * @example
 * const metrics = createMetrics();
 * const bus = createBus({ store, appendObserver: metrics.appendObserver, deliveryObserver: metrics.deliveryObserver });
 * metrics.watch(bus);
 * const text = await metrics.registry.metrics();
 */
export function createMetrics(options: MetricsOptions = {}): BusMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "tributary_" });
  let watched: Bus | undefined;

  const appendRequests = new Counter({
    name: "tributary_append_requests_total",
    help: "Append requests that committed, by topic and whether they were an idempotent replay.",
    labelNames: ["topic", "replayed"] as const,
    registers: [registry],
  });
  const appendedEvents = new Counter({
    name: "tributary_appended_events_total",
    help: "Events in committed append requests, by topic (replays included).",
    labelNames: ["topic"] as const,
    registers: [registry],
  });
  const commitSeconds = new Histogram({
    name: "tributary_commit_duration_seconds",
    help: "Duration of one group-commit transaction, from submission to the store until COMMIT returned.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const groupEvents = new Histogram({
    name: "tributary_commit_group_events",
    help: "Events committed together in one group-commit transaction.",
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 10000],
    registers: [registry],
  });
  const deliveries = new Counter({
    name: "tributary_deliveries_total",
    help: "Events delivered to consumers (pull, SSE and push), first attempts and redeliveries.",
    labelNames: ["subscription"] as const,
    registers: [registry],
  });
  const redeliveries = new Counter({
    name: "tributary_redeliveries_total",
    help: "Events delivered again after a nack, an ack timeout, a lost lease or a redrive.",
    labelNames: ["subscription"] as const,
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: "tributary_dead_letters_total",
    help: "Events moved to a subscription's dead letters.",
    labelNames: ["subscription"] as const,
    registers: [registry],
  });
  const writeBehindFailures = new Counter({
    name: "tributary_subscription_write_failures_total",
    help: "Transactions of subscription state written behind to the SQLite file that failed; their updates were lost and their events are delivered again.",
    registers: [registry],
  });
  // Both gauges below share one reading of the store per scrape: prom-client calls every
  // metric's collect in the same tick, so the second call finds the reading the first one started.
  let reading: Promise<LagReading> | undefined;
  const readLagOnce = (bus: Bus) => {
    reading ??= readLag(bus).finally(() => {
      reading = undefined;
    });
    return reading;
  };
  new Gauge({
    name: "tributary_subscription_lag",
    help: "Events of a partition not yet done by a subscription (head minus checkpoint), read at scrape time.",
    labelNames: ["subscription", "topic", "partition"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (watched === undefined) return;
      for (const sample of (await readLagOnce(watched)).samples) this.set(sample.labels, sample.lag);
    },
  });
  new Gauge({
    name: "tributary_subscription_lag_up",
    help: "1 when this scrape read every subscription's lag from the store; 0 when the store failed: the lag of the subscriptions it could not read is then left out, never reported as zero.",
    registers: [registry],
    async collect() {
      this.set(watched === undefined || (await readLagOnce(watched)).isComplete ? 1 : 0);
    },
  });

  return {
    registry,
    appendObserver: {
      groupCommitted(seconds, _commands, events) {
        commitSeconds.observe(seconds);
        groupEvents.observe(events);
      },
      appended(topic, events, replayed) {
        appendRequests.inc({ topic, replayed: String(replayed) });
        appendedEvents.inc({ topic }, events);
      },
    },
    deliveryObserver: {
      delivered(subscription, events, redelivered) {
        deliveries.inc({ subscription }, events);
        if (redelivered > 0) redeliveries.inc({ subscription }, redelivered);
      },
      deadLettered(subscription, events) {
        deadLetters.inc({ subscription }, events);
      },
    },
    storeObserver: {
      writeBehindFailed() {
        writeBehindFailures.inc();
      },
    },
    watch(bus) {
      watched = bus;
    },
  };
}
