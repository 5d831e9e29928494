import type { DeliveredEvent, SubscriptionInfo } from "@tributary/protocol";
import type { CachedEvent } from "./event-cache.js";
import { desiredOwner, expirePartition, liveConsumers, rebalanceFor } from "./leases.js";
import { checkpointOf } from "./partition-state.js";
import type {
  ConsumerState,
  DeadLetterRecord,
  PartitionState,
  PendingDelivery,
  SubscriptionState,
  SubscriptionUpdate,
} from "./subscription-store.js";

/**
 * Reads events of one partition of the subscription's topic from an offset, in offset order: at
 * most `limit`, and about `maxBytes` of JSON, but at least one when there is one.
 */
export type PartitionReader = (
  partition: number,
  fromOffset: number,
  limit: number,
  maxBytes: number,
) => Promise<CachedEvent[]>;

export interface PollResult {
  /**
   * The delivered events as objects, built on first access (parsing each event's JSON once per
   * process): the HTTP pull path sends `eventsJson` and never builds them.
   */
  readonly events: DeliveredEvent[];
  /** Each delivered event as UTF-8 JSON with its attempt, from the store's text, never parsed. */
  eventsJson: DeliveredJson[];
  /** The partitions leased to the consumer after this poll. */
  partitions: number[];
  /** Leased partitions with no batch in flight and nothing to deliver: a commit to one is news. */
  waitingForEvents: number[];
  /** Delivered again (after a failure or a redrive), for the metrics. */
  redelivered: number;
  deadLettered: number;
  /** When something may become deliverable without a commit (a retry, a timeout, a handover). */
  recheckInMs: number | undefined;
}

/** How long to wait before looking again for a partition that another instance is handing over. */
const handoverRecheckMs = 200;

/**
 * Applies the clock and the consumer's heartbeat to the state, brings its leases towards an even
 * share, and delivers from each of its partitions that has no batch in flight: first the pending
 * deliveries (failed or redriven) once their retry time has come, then new events from the cursor,
 * skipping those the type filter excludes. At most `max` events in all, and no more than
 * `maxBytes` of their JSON, except that the first event is delivered whatever its size. Partitions
 * are read one after the other, each within what the ones before left of both budgets, so that a
 * poll holds no more than its budget (and one event) in memory.
 */
export async function pollOnce(
  state: SubscriptionState,
  consumer: string,
  max: number,
  maxBytes: number,
  read: PartitionReader,
): Promise<SubscriptionUpdate<PollResult>> {
  const { now, subscription } = state;
  // The lease is renewed once half of it has passed, not on every poll: a poll that finds nothing
  // to deliver then writes nothing.
  const known = state.consumers.find((entry) => entry.id === consumer);
  const isRenewed = known === undefined || known.expiresAt - now < subscription.leaseMs / 2;
  const expiresAt = isRenewed ? now + subscription.leaseMs : (known as ConsumerState).expiresAt;
  const consumers = state.consumers.filter((entry) => entry.id !== consumer);
  consumers.push({ id: consumer, expiresAt });
  const live = liveConsumers(consumers, now);
  const liveSet = new Set(live);
  const deadLetters: DeadLetterRecord[] = [];
  const changed = new Map<number, PartitionState>();
  let recheckAt = Number.POSITIVE_INFINITY;

  const partitions = state.partitions.map((original) => {
    const expired = expirePartition(subscription, original, liveSet, now);
    deadLetters.push(...expired.deadLetters);
    const current = rebalanceFor(expired.partition, consumer, live, expiresAt);
    if (current !== original) changed.set(current.partition, current);
    if (desiredOwner(current.partition, live) === consumer && current.owner !== consumer) {
      recheckAt = Math.min(recheckAt, now + handoverRecheckMs);
    }
    return current;
  });

  const owned = partitions.filter((partition) => partition.owner === consumer);
  const ready = owned.filter((partition) => {
    if (partition.pending.some((entry) => entry.outstanding)) {
      recheckAt = Math.min(recheckAt, partition.ackDeadline);
      return false;
    }
    if (partition.pending.length > 0 && partition.retryAt > now) {
      recheckAt = Math.min(recheckAt, partition.retryAt);
      return false;
    }
    return true;
  });

  // Start at a different partition each poll so that a small `max` does not starve the last ones.
  const start = ready.length === 0 ? 0 : Math.floor(Math.random() * ready.length);
  const order = ready.map((_, index) => ready[(start + index) % ready.length] as PartitionState);
  const perPartition = Math.max(Math.ceil(max / Math.max(order.length, 1)), Math.min(max, 50));

  const deliveries: Delivery[] = [];
  const eventsJson: DeliveredJson[] = [];
  const waitingForEvents: number[] = [];
  let redelivered = 0;
  let bytes = 0;
  for (const partition of order) {
    const budget: Budget = {
      count: max - deliveries.length,
      bytes: maxBytes - bytes,
      isFirst: deliveries.length === 0,
    };
    const isSpent = budget.count <= 0 || (!budget.isFirst && budget.bytes <= 0);
    const batch = isSpent
      ? { pendingEvents: new Map(), fresh: [] }
      : await readForDelivery(partition, Math.min(perPartition, budget.count), budget.bytes, read);
    const delivered = deliverFrom(subscription, partition, batch, budget, now);
    if (delivered.partition !== partition) changed.set(partition.partition, delivered.partition);
    if (delivered.deliveries.length === 0) {
      waitingForEvents.push(partition.partition);
      // Events the type filter skipped moved the cursor, but more may follow right after them: look
      // again at once rather than wait for a commit that may never come.
      if (delivered.partition.cursor !== partition.cursor) recheckAt = now;
    }
    redelivered += delivered.redelivered;
    for (const delivery of delivered.deliveries) {
      deliveries.push(delivery);
      bytes += delivery.cached.row.openJson.length;
      eventsJson.push(withAttempt(delivery.cached, delivery.attempt));
    }
  }
  let events: DeliveredEvent[] | undefined;

  const leased = partitions.filter((partition) => partition.owner === consumer).map((p) => p.partition);
  return {
    result: {
      get events() {
        events ??= deliveries.map(({ cached, attempt }) => ({ ...cached.event, attempt }));
        return events;
      },
      eventsJson,
      partitions: leased,
      waitingForEvents,
      redelivered,
      deadLettered: deadLetters.length,
      recheckInMs: Number.isFinite(recheckAt) ? Math.max(recheckAt - now, 1) : undefined,
    },
    partitions: [...changed.values()],
    ...(isRenewed ? { upsertConsumers: [{ id: consumer, expiresAt }] } : {}),
    // Expired instances go, except the one polling: it is live again from this poll on.
    deleteConsumers: state.consumers
      .filter((entry) => entry.expiresAt <= now && entry.id !== consumer)
      .map((entry) => entry.id),
    insertDeadLetters: deadLetters,
    mayLoseOnCrash: true,
  };
}

/** One event handed to the consumer by this poll, with the attempt it is. */
interface Delivery {
  cached: CachedEvent;
  attempt: number;
}

interface PartitionBatch {
  /** Events of pending deliveries, by offset. */
  pendingEvents: Map<number, CachedEvent>;
  /** New events from the cursor, in offset order. */
  fresh: CachedEvent[];
}

/** The widest span of offsets read at once to send pending deliveries again. */
const maxPendingSpan = 1000;

/** What is left of a poll's budgets for the next partition. */
interface Budget {
  count: number;
  bytes: number;
  /** Nothing was delivered yet: the next event goes out whatever its size. */
  isFirst: boolean;
}

async function readForDelivery(
  partition: PartitionState,
  limit: number,
  maxBytes: number,
  read: PartitionReader,
): Promise<PartitionBatch> {
  const pendingEvents = new Map<number, CachedEvent>();
  const pending = partition.pending.slice(0, limit);
  const first = pending[0];
  let bytes = 0;
  if (first !== undefined) {
    const last = pending[pending.length - 1] as PendingDelivery;
    const span = Math.min(last.offset - first.offset + 1, maxPendingSpan);
    const wanted = new Set(pending.map((entry) => entry.offset));
    for (const cached of await read(partition.partition, first.offset, span, maxBytes)) {
      if (!wanted.has(cached.row.offset)) continue;
      pendingEvents.set(cached.row.offset, cached);
      bytes += cached.row.openJson.length;
    }
  }
  const room = limit - pending.length;
  // New events only while the budget lasts: the pending ones go first.
  const fresh =
    room > 0 && bytes < maxBytes
      ? await read(partition.partition, partition.cursor, room, maxBytes - bytes)
      : [];
  return { pendingEvents, fresh };
}

/**
 * A delivered event's JSON in two pieces that are sent one after the other: the stored event's open
 * JSON, shared by every subscription that delivers it, and `,"attempt":N}`.
 */
export type DeliveredJson = readonly [event: Buffer, attemptAndEnd: Buffer];

/** `,"attempt":N}` for the attempts seen so far: most deliveries are first or early attempts. */
const attemptEnds: Buffer[] = [];

function withAttempt(cached: CachedEvent, attempt: number): DeliveredJson {
  let end = attemptEnds[attempt];
  if (end === undefined) {
    end = Buffer.from(`,"attempt":${attempt}}`);
    if (attempt < 1024) attemptEnds[attempt] = end;
  }
  return [cached.row.openJson, end];
}

function deliverFrom(
  subscription: SubscriptionInfo,
  partition: PartitionState,
  batch: PartitionBatch,
  budget: Budget,
  now: number,
): { partition: PartitionState; deliveries: Delivery[]; redelivered: number } {
  const deliveries: Delivery[] = [];
  const pending: PendingDelivery[] = [];
  let redelivered = 0;
  let bytes = 0;
  /** Whether `cached` fits in what is left of the budget, and if so counts it. */
  const fits = (cached: CachedEvent): boolean => {
    if (deliveries.length >= budget.count) return false;
    const size = cached.row.openJson.length;
    if (bytes + size > budget.bytes && !(budget.isFirst && deliveries.length === 0)) return false;
    bytes += size;
    return true;
  };
  for (const entry of partition.pending) {
    const cached = batch.pendingEvents.get(entry.offset);
    if (cached !== undefined && fits(cached)) {
      deliveries.push({ cached, attempt: entry.failures + 1 });
      pending.push({ ...entry, outstanding: true });
      redelivered++;
    } else {
      pending.push(entry);
    }
  }
  let cursor = partition.cursor;
  const types = subscription.types === null ? undefined : new Set(subscription.types);
  for (const cached of batch.fresh) {
    const { row } = cached;
    if (row.offset !== cursor) break;
    if (types !== undefined && !types.has(row.type)) {
      cursor++;
      continue;
    }
    if (!fits(cached)) break;
    deliveries.push({ cached, attempt: 1 });
    pending.push({ offset: row.offset, id: row.id, failures: 0, outstanding: true });
    cursor++;
  }
  if (deliveries.length === 0 && cursor === partition.cursor) {
    return { partition, deliveries, redelivered };
  }
  const next: PartitionState = {
    ...partition,
    cursor,
    pending,
    ackDeadline: deliveries.length > 0 ? now + subscription.ackTimeoutMs : partition.ackDeadline,
    retryAt: 0,
  };
  next.checkpoint = checkpointOf(next);
  return { partition: next, deliveries, redelivered };
}
